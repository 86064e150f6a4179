/**
 * Release files (`environments/releases/<env>.json`): per slot the version (image tag) and the
 * traffic weight, which slot is live, the rollout in progress and a deploy that did not finish.
 */
import { z } from "zod";
import { SlotSchema, type Slot } from "./schema.ts";

/** Image tag: what a slot runs. */
export const VersionSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a valid image tag");

export const SlotStateSchema = z.strictObject({
  /** Image tag the slot runs; null when the slot is empty. */
  version: VersionSchema.nullable(),
  /** Integer share of the traffic, 0-100. */
  weight: z.number().int("must be an integer").min(0, "must be 0-100").max(100, "must be 0-100"),
});

export const WeightsSchema = z.strictObject({ blue: z.number().int().min(0).max(100), green: z.number().int().min(0).max(100) });
export type Weights = z.infer<typeof WeightsSchema>;

export const RolloutSchema = z.strictObject({
  /** Slot receiving traffic. */
  target: SlotSchema,
  /** Index of the next canary step to apply (0-based); equals `steps.length` when all are applied. */
  nextStep: z.number().int().min(0),
  /** Canary percentages of the target slot, copied from the tier's policy at start. */
  steps: z.array(z.strictObject({ percent: z.number().int().min(1).max(100), bakeSeconds: z.number().int().min(0) })).min(1),
  /** Weights before the rollout started: what `abort` restores. */
  before: WeightsSchema,
  startedAt: z.iso.datetime(),
});

export const ChangeSchema = z.strictObject({
  by: z.string().min(1),
  at: z.iso.datetime(),
  command: z.string().min(1),
});

export const PendingSchema = z.strictObject({
  /** Stacks whose deploy was started for the current file contents but did not report success. */
  stacks: z.array(z.string().min(1)).min(1),
  command: z.string().min(1),
  since: z.iso.datetime(),
  /** The file contents before the change, for `envctl reconcile --revert`. */
  previous: z.unknown(),
});

export const ReleaseSchema = z
  .strictObject({
    environment: z.string().min(1),
    live: SlotSchema,
    slots: z.strictObject({ blue: SlotStateSchema, green: SlotStateSchema }),
    /** The slot that was live before `live`, still holding that version: where `rollback` goes. */
    previousLive: SlotSchema.nullable().default(null),
    /** Versions that have run in this environment, oldest first: what `promote --version` may pick. */
    history: z.array(VersionSchema).default([]),
    rollout: RolloutSchema.nullable().default(null),
    pending: PendingSchema.nullable().default(null),
    lastChange: ChangeSchema.nullable().default(null),
  })
  .superRefine((r, ctx) => {
    const { blue, green } = r.slots;
    if (blue.weight + green.weight !== 100) {
      ctx.addIssue({ code: "custom", path: ["slots"], message: `weights must sum to 100 (blue ${blue.weight} + green ${green.weight} = ${blue.weight + green.weight})` });
    }
    for (const slot of ["blue", "green"] as const) {
      const s = r.slots[slot];
      if (s.weight > 0 && s.version === null) {
        ctx.addIssue({ code: "custom", path: ["slots", slot, "version"], message: `is required: the slot has weight ${s.weight}` });
      }
    }
    if (r.previousLive !== null && (r.previousLive === r.live || r.slots[r.previousLive].version === null)) {
      ctx.addIssue({ code: "custom", path: ["previousLive"], message: `must name the non-live slot holding a version (or be null)` });
    }
    if (r.slots[r.live].version === null) {
      ctx.addIssue({ code: "custom", path: ["live"], message: `names slot ${r.live}, which has no version` });
    }
  });

export type Release = z.infer<typeof ReleaseSchema>;
export type SlotState = z.infer<typeof SlotStateSchema>;
export type Rollout = z.infer<typeof RolloutSchema>;

export function otherSlot(slot: Slot): Slot {
  return slot === "blue" ? "green" : "blue";
}

export function weightsOf(r: Release): Weights {
  return { blue: r.slots.blue.weight, green: r.slots.green.weight };
}
