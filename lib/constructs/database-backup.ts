import { BackupPlan } from "@cdktf/provider-aws/lib/backup-plan";
import { BackupSelection } from "@cdktf/provider-aws/lib/backup-selection";
import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault";
import { BackupVaultLockConfiguration } from "@cdktf/provider-aws/lib/backup-vault-lock-configuration";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { EncryptionKey } from "./encryption-key.ts";
import { assumeRolePolicy } from "./iam.ts";

const SERVICE_ROLE = "arn:aws:iam::aws:policy/service-role";
/** The only managed policies of the backup role: take backups and restore them. */
export const BACKUP_ROLE_POLICIES = [
  `${SERVICE_ROLE}/AWSBackupServiceRolePolicyForBackup`,
  `${SERVICE_ROLE}/AWSBackupServiceRolePolicyForRestores`,
] as const;

export interface BackupRule {
  /** Unique in the plan. */
  readonly name: string;
  /** AWS Backup cron expression, UTC. */
  readonly schedule: string;
  /** Days each recovery point (and its copy) is kept. */
  readonly retainDays: number;
}

export interface VaultLock {
  readonly minRetentionDays: number;
  readonly maxRetentionDays: number;
  /** Days until the lock becomes immutable (compliance mode). @default never (governance mode) */
  readonly changeableForDays?: number;
}

export interface DatabaseBackupProps {
  /** Prefix of every name, e.g. `production`: vault `<namePrefix>-backup`, plan `<namePrefix>-database`. */
  readonly namePrefix: string;
  /** ARNs the plan backs up (the database instance). */
  readonly resourceArns: readonly string[];
  readonly rules: readonly BackupRule[];
  /** Copy every recovery point to a vault made with this provider (another region). @default no copy */
  readonly copyTo?: TerraformProvider;
  /**
   * Copy every recovery point to this existing vault (e.g. in another account) instead of one
   * made with `copyTo`; `copyTo` is then not used. @default none
   */
  readonly copyToVaultArn?: string;
  /** Lock on the vault (and on the copy vault). @default none */
  readonly vaultLock?: VaultLock;
  /** A job that has not started within this many minutes is cancelled. @default 60 */
  readonly startWindowMinutes?: number;
  /** A job still running after this many minutes is cancelled (keep it below the shortest interval). @default 300 */
  readonly completionWindowMinutes?: number;
  /** Let `destroy` delete vaults that hold recovery points (never in production). @default false */
  readonly forceDestroy?: boolean;
}

/**
 * AWS Backup of a database: a vault encrypted with its own KMS key, a plan whose rules keep
 * their recovery points for their retention, a selection of the resources (through a role with
 * exactly the AWS Backup service policies), optionally a copy of every recovery point to a vault
 * in another region (own key there) and a vault lock on both vaults.
 */
export class DatabaseBackup extends Construct {
  readonly vault: BackupVault;
  readonly copyVault?: BackupVault;
  readonly plan: BackupPlan;

  constructor(scope: Construct, id: string, props: DatabaseBackupProps) {
    super(scope, id);
    const p = props.namePrefix;
    const vault = (vid: string, name: string, provider?: TerraformProvider) => {
      const key = new EncryptionKey(this, `${vid}-key`, {
        alias: `${name}-vault`,
        description: `AWS Backup vault ${name}`,
        provider,
      });
      const v = new BackupVault(this, vid, {
        name,
        kmsKeyArn: key.key.arn,
        forceDestroy: props.forceDestroy ?? false,
        provider,
      });
      if (props.vaultLock) {
        new BackupVaultLockConfiguration(this, `${vid}-lock`, {
          backupVaultName: v.name,
          minRetentionDays: props.vaultLock.minRetentionDays,
          maxRetentionDays: props.vaultLock.maxRetentionDays,
          changeableForDays: props.vaultLock.changeableForDays,
          provider,
        });
      }
      return v;
    };
    this.vault = vault("vault", `${p}-backup`);
    if (props.copyTo && !props.copyToVaultArn) this.copyVault = vault("copy-vault", `${p}-backup-dr`, props.copyTo);

    const copyDestination = props.copyToVaultArn ?? this.copyVault?.arn;
    this.plan = new BackupPlan(this, "plan", {
      name: `${p}-database`,
      rule: props.rules.map((r) => ({
        ruleName: r.name,
        targetVaultName: this.vault.name,
        schedule: r.schedule,
        scheduleExpressionTimezone: "Etc/UTC",
        startWindow: props.startWindowMinutes ?? 60,
        completionWindow: props.completionWindowMinutes ?? 300,
        lifecycle: { deleteAfter: r.retainDays },
        recoveryPointTags: { BackupRule: r.name },
        ...(copyDestination
          ? { copyAction: [{ destinationVaultArn: copyDestination, lifecycle: { deleteAfter: r.retainDays } }] }
          : {}),
      })),
    });

    const role = new IamRole(this, "role", {
      name: `${p}-backup`,
      assumeRolePolicy: assumeRolePolicy("backup.amazonaws.com"),
    });
    const policies = BACKUP_ROLE_POLICIES.map(
      (arn, i) => new IamRolePolicyAttachment(this, `role-policy-${i}`, { role: role.name, policyArn: arn }),
    );
    new BackupSelection(this, "selection", {
      name: `${p}-database`,
      planId: this.plan.id,
      iamRoleArn: role.arn,
      resources: [...props.resourceArns],
      dependsOn: policies,
    });
  }
}
