import { Construct } from "constructs";
import { Fn } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { SLOTS, type Slot } from "../config/schema.ts";
import { assumeRolePolicy } from "./iam.ts";
import { imageReference } from "./image.ts";

/** Amazon Linux 2023 AMI, resolved through the public SSM parameter at plan time. */
export const AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

export interface Ec2SlotProps {
  /** Image tag the slot runs; `null` leaves the slot empty (scaled to 0). */
  readonly version: string | null;
  /** Image digest of that version: the slot runs `<repository>@<digest>`. @default none (`<repository>:<version>`) */
  readonly digest?: string;
  /** Target group the slot's instances register with. */
  readonly targetGroupArn: string;
}

export interface Ec2ComputeProps {
  /** Prefix of every resource name, e.g. `dev`. */
  readonly namePrefix: string;
  /** Private subnets the instances run in. */
  readonly subnetIds: string[];
  /** Security group of the instances (created by the environment, so the database and cache can trust it). */
  readonly securityGroupId: string;
  readonly instanceType: string;
  readonly capacity: { min: number; desired: number; max: number };
  /** CPU target tracking. @default disabled */
  readonly autoScaling?: { enabled: boolean; targetCpuPercent: number };
  /** Image repository; a slot runs `<repository>:<version>`. */
  readonly imageRepository: string;
  readonly appPort: number;
  /** Environment variables of the container. @default none */
  readonly containerEnvironment?: Record<string, string>;
  /** The two slots. */
  readonly slots: Record<Slot, Ec2SlotProps>;
  /** Root volume size, GiB. @default 20 */
  readonly rootVolumeGb?: number;
  /** Managed policies attached to the instance role besides SSM core. @default none */
  readonly extraPolicyArns?: string[];
  /**
   * Tags of the Auto Scaling groups, propagated to their instances: provider default tags do not
   * reach Auto Scaling groups (they carry `tag` blocks), so pass them here. @default none
   */
  readonly tags?: Record<string, string>;
}

/**
 * Per slot: a launch template (IMDSv2 only, encrypted gp3 root volume, user data running the
 * slot's image) and an Auto Scaling group attached to the slot's target group. A slot without a
 * version scales to 0. Rolling instance refresh replaces instances when the version changes.
 */
export class Ec2Compute extends Construct {
  readonly autoScalingGroups: Record<Slot, AutoscalingGroup>;
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: Ec2ComputeProps) {
    super(scope, id);
    const p = props.namePrefix;

    this.role = new IamRole(this, "role", { name: `${p}-app-instance`, assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com") });
    for (const [i, arn] of ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", ...(props.extraPolicyArns ?? [])].entries()) {
      new IamRolePolicyAttachment(this, `policy-${i}`, { role: this.role.name, policyArn: arn });
    }
    const profile = new IamInstanceProfile(this, "profile", { name: `${p}-app-instance`, role: this.role.name });
    const ami = new DataAwsSsmParameter(this, "ami", { name: AMI_PARAMETER });

    this.autoScalingGroups = Object.fromEntries(SLOTS.map((slot) => {
      const { version, digest, targetGroupArn } = props.slots[slot];
      const template = new LaunchTemplate(this, `lt-${slot}`, {
        name: `${p}-app-${slot}`,
        imageId: ami.value,
        instanceType: props.instanceType,
        updateDefaultVersion: true,
        vpcSecurityGroupIds: [props.securityGroupId],
        iamInstanceProfile: { arn: profile.arn },
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "enabled" },
        monitoring: { enabled: true },
        blockDeviceMappings: [{
          deviceName: "/dev/xvda",
          ebs: { volumeSize: props.rootVolumeGb ?? 20, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
        }],
        userData: Fn.base64encode(userData(props.imageRepository, version, props.appPort, props.containerEnvironment ?? {}, digest)),
        tagSpecifications: [{ resourceType: "instance", tags: { Name: `${p}-app-${slot}`, Slot: slot, Version: version ?? "none" } }],
        tags: { Slot: slot },
      });
      const capacity = version === null ? { min: 0, desired: 0, max: 0 } : props.capacity;
      const asg = new AutoscalingGroup(this, `asg-${slot}`, {
        name: `${p}-app-${slot}`,
        vpcZoneIdentifier: props.subnetIds,
        minSize: capacity.min,
        maxSize: capacity.max,
        desiredCapacity: capacity.desired,
        targetGroupArns: [targetGroupArn],
        healthCheckType: "ELB",
        healthCheckGracePeriod: 60,
        launchTemplate: { id: template.id, version: template.latestVersion.toString() },
        instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 90 } },
        tag: Object.entries({ ...props.tags, Slot: slot, Version: version ?? "none" }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        // With auto-scaling on, the policy owns the desired capacity.
        lifecycle: props.autoScaling?.enabled ? { ignoreChanges: ["desired_capacity"] } : undefined,
      });
      if (props.autoScaling?.enabled && version !== null) {
        new AutoscalingPolicy(this, `cpu-target-${slot}`, {
          name: `${p}-app-${slot}-cpu-target`,
          autoscalingGroupName: asg.name,
          policyType: "TargetTrackingScaling",
          targetTrackingConfiguration: {
            predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
            targetValue: props.autoScaling.targetCpuPercent,
          },
        });
      }
      return [slot, asg];
    })) as Record<Slot, AutoscalingGroup>;
  }
}

/** Cloud-init script: install Docker and run the slot's image (by digest when known), restarting on failure. */
export function userData(repository: string, version: string | null, port: number, env: Record<string, string>, digest?: string): string {
  if (version === null) return "#!/bin/bash\n# empty slot: no version deployed\n";
  const envFlags = Object.entries(env).sort().map(([k, v]) => `-e ${k}=${shellQuote(v)}`).join(" ");
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    "dnf install -y docker",
    "systemctl enable --now docker",
    `docker run -d --restart=always --name app -p ${port}:${port} ${envFlags} ${shellQuote(imageReference(repository, version, digest))}`,
    "",
  ].join("\n");
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}
