/**
 * Pieces the environment schema's sections share: the cross-field check option, CIDRs, percents,
 * catalogue types and engine versions (lib/config/catalogue.ts), CloudWatch Logs retention.
 */
import { z } from "zod";
import { type TypeKind, unknownType, unsupportedVersion } from "../catalogue.ts";
import { formatCidr, isCanonicalCidr, parseCidr } from "../cidr.ts";

/**
 * Cross-field checks run even when another field of the same object is wrong (zod skips
 * refinements of an object with issues otherwise), so every problem is reported at once. The
 * value may then be malformed: each check guards its own inputs.
 */
export const WHEN_OBJECT = {
  when: (payload: { value: unknown }) => typeof payload.value === "object" && payload.value !== null,
};
export const isInt = (v: unknown): v is number => Number.isInteger(v);

/** An IPv4 network written canonically (`10.0.0.0/16`: no host bits, no leading zeros). */
export const NetworkCidrSchema = z.string().superRefine((v, ctx) => {
  const c = parseCidr(v);
  if (!c) ctx.addIssue({ code: "custom", message: "is not a valid IPv4 network CIDR (a.b.c.d/n, no host bits)" });
  else if (!isCanonicalCidr(v))
    ctx.addIssue({ code: "custom", message: `must be written canonically: ${formatCidr(c)}` });
});

/** A target or threshold that must be above zero: 1-100. */
export const PositivePercent = z.number().min(1, "must be 1-100").max(100, "must be 1-100");

/** A type from the catalogue (the price table): unknown types are refused with the nearest names. */
export const catalogueType = (kind: TypeKind, base: z.ZodString) =>
  base.superRefine((v, ctx) => {
    const rule = unknownType(kind, v);
    if (rule) ctx.addIssue({ code: "custom", message: rule });
  });

export const engineVersion = (engine: "eks" | "postgres" | "redis") =>
  z.string().superRefine((v, ctx) => {
    const rule = unsupportedVersion(engine, v);
    if (rule) ctx.addIssue({ code: "custom", message: rule });
  });

/**
 * CloudWatch Logs accepts only these retention periods, days (CloudWatch Logs API Reference,
 * PutRetentionPolicy `retentionInDays`).
 */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
export const LogRetentionSchema = z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
  message: `must be a CloudWatch Logs retention period: ${LOG_RETENTION_DAYS.join(", ")} days`,
});
