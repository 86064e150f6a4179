import { z } from "zod";
import { LogRetentionSchema } from "./common.ts";

/**
 * AWS WAF (v2, regional) in front of the ALB: AWS managed rule groups (common rule set, known
 * bad inputs, IP reputation), a per-IP rate limit, and its own log group. Absent: no WAF.
 */
export const WafSchema = z.strictObject({
  /** Requests one IP may send in 5 minutes before it is blocked. */
  rateLimitPerIp: z.number().int().min(10).max(2_000_000_000).default(2000),
  /** Days the WAF logs (log group `aws-waf-logs-<env>`) are kept. */
  logRetentionDays: LogRetentionSchema.default(365),
});
