/** The data tier: RDS for PostgreSQL and ElastiCache for Redis OSS. */
import { z } from "zod";
import { catalogueType, engineVersion, isInt, WHEN_OBJECT } from "./common.ts";

/** RDS for PostgreSQL gp3 storage: 20 GiB to 64 TiB (Amazon RDS User Guide, "Amazon RDS DB instance storage"). */
const StorageGb = z
  .number()
  .int()
  .min(20, "must be at least 20 GB (RDS gp3 minimum)")
  .max(65536, "must be at most 65536 GB (RDS gp3 maximum, 64 TiB)");

export const DatabaseSchema = z
  .strictObject({
    /** PostgreSQL version: a major (RDS picks the minor) or a listed minor (lib/config/catalogue.ts). */
    engineVersion: engineVersion("postgres").default("16"),
    instanceClass: catalogueType("rds", z.string()),
    allocatedStorageGb: StorageGb,
    /**
     * Storage autoscaling ceiling; defaults to twice the allocated storage. Must be ≥ the allocated
     * storage (AWS provider: `max_allocated_storage` "must be greater than or equal to allocated_storage").
     */
    maxAllocatedStorageGb: StorageGb.optional(),
    /** Automated backups: RDS keeps 0-35 days; at least 1 here (point-in-time recovery). */
    backupRetentionDays: z.number().int().min(1).max(35),
    multiAz: z.boolean(),
    deletionProtection: z.boolean(),
  })
  .superRefine((d, ctx) => {
    if (
      isInt(d.maxAllocatedStorageGb) &&
      isInt(d.allocatedStorageGb) &&
      d.maxAllocatedStorageGb < d.allocatedStorageGb
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["maxAllocatedStorageGb"],
        message: `must be ≥ allocatedStorageGb (${d.maxAllocatedStorageGb} < ${d.allocatedStorageGb})`,
      });
    }
  }, WHEN_OBJECT);

export const CacheSchema = z
  .strictObject({
    nodeType: catalogueType("cache", z.string()),
    /** Read replicas in addition to the primary: 0-5 (ElastiCache: up to 5 replicas per shard). */
    replicas: z.number().int().min(0).max(5),
    automaticFailover: z.boolean(),
    /** Redis OSS version (lib/config/catalogue.ts). */
    engineVersion: engineVersion("redis").default("7.1"),
  })
  .superRefine((c, ctx) => {
    if (c.automaticFailover === true && isInt(c.replicas) && c.replicas < 1) {
      ctx.addIssue({ code: "custom", path: ["automaticFailover"], message: "requires at least one replica" });
    }
  }, WHEN_OBJECT);
