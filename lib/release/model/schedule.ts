/**
 * Scheduled changes of an environment (`releases/<env>.schedule.json`): a version to roll out at a
 * time, its strategy, who scheduled it and what became of it. `envctl schedule run` starts what is
 * due, once (lib/release/schedule.ts).
 */
import { z } from "zod";
import { VersionSchema } from "./slots.ts";

/** How a scheduled change goes live: the environment's canary steps, each analysed. */
export const STRATEGIES = ["canary"] as const;

export const SCHEDULE_STATES = ["scheduled", "started", "skipped", "cancelled"] as const;

export const ScheduledChangeSchema = z.strictObject({
  /** `s-` and 8 hex digits: a digest of the environment, version, strategy and time. */
  id: z.string().regex(/^s-[0-9a-f]{8}$/),
  version: VersionSchema,
  strategy: z.enum(STRATEGIES),
  /** When it starts (the first `schedule run` at or after it, inside a window). */
  at: z.iso.datetime(),
  by: z.string().min(1),
  createdAt: z.iso.datetime(),
  /** The release's record number when it was scheduled: approvals were given for that state. */
  baseSeq: z.number().int().min(0),
  /** Estimated seconds of bakes, pauses and the post-switch watch. */
  estimatedSeconds: z.number().int().min(0),
  state: z.enum(SCHEDULE_STATES),
  /** Why it was skipped or cancelled, or which run started it. */
  note: z.string().max(2000).optional(),
  /** When its state last changed. */
  updatedAt: z.iso.datetime().optional(),
});
export type ScheduledChange = z.infer<typeof ScheduledChangeSchema>;

export const ScheduleFileSchema = z.strictObject({
  environment: z.string().min(1),
  changes: z.array(ScheduledChangeSchema),
});
export type ScheduleFile = z.infer<typeof ScheduleFileSchema>;
