import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Construct } from "constructs";
import { subnetCidr } from "../config/cidr.ts";
import { skipCheck } from "../policy/checkov-skip.ts";
import { EncryptionKey } from "./encryption-key.ts";
import { assumeRolePolicy } from "./iam.ts";

export interface NetworkProps {
  /** Prefix of every resource name, e.g. `dev`. */
  readonly namePrefix: string;
  /** VPC CIDR (/16 to /24); subnets are carved as /(prefix+4) blocks. */
  readonly cidr: string;
  /** Availability zones to spread the subnets across. */
  readonly availabilityZones: readonly string[];
  /** `single`: one shared NAT gateway; `per-az`: one per AZ. @default "per-az" */
  readonly natGateways?: "single" | "per-az";
  /** Retention of the VPC flow logs, days. @default 365 */
  readonly flowLogRetentionDays?: number;
}

/** A year: what checkov (CKV_AWS_338) asks of a log group's retention. */
export const ONE_YEAR_DAYS = 365;

/**
 * VPC with public, private (application) and database subnets per AZ, an internet gateway,
 * NAT per the tier, route tables, flow logs of all traffic (encrypted with their own KMS key),
 * and a default security group stripped of every rule.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnetIds: string[];
  readonly privateSubnetIds: string[];
  readonly databaseSubnetIds: string[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const name = (suffix: string) => ({ Name: `${props.namePrefix}-${suffix}` });
    const prefix = Number(props.cidr.split("/")[1]) + 4;
    const azs = props.availabilityZones;

    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: name("vpc"),
    });
    new DefaultSecurityGroup(this, "default-sg", {
      vpcId: this.vpc.id,
      ingress: [],
      egress: [],
      tags: name("default-deny"),
    });

    const subnets = (tier: string, offset: number, isPublic: boolean) =>
      azs.map(
        (az, i) =>
          new Subnet(this, `${tier}-${az}`, {
            vpcId: this.vpc.id,
            availabilityZone: az,
            cidrBlock: subnetCidr(props.cidr, prefix, offset + i),
            mapPublicIpOnLaunch: false,
            tags: {
              ...name(`${tier}-${az}`),
              Tier: tier,
              ...(isPublic ? { "kubernetes.io/role/elb": "1" } : { "kubernetes.io/role/internal-elb": "1" }),
            },
          }),
      );
    const publicSubnets = subnets("public", 0, true);
    const privateSubnets = subnets("private", 4, false);
    const databaseSubnets = subnets("database", 8, false);
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.databaseSubnetIds = databaseSubnets.map((s) => s.id);

    const igw = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: name("igw") });
    const publicRt = new RouteTable(this, "public-rt", { vpcId: this.vpc.id, tags: name("public") });
    new Route(this, "public-default", {
      routeTableId: publicRt.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: igw.id,
    });
    publicSubnets.forEach((s, i) => {
      new RouteTableAssociation(this, `public-assoc-${i}`, { subnetId: s.id, routeTableId: publicRt.id });
    });

    const natCount = (props.natGateways ?? "per-az") === "per-az" ? azs.length : 1;
    const nats = Array.from({ length: natCount }, (_, i) => {
      const eip = new Eip(this, `nat-eip-${i}`, { domain: "vpc", tags: name(`nat-${i}`), dependsOn: [igw] });
      return new NatGateway(this, `nat-${i}`, {
        allocationId: eip.id,
        subnetId: publicSubnets[i]!.id,
        tags: name(`nat-${i}`),
      });
    });
    privateSubnets.forEach((s, i) => {
      const rt = new RouteTable(this, `private-rt-${i}`, { vpcId: this.vpc.id, tags: name(`private-${azs[i]}`) });
      new Route(this, `private-default-${i}`, {
        routeTableId: rt.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: nats[i % natCount]!.id,
      });
      new RouteTableAssociation(this, `private-assoc-${i}`, { subnetId: s.id, routeTableId: rt.id });
    });
    // Database subnets get a route table without any default route: no way out of the VPC.
    const dbRt = new RouteTable(this, "database-rt", { vpcId: this.vpc.id, tags: name("database") });
    databaseSubnets.forEach((s, i) => {
      new RouteTableAssociation(this, `database-assoc-${i}`, { subnetId: s.id, routeTableId: dbRt.id });
    });

    const logGroupName = `/vpc/${props.namePrefix}/flow-logs`;
    const logKey = new EncryptionKey(this, "flow-logs-key", {
      alias: `${props.namePrefix}-flow-logs`,
      description: `VPC flow logs of ${props.namePrefix}`,
      logGroupNames: [logGroupName],
    });
    const retention = props.flowLogRetentionDays ?? ONE_YEAR_DAYS;
    const logGroup = new CloudwatchLogGroup(this, "flow-logs", {
      name: logGroupName,
      retentionInDays: retention,
      kmsKeyId: logKey.key.arn,
    });
    if (retention < ONE_YEAR_DAYS)
      skipCheck(
        logGroup,
        "CKV_AWS_338",
        `flow logs are kept ${retention} days, as the environment file sets (network.flowLogRetentionDays); production keeps a year`,
      );
    const role = new IamRole(this, "flow-logs-role", {
      name: `${props.namePrefix}-vpc-flow-logs`,
      assumeRolePolicy: assumeRolePolicy("vpc-flow-logs.amazonaws.com"),
    });
    new IamRolePolicy(this, "flow-logs-policy", {
      role: role.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: `${logGroup.arn}:*`,
          },
        ],
      }),
    });
    new FlowLog(this, "flow-log", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: name("flow-log"),
    });
  }
}
