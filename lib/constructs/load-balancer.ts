import { DataAwsElbServiceAccount } from "@cdktf/provider-aws/lib/data-aws-elb-service-account";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { SLOTS, type Slot } from "../config/schema.ts";
import { skipCheck } from "../policy/checkov-skip.ts";
import { loadBalancerName, SLOT_HEADER, targetGroupName } from "./naming.ts";
import { SecureBucket } from "./secure-bucket.ts";

export { loadBalancerName, SLOT_HEADER, slotOfTargetGroupArn, targetGroupName } from "./naming.ts";

/** Modern TLS policy: TLS 1.3 with TLS 1.2 fallback. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export interface LoadBalancerProps {
  /** Prefix of every resource name, e.g. `dev`. */
  readonly namePrefix: string;
  readonly vpcId: string;
  /** VPC CIDR: the ALB may only talk to targets inside it. */
  readonly vpcCidr: string;
  /** Public subnets the ALB is placed in. */
  readonly publicSubnetIds: string[];
  /** Port the application listens on. */
  readonly appPort: number;
  /** Health-check path of the target groups. @default "/health" */
  readonly healthCheckPath?: string;
  /** ACM certificate: HTTPS on 443 and HTTP redirected to it. @default plain HTTP on 80 */
  readonly certificateArn?: string;
  /** Port each slot's targets receive traffic on (EKS: the slot's NodePort). @default appPort for both */
  readonly targetPorts?: Record<Slot, number>;
  /** Protect the ALB from deletion. @default true */
  readonly deletionProtection?: boolean;
  /** Days to keep access logs. @default 90 */
  readonly accessLogRetentionDays?: number;
  /** Allow `destroy` to remove a non-empty access-log bucket. @default false */
  readonly forceDestroyLogs?: boolean;
}

/**
 * Internet-facing ALB with a blue and a green target group. The weighted rule that splits the
 * traffic is NOT here: it lives in the traffic stack (see {@link WeightedRouting}), so a shift
 * never touches this stack. What is here: HTTPS (or HTTP) listener with a 404 default, the
 * HTTP→HTTPS redirect, and one test route per slot selected by {@link SLOT_HEADER}.
 */
export class LoadBalancer extends Construct {
  readonly alb: Lb;
  readonly securityGroup: SecurityGroup;
  /** The listener carrying the application routes (HTTPS when a certificate is given). */
  readonly listener: LbListener;
  readonly targetGroups: Record<Slot, LbTargetGroup>;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const p = props.namePrefix;
    const https = props.certificateArn !== undefined;
    const targetPorts = props.targetPorts ?? { blue: props.appPort, green: props.appPort };

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${p}-alb`,
      description: `Internet-facing ALB of ${p}`,
      vpcId: props.vpcId,
      tags: { Name: `${p}-alb` },
    });
    const plainHttp = "no certificate in the environment file (certificateArn): this development ALB serves plain HTTP";
    for (const port of https ? [80, 443] : [80]) {
      const ingress = new VpcSecurityGroupIngressRule(this, `in-${port}`, {
        securityGroupId: this.securityGroup.id,
        description: `HTTP${port === 443 ? "S" : ""} from the internet`,
        cidrIpv4: "0.0.0.0/0",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
      });
      if (port === 80)
        skipCheck(
          ingress,
          "CKV_AWS_260",
          https ? "port 80 is open to the internet only to answer with a redirect to HTTPS" : plainHttp,
        );
    }
    new VpcSecurityGroupEgressRule(this, "out-app", {
      securityGroupId: this.securityGroup.id,
      description: "To the application targets in the VPC",
      cidrIpv4: props.vpcCidr,
      ipProtocol: "tcp",
      fromPort: Math.min(...SLOTS.map((s) => targetPorts[s])),
      toPort: Math.max(...SLOTS.map((s) => targetPorts[s])),
    });

    const elbAccount = new DataAwsElbServiceAccount(this, "elb-account");
    const logs = new SecureBucket(this, "access-logs", {
      bucketName: `${p}-alb-access-logs`,
      versioned: false,
      expireAfterDays: props.accessLogRetentionDays ?? 90,
      forceDestroy: props.forceDestroyLogs ?? false,
      extraStatements: [
        {
          sid: "AllowAlbLogDelivery",
          actions: ["s3:PutObject"],
          principals: [{ type: "AWS", identifiers: [elbAccount.arn] }],
          resourcePaths: ["/alb/AWSLogs/*"],
        },
      ],
    });
    skipCheck(logs.bucket, "CKV_AWS_145", "ALB access logs are delivered only to SSE-S3 (AES256) buckets, not SSE-KMS");
    skipCheck(
      logs.bucket,
      "CKV_AWS_18",
      "this bucket is the ALB's access-log target; logging it would need another bucket for its own logs",
    );
    skipCheck(
      logs.bucket,
      "CKV_AWS_21",
      "access logs are written once and expire after their retention; versions would keep deleted logs past it",
    );
    skipCheck(
      logs.bucket,
      "CKV_AWS_144",
      "ALB access logs are operational records of this region; they are not part of the recovery plan",
    );

    this.alb = new Lb(this, "alb", {
      name: loadBalancerName(p),
      loadBalancerType: "application",
      internal: false,
      securityGroups: [this.securityGroup.id],
      subnets: props.publicSubnetIds,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      enableDeletionProtection: props.deletionProtection ?? true,
      accessLogs: { bucket: logs.bucket.id, prefix: "alb", enabled: true },
    });
    if (!(props.deletionProtection ?? true))
      skipCheck(
        this.alb,
        "CKV_AWS_150",
        "deletion protection is for production's ALB (set per tier by the environment stack); lower tiers are rebuilt from code",
      );
    if (!https) skipCheck(this.alb, "CKV2_AWS_20", plainHttp);

    this.targetGroups = Object.fromEntries(
      SLOTS.map((slot) => [
        slot,
        new LbTargetGroup(this, `tg-${slot}`, {
          name: targetGroupName(p, slot),
          port: targetPorts[slot],
          protocol: "HTTP",
          targetType: "instance",
          vpcId: props.vpcId,
          deregistrationDelay: "30",
          healthCheck: {
            enabled: true,
            path: props.healthCheckPath ?? "/health",
            matcher: "200",
            interval: 30,
            timeout: 5,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
          },
          tags: { Slot: slot },
        }),
      ]),
    ) as Record<Slot, LbTargetGroup>;
    for (const slot of SLOTS)
      skipCheck(
        this.targetGroups[slot],
        "CKV_AWS_378",
        "TLS ends at the ALB; targets sit in private subnets and accept traffic only from the ALB's security group",
      );

    const notFound = {
      type: "fixed-response",
      fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "no route" },
    };
    this.listener = new LbListener(this, https ? "https" : "http", {
      loadBalancerArn: this.alb.arn,
      port: https ? 443 : 80,
      protocol: https ? "HTTPS" : "HTTP",
      ...(https ? { sslPolicy: TLS_POLICY, certificateArn: props.certificateArn } : {}),
      defaultAction: [notFound],
    });
    if (!https) {
      skipCheck(this.listener, "CKV_AWS_2", plainHttp);
      skipCheck(this.listener, "CKV_AWS_103", plainHttp);
    }
    if (https) {
      new LbListener(this, "http-redirect", {
        loadBalancerArn: this.alb.arn,
        port: 80,
        protocol: "HTTP",
        defaultAction: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
      });
    }

    // Test routes: reach a slot before (or without) it getting any weighted traffic.
    SLOTS.forEach((slot, i) => {
      new LbListenerRule(this, `test-route-${slot}`, {
        listenerArn: this.listener.arn,
        priority: 10 + i,
        condition: [{ httpHeader: { httpHeaderName: SLOT_HEADER, values: [slot] } }],
        action: [{ type: "forward", targetGroupArn: this.targetGroups[slot].arn }],
        tags: { Name: `${p}-test-route-${slot}`, Slot: slot },
      });
    });
  }
}
