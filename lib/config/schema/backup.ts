import { z } from "zod";
import { REGION_PATTERN, RegionSchema } from "../../core/primitives.ts";

/** `arn:<partition>:backup:<region>:<account>:backup-vault:<name>` (AWS Backup vault ARN); group 1 is the region, 2 the account. */
export const BACKUP_VAULT_ARN = new RegExp(
  `^arn:aws(?:-[a-z]+)*:backup:(${REGION_PATTERN.source}):(\\d{12}):backup-vault:[A-Za-z0-9_.-]{2,50}$`,
);

export const BackupRuleSchema = z.strictObject({
  /** Rule name, unique in the plan. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,50}$/, "must be 1-50 chars of letters, digits, '_', '.' and '-'"),
  /** When it runs: an AWS Backup cron expression in UTC, e.g. cron(0 0/6 * * ? *) for every 6 hours. */
  schedule: z
    .string()
    .regex(/^cron\(\S+( \S+){5}\)$/, "must be an AWS cron expression with 6 fields, e.g. cron(0 0/6 * * ? *)"),
  /** Days each recovery point (and its copy) is kept. */
  retainDays: z.number().int().min(1).max(36500),
});

/**
 * AWS Backup of the environment's database: a vault encrypted with its own KMS key, a plan of
 * `rules`, optionally a copy of every recovery point to a vault in `copyToRegion` (disaster
 * recovery) and a vault lock. Absent: only the RDS automated backups.
 */
export const BackupSchema = z
  .strictObject({
    rules: z.array(BackupRuleSchema).min(1),
    /** Region of the disaster-recovery vault every recovery point is copied to. @default none */
    copyToRegion: RegionSchema.optional(),
    /**
     * The disaster-recovery copy goes to this existing vault instead, e.g. in a separate recovery
     * account (its vault access policy must let this account copy into it); its region is
     * `copyToRegion`. @default a vault created in `copyToRegion`, in the environment's account
     */
    copyToVaultArn: z
      .string()
      .regex(BACKUP_VAULT_ARN, "must be an AWS Backup vault ARN: arn:aws:backup:<region>:<account>:backup-vault:<name>")
      .optional(),
    /**
     * Vault lock: recovery points can be deleted neither before `minRetentionDays` nor kept past
     * `maxRetentionDays`. With `changeableForDays` (≥ 3) the lock becomes immutable (compliance
     * mode) that many days after it is set; without, it stays removable (governance mode).
     */
    vaultLock: z
      .strictObject({
        minRetentionDays: z.number().int().min(1).max(36500),
        maxRetentionDays: z.number().int().min(1).max(36500),
        changeableForDays: z.number().int().min(3).optional(),
      })
      .optional(),
  })
  .superRefine((b, ctx) => {
    const names = b.rules.map((r) => r.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i)
        ctx.addIssue({ code: "custom", path: ["rules", i, "name"], message: `${n} is used by more than one rule` });
    });
    const arn = typeof b.copyToVaultArn === "string" ? BACKUP_VAULT_ARN.exec(b.copyToVaultArn) : null;
    if (arn && b.copyToRegion !== arn[1]) {
      ctx.addIssue({
        code: "custom",
        path: ["copyToRegion"],
        message: `must be ${arn[1]}, the region of copyToVaultArn (found ${b.copyToRegion ?? "none"})`,
      });
    }
    const lock = b.vaultLock;
    if (!lock) return;
    if (lock.minRetentionDays > lock.maxRetentionDays) {
      ctx.addIssue({
        code: "custom",
        path: ["vaultLock", "minRetentionDays"],
        message: `must be ≤ maxRetentionDays (${lock.minRetentionDays} > ${lock.maxRetentionDays})`,
      });
    }
    b.rules.forEach((r, i) => {
      if (r.retainDays < lock.minRetentionDays || r.retainDays > lock.maxRetentionDays) {
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "retainDays"],
          message: `${r.retainDays} is outside the vault lock's ${lock.minRetentionDays}-${lock.maxRetentionDays} days`,
        });
      }
    });
  });
