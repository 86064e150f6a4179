import { z } from "zod";
import { PositivePercent } from "./common.ts";

export const ThresholdsSchema = z.strictObject({
  /** 5xx responses as a percentage of requests (above 0: 0 would alarm on any request). */
  errorRatePercent: z.number().gt(0, "must be above 0").max(100, "must be at most 100"),
  /** p99 target response time, seconds: at most 4000 (the ALB's maximum idle timeout). */
  latencyP99Seconds: z.number().positive().max(4000, "must be at most 4000 s (the ALB's maximum idle timeout)"),
  cpuPercent: PositivePercent,
  memoryPercent: PositivePercent,
  /** Free RDS storage below this many GiB alarms (below the allocated storage). */
  freeStorageGb: z.number().positive().max(65536).default(5),
  /** Redis evictions per period above this alarm. */
  cacheEvictions: z.number().int().min(0).default(100),
});

export const MonitoringSchema = z.strictObject({
  level: z.enum(["basic", "enhanced", "full"]),
  /** SNS e-mail subscriptions of the alarm topic; at most 20 (project limit). */
  alarmEmails: z.array(z.email().max(254)).max(20, "must list at most 20 addresses (project limit)").default([]),
  thresholds: ThresholdsSchema,
});
