import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { SLOTS, type Slot } from "../config/schema.ts";
import { skipCheck } from "../policy/checkov-skip.ts";
import { type BootSettings, userData } from "./ec2-user-data.ts";
import { assumeRolePolicy } from "./iam.ts";
import { slotGroupName } from "./naming.ts";
import { SlotParameters } from "./slot-parameters.ts";

/** Amazon Linux 2023 AMI, resolved through the public SSM parameter at plan time. */
export const AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

export interface Ec2SlotProps {
  /** Image tag the slot runs; `null` leaves the slot empty (scaled to 0). */
  readonly version: string | null;
  /** Image digest of that version: the slot runs `<repository>@<digest>`. @default none (`<repository>:<version>`) */
  readonly digest?: string;
  /** Target group the slot's instances register with. */
  readonly targetGroupArn: string;
  /**
   * The application settings the slot was promoted with: published as SSM parameters under
   * `path` and read by the instances at boot. The checksum is part of the launch template, so a
   * settings change replaces the slot's instances like a new version. @default none
   */
  readonly settings?: {
    readonly path: string;
    readonly checksum: string;
    readonly values: Readonly<Record<string, string>>;
  };
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
  /** Region of the SSM parameters the instances read at boot (settings, secret ARNs). */
  readonly region: string;
  /**
   * SSM path prefix (ending in `/`) the instances may read: every slot's settings path and the
   * secret ARNs path must be below it. Stable whatever the slots hold, so an instance never boots
   * before its role may read its settings. @default none (no settings, no secret ARNs)
   */
  readonly parametersPrefix?: string;
  /**
   * The environment's secrets, by name: their ARNs (never values) are published under `path`, one
   * String parameter per secret, and each becomes `<NAME>_SECRET_ARN` in the container, resolved
   * by the application with the instance role. @default none
   */
  readonly secrets?: { readonly path: string; readonly arns: Readonly<Record<string, string>> };
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

    this.role = new IamRole(this, "role", {
      name: `${p}-app-instance`,
      assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"),
    });
    for (const [i, arn] of [
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      ...(props.extraPolicyArns ?? []),
    ].entries()) {
      new IamRolePolicyAttachment(this, `policy-${i}`, { role: this.role.name, policyArn: arn });
    }
    const profile = new IamInstanceProfile(this, "profile", { name: `${p}-app-instance`, role: this.role.name });
    // Before any instance boots: they read their settings and the secret ARNs with it.
    const readParameters = this.grantParameterReads(props);
    const secretArns = Object.entries(props.secrets?.arns ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([name, arn]) =>
          new SsmParameter(this, `secret-arn-${name}`, {
            name: `${props.secrets!.path}${name}`,
            description: `ARN of the secret ${name} (not its value)`,
            type: "String",
            value: arn,
          }),
      );
    for (const parameter of secretArns)
      skipCheck(
        parameter,
        "CKV2_AWS_34",
        "holds a secret's ARN, not its value; a SecureString would put a secret value in Terraform (no-secret-values)",
      );
    const ami = new DataAwsSsmParameter(this, "ami", { name: AMI_PARAMETER });

    this.autoScalingGroups = Object.fromEntries(
      SLOTS.map((slot) => {
        const { version, digest, targetGroupArn, settings } = props.slots[slot];
        const slotSettings = version !== null && settings ? settings : undefined;
        const parameters = slotSettings
          ? Object.values(
              new SlotParameters(this, `settings-${slot}`, {
                path: slotSettings.path,
                values: slotSettings.values,
                checksum: slotSettings.checksum,
                slot,
              }).parameters,
            )
          : [];
        const boot: BootSettings = {
          region: props.region,
          ...(slotSettings
            ? {
                settings: {
                  path: slotSettings.path,
                  checksum: slotSettings.checksum,
                  count: Object.keys(slotSettings.values).length,
                },
              }
            : {}),
          ...(props.secrets ? { secretArnsPath: props.secrets.path } : {}),
        };
        const template = new LaunchTemplate(this, `lt-${slot}`, {
          name: `${p}-app-${slot}`,
          imageId: ami.value,
          instanceType: props.instanceType,
          updateDefaultVersion: true,
          vpcSecurityGroupIds: [props.securityGroupId],
          iamInstanceProfile: { arn: profile.arn },
          metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            httpPutResponseHopLimit: 1,
            instanceMetadataTags: "enabled",
          },
          monitoring: { enabled: true },
          blockDeviceMappings: [
            {
              deviceName: "/dev/xvda",
              ebs: {
                volumeSize: props.rootVolumeGb ?? 20,
                volumeType: "gp3",
                encrypted: "true",
                deleteOnTermination: "true",
              },
            },
          ],
          userData: Fn.base64encode(
            userData(props.imageRepository, version, props.appPort, props.containerEnvironment ?? {}, boot, digest),
          ),
          tagSpecifications: [
            {
              resourceType: "instance",
              tags: {
                Name: `${p}-app-${slot}`,
                Slot: slot,
                Version: version ?? "none",
                ...(slotSettings ? { Settings: slotSettings.checksum } : {}),
              },
            },
          ],
          tags: { Slot: slot },
        });
        const capacity = version === null ? { min: 0, desired: 0, max: 0 } : props.capacity;
        const asg = new AutoscalingGroup(this, `asg-${slot}`, {
          name: slotGroupName(p, slot),
          vpcZoneIdentifier: props.subnetIds,
          minSize: capacity.min,
          maxSize: capacity.max,
          desiredCapacity: capacity.desired,
          targetGroupArns: [targetGroupArn],
          healthCheckType: "ELB",
          healthCheckGracePeriod: 60,
          launchTemplate: { id: template.id, version: template.latestVersion.toString() },
          instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 90 } },
          tag: Object.entries({ ...props.tags, Slot: slot, Version: version ?? "none" }).map(([key, value]) => ({
            key,
            value,
            propagateAtLaunch: true,
          })),
          // With auto-scaling on, the policy owns the desired capacity.
          lifecycle: props.autoScaling?.enabled ? { ignoreChanges: ["desired_capacity"] } : undefined,
          // Instances read their settings at boot: the parameters and the right to read them come first.
          dependsOn: readParameters ? [readParameters, ...parameters, ...secretArns] : undefined,
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
      }),
    ) as Record<Slot, AutoscalingGroup>;
  }

  /** The instance role may read the parameters under the prefix (nothing else in Parameter Store). */
  private grantParameterReads(props: Ec2ComputeProps): IamRolePolicy | undefined {
    const prefix = props.parametersPrefix;
    if (!prefix) return undefined;
    const partition = new DataAwsPartition(this, "partition");
    const account = new DataAwsCallerIdentity(this, "account");
    const arn = (path: string) =>
      `arn:${partition.partition}:ssm:${props.region}:${account.accountId}:parameter${path}`;
    return new IamRolePolicy(this, "read-parameters", {
      role: this.role.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"],
            Resource: [arn(prefix.replace(/\/$/, "")), arn(`${prefix}*`)],
          },
        ],
      }),
    });
  }
}
