/**
 * The records of a release's history: the state before and after a change, the evidence of an
 * analysis, and who changed what when (the audit history's entries, lib/release/store/audit-log.ts).
 */
import { z } from "zod";
import { SlotSchema } from "../../core/primitives.ts";
import { type DatabaseState, SchemaVersionSchema, type SlotState, VersionSchema, Weight } from "./slots.ts";

const SlotSummarySchema = z.strictObject({
  version: VersionSchema.nullable(),
  weight: Weight,
  /** Settings checksum, when the slot has settings. */
  settings: z.string().optional(),
  /** The schema range the version works with, `requires..supportsUpTo`, when declared. */
  schema: z.string().optional(),
});
/** The traffic-relevant state before and after a change, as the audit history shows it. */
export const StateSummarySchema = z.strictObject({
  live: SlotSchema,
  slots: z.strictObject({ blue: SlotSummarySchema, green: SlotSummarySchema }),
  /** The database's schema version as last read back (null: no migration ran); absent when not tracked. */
  schema: SchemaVersionSchema.nullable().optional(),
  /** The database the slots use, when a data copy switched it (`database.instance`). */
  instance: z.string().optional(),
  /** The environment whose data that database holds masked: what a later copy out of it trusts (never the file alone). */
  maskedFrom: z.string().optional(),
  /** The database a data copy switched away from, until `envctl data confirm` drops it. */
  previousInstance: z.string().optional(),
});
export type StateSummary = z.infer<typeof StateSummarySchema>;

const SlotMeasurementSchema = z.strictObject({
  slot: SlotSchema,
  requests: z.number().min(0),
  /** Target 5xx of the slot plus its share (by requests) of the load balancer's own 5xx. */
  errors: z.number().min(0),
  /** errors / requests, percent; null without requests. */
  errorRatePercent: z.number().nullable(),
  /** Requests slower than the latency limit; null where none were read (absent in records before issue 19). */
  slow: z.number().min(0).nullable().optional(),
  /** Worst p99 target response time of the window's periods, seconds; null without data. */
  p99Seconds: z.number().nullable(),
});

/** One slot's counts in one judged period (older records: what was new at one poll). */
const IntervalCountsSchema = z.strictObject({
  requests: z.number().min(0),
  errors: z.number().min(0),
  slow: z.number().min(0).nullable(),
  /** Requests per response-time bucket (edges: the interval's `buckets`). */
  latency: z.array(z.number().min(0)).optional(),
});

/** The evidence of one analysis: what was measured, against which limits, and the verdict. */
export const AnalysisRecordSchema = z.strictObject({
  /** The step judged (0-based), or `watch` for the post-switch watch. */
  step: z.union([z.number().int().min(0), z.literal("watch")]),
  /** The target slot's weight during the step. */
  percent: z.number().int().min(0).max(100),
  verdict: z.enum(["pass", "fail", "inconclusive"]),
  /** Why: the metric or alarm that failed, or what was missing. */
  reasons: z.array(z.string()),
  /** The complete metric periods judged. */
  window: z.strictObject({ start: z.iso.datetime(), end: z.iso.datetime() }).nullable(),
  canary: SlotMeasurementSchema.nullable(),
  stable: SlotMeasurementSchema.nullable(),
  alarms: z.array(z.strictObject({ name: z.string(), state: z.string() })),
  /** The settings judged by (the analysis policy's numbers; records before issue 19 hold the threshold judge's). */
  limits: z.record(z.string(), z.number()),
  /** Failures of observe-only checks: computed and recorded, not acted on. */
  observed: z.array(z.string()).optional(),
  /** Each sequential test's evidence (log of its mixture likelihood ratio) against its bound (log 1/α). */
  evidence: z.array(z.strictObject({ test: z.string(), logEvidence: z.number(), logBound: z.number() })).optional(),
  /** The canary requests a pass needed, and what for; null before the end of the bake (or without a verdict). */
  required: z.strictObject({ requests: z.number().nullable(), basis: z.string() }).nullable().optional(),
  /** The canary requests the rollout's traffic plan required for this step (0: no plan). */
  plannedRequests: z.number().min(0).optional(),
  /** Every poll's new counts per slot (`t`: seconds into the step): what `envctl analysis replay` re-judges. */
  intervals: z
    .array(
      z.strictObject({
        t: z.number().min(0),
        canary: IntervalCountsSchema,
        stable: IntervalCountsSchema,
        /** The load balancer's own 5xx of the period. */
        lb: z.strictObject({ errors: z.number().min(0) }).optional(),
        /** Edges of the response-time buckets, seconds. */
        buckets: z.array(z.number().positive()).optional(),
      }),
    )
    .optional(),
  polls: z.number().int().min(0),
});
export type AnalysisRecord = z.infer<typeof AnalysisRecordSchema>;

/**
 * Who did what, when, and what it changed: the newest entry of the environment's history. `seq`
 * numbers the environment's changes; `releases/<env>.audit.jsonl` holds every record (lib/release/store/audit-log.ts).
 */
export const ChangeRecordSchema = z.strictObject({
  seq: z.number().int().min(0),
  by: z.string().min(1),
  at: z.iso.datetime(),
  command: z.string().min(1),
  /** `deploying`, `deployed`, `edited`, `rollout-started`, `rollout-step`, `analysis`, `paused`, `rolled-back`, ... */
  outcome: z.string().min(1),
  from: StateSummarySchema,
  to: StateSummarySchema,
  /** The measurements behind a rollout decision. */
  analysis: AnalysisRecordSchema.optional(),
  /** A human-readable detail (the reason of a rollback, the cause of a failed deploy). */
  note: z.string().max(2000).optional(),
});
export type ChangeRecord = z.infer<typeof ChangeRecordSchema>;

/** The traffic-relevant state of a release, as the history records it. */
export function summarize(
  r: { readonly live: "blue" | "green"; readonly slots: { readonly blue: SlotState; readonly green: SlotState } } & {
    readonly database?: DatabaseState;
  },
): StateSummary {
  const slot = (s: SlotState) => ({
    version: s.version,
    weight: s.weight,
    ...(s.settings ? { settings: s.settings.checksum } : {}),
    ...(s.schema ? { schema: `${s.schema.requires}..${s.schema.supportsUpTo}` } : {}),
  });
  return {
    live: r.live,
    slots: { blue: slot(r.slots.blue), green: slot(r.slots.green) },
    ...(r.database ? { schema: r.database.schema } : {}),
    ...(r.database?.instance ? { instance: r.database.instance } : {}),
    ...(r.database?.maskedFrom ? { maskedFrom: r.database.maskedFrom } : {}),
    ...(r.database?.previousInstance ? { previousInstance: r.database.previousInstance } : {}),
  };
}
