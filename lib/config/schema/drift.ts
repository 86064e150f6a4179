import { z } from "zod";

/** Drift classes, most severe first. */
export const DRIFT_SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type DriftSeverity = (typeof DRIFT_SEVERITIES)[number];
export const DriftSeveritySchema = z.enum(DRIFT_SEVERITIES, { error: `must be one of ${DRIFT_SEVERITIES.join(", ")}` });

/** `<resource type>.<attribute>`, `*` matching any run of characters: `aws_db_instance.backup_window`, `*.tags`. */
export const DRIFT_MATCH = /^[a-z0-9_*]{1,64}\.[a-z0-9_*]{1,64}$/;

/**
 * How drift is classified in this environment (lib/review/drift-severity.ts): `classes` are checked
 * first, in order, before the built-in table.
 */
export const DriftSchema = z.strictObject({
  /** Overrides of the built-in classes, first match wins; at most 50. @default [] */
  classes: z
    .array(
      z.strictObject({
        match: z
          .string()
          .regex(
            DRIFT_MATCH,
            "must be <resource type>.<attribute> with * as a wildcard, e.g. aws_db_instance.backup_window or *.tags",
          ),
        severity: DriftSeveritySchema,
      }),
    )
    .max(50, "must list at most 50 classes (project limit)")
    .default([]),
});
export type DriftConfig = z.infer<typeof DriftSchema>;
