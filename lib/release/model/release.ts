/**
 * Release files (`environments/releases/<env>.json`): what each slot runs (version, optional image
 * digest, the application settings it was promoted with) and its traffic weight, which slot is live,
 * the rollout in progress, a deploy that did not finish, and the record of the last change (the audit
 * history's newest entry, written atomically with the state it describes).
 *
 * Version 1 files (history as plain version strings, lastChange without a sequence number) are read
 * and rewritten in this shape on their next change.
 */
import { z } from "zod";
import { SlotSchema } from "../../core/primitives.ts";
import { MaintenanceSchema } from "./maintenance.ts";
import { CanaryStepSchema, CanaryStepsSchema } from "./policy.ts";
import { type ChangeRecord, ChangeRecordSchema, summarize } from "./records.ts";
import { DatabaseStateSchema, DigestSchema, SlotStateSchema, VersionSchema, WeightsSchema } from "./slots.ts";

/** A canary step as copied into a running rollout: the policy's own step (lib/release/model/policy.ts). */
export const RolloutStepSchema = CanaryStepSchema;

export const RolloutSchema = z.strictObject({
  /** Slot receiving traffic. */
  target: SlotSchema,
  /** Index of the next step to apply (0-based); equals `steps.length` when all are applied. */
  nextStep: z.number().int().min(0),
  /** The steps, copied from the environment's policy at start: held to the policy's rules. */
  steps: CanaryStepsSchema,
  /** Weights before the rollout started: what `abort` restores. */
  before: WeightsSchema,
  startedAt: z.iso.datetime(),
  /** Waiting at a manual pause for `envctl rollout <env> --continue`. */
  paused: z.boolean().default(false),
  /** Extra bakes the current step got because its analysis was inconclusive. */
  extensions: z.number().int().min(0).default(0),
});

/** Version 1 `lastChange` ({ by, at, command }): kept as the record before the first numbered one. */
const LegacyChangeSchema = z.strictObject({ by: z.string().min(1), at: z.iso.datetime(), command: z.string().min(1) });

export const HistoryEntrySchema = z.strictObject({
  version: VersionSchema,
  digest: DigestSchema.optional(),
  /** True once the version received traffic here: only served versions may be promoted onwards. */
  served: z.boolean(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** Names of an environment's own stacks, the only ones a pending deploy may name. */
export function ownStackPattern(env: string): RegExp {
  return new RegExp(`^${env.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(-traffic|-workloads)?$`);
}

const ReleaseCoreSchema = z.strictObject({
  environment: z.string().min(1),
  live: SlotSchema,
  slots: z.strictObject({ blue: SlotStateSchema, green: SlotStateSchema }),
  /** The slot that was live before `live`, still holding that version: where `rollback` goes. */
  previousLive: SlotSchema.nullable().default(null),
  /** Versions staged or run here, oldest first (version 1 files: plain strings, read as served). */
  history: z
    .array(
      z.union([VersionSchema.transform((version): HistoryEntry => ({ version, served: true })), HistoryEntrySchema]),
    )
    .default([]),
  rollout: RolloutSchema.nullable().default(null),
  pending: z.unknown().nullable().default(null),
  lastChange: z.union([ChangeRecordSchema, LegacyChangeSchema]).nullable().default(null),
  /** Maintenance mode (a 503 page ahead of the weighted rule); absent when off. */
  maintenance: MaintenanceSchema.optional(),
  /** The shared database's schema version as envctl last read it back; absent until envctl first migrates or reads it. */
  database: DatabaseStateSchema.optional(),
});

/** Cross-checks of one release's fields; `inPending` is true for `pending.previous`. */
function checkRelease(r: z.infer<typeof ReleaseCoreSchema>, ctx: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
  const { blue, green } = r.slots;
  if (blue.weight + green.weight !== 100)
    issue(
      ["slots"],
      `weights must sum to 100 (blue ${blue.weight} + green ${green.weight} = ${blue.weight + green.weight})`,
    );
  for (const slot of ["blue", "green"] as const) {
    const s = r.slots[slot];
    if (s.weight > 0 && s.version === null)
      issue(["slots", slot, "version"], `is required: the slot has weight ${s.weight}`);
    if (s.version === null && s.digest !== undefined)
      issue(["slots", slot, "digest"], "needs a version: an empty slot has no image");
    if (s.version === null && s.settings !== undefined)
      issue(["slots", slot, "settings"], "must be absent for an empty slot");
    if (s.version === null && s.schema !== undefined)
      issue(["slots", slot, "schema"], "must be absent for an empty slot");
  }
  if (r.previousLive !== null && (r.previousLive === r.live || r.slots[r.previousLive].version === null)) {
    issue(["previousLive"], "must name the non-live slot holding a version (or be null)");
  }
  if (r.slots[r.live].version === null) issue(["live"], `names slot ${r.live}, which has no version`);
  else if (r.rollout === null && r.slots[r.live].weight === 0)
    issue(["live"], `names slot ${r.live}, which has no traffic and no rollout is in progress`);
  if (r.rollout) {
    const ro = r.rollout;
    if (ro.nextStep > ro.steps.length)
      issue(["rollout", "nextStep"], `is past the last step (${ro.nextStep} > ${ro.steps.length})`);
    if (ro.target === r.live) issue(["rollout", "target"], `must be the idle slot, not the live slot ${r.live}`);
    if (r.slots[ro.target].version === null)
      issue(["rollout", "target"], `names slot ${ro.target}, which has no version`);
    for (const slot of ["blue", "green"] as const) {
      if (ro.before[slot] > 0 && r.slots[slot].version === null)
        issue(["rollout", "before", slot], `gives traffic to slot ${slot}, which has no version`);
    }
    if (ro.paused && (ro.nextStep === 0 || !("pause" in (ro.steps[ro.nextStep - 1] ?? {}))))
      issue(["rollout", "paused"], "is only true right after a pause step");
  }
  const versions = new Set(r.history.map((h) => h.version));
  r.history.forEach((h, i) => {
    if (r.history.findIndex((x) => x.version === h.version) !== i)
      issue(["history", i, "version"], `${h.version} is listed more than once`);
  });
  for (const slot of ["blue", "green"] as const) {
    const v = r.slots[slot].version;
    if (v !== null && !versions.has(v)) issue(["history"], `must list ${v}, the version of slot ${slot}`);
  }
}

const PendingCoreSchema = z.strictObject({
  /** Stacks whose deploy was started for the current file contents but did not report success. */
  stacks: z.array(z.string().min(1)).min(1),
  command: z.string().min(1),
  since: z.iso.datetime(),
  /** The file contents before the change, for `envctl reconcile --revert`. */
  previous: z.unknown(),
});

/** The full release schema: fields, cross-checks, and the pending deploy's own consistency. */
export const ReleaseSchema = ReleaseCoreSchema.transform((r) => ({ ...r, history: withSlotVersions(r) }))
  .superRefine((r, ctx) => {
    checkRelease(r, ctx);
    if (r.pending === null) return;
    const pending = PendingCoreSchema.safeParse(r.pending);
    if (!pending.success) {
      for (const i of pending.error.issues)
        ctx.addIssue({
          code: "custom",
          path: ["pending", ...i.path],
          message: i.message.replace(/^Invalid input: /, ""),
        });
      return;
    }
    const own = ownStackPattern(r.environment);
    pending.data.stacks.forEach((s, i) => {
      if (!own.test(s))
        ctx.addIssue({
          code: "custom",
          path: ["pending", "stacks", i],
          message: `${JSON.stringify(s)} is not a stack of ${r.environment} (${r.environment}, ${r.environment}-traffic or ${r.environment}-workloads)`,
        });
    });
    const previous = ReleaseCoreSchema.safeParse(pending.data.previous);
    if (!previous.success) {
      for (const i of previous.error.issues)
        ctx.addIssue({
          code: "custom",
          path: ["pending", "previous", ...i.path],
          message: i.message.replace(/^Invalid input: /, ""),
        });
    } else if (previous.data.pending !== null) {
      ctx.addIssue({
        code: "custom",
        path: ["pending", "previous", "pending"],
        message: "must be null: a pending deploy never nests another",
      });
    } else if (previous.data.environment !== r.environment) {
      ctx.addIssue({
        code: "custom",
        path: ["pending", "previous", "environment"],
        message: `must be ${r.environment}`,
      });
    }
  })
  .transform(
    (r): Release => ({
      ...r,
      pending:
        r.pending === null
          ? null
          : (() => {
              const p = PendingCoreSchema.parse(r.pending);
              return { ...p, previous: ReleaseCoreSchema.parse(p.previous) as unknown as Release };
            })(),
      lastChange: r.lastChange === null || "seq" in r.lastChange ? r.lastChange : legacyRecord(r.lastChange, r),
    }),
  );

/** A slot version missing from the history (hand-written files) is added, served when it has traffic. */
function withSlotVersions(r: z.infer<typeof ReleaseCoreSchema>): HistoryEntry[] {
  const history = [...r.history];
  for (const slot of ["blue", "green"] as const) {
    const { version, weight, digest } = r.slots[slot];
    if (version !== null && !history.some((h) => h.version === version))
      history.push({ version, ...(digest ? { digest } : {}), served: weight > 0 });
  }
  return history;
}

function legacyRecord(c: z.infer<typeof LegacyChangeSchema>, r: z.infer<typeof ReleaseCoreSchema>): ChangeRecord {
  const state = summarize(r as unknown as Release);
  return { seq: 0, ...c, outcome: "recorded", from: state, to: state };
}

export interface Pending {
  stacks: string[];
  command: string;
  since: string;
  previous: Release;
}

type ReleaseCore = z.infer<typeof ReleaseCoreSchema>;
/** A validated release file. */
export type Release = Omit<ReleaseCore, "history" | "pending" | "lastChange"> & {
  history: HistoryEntry[];
  pending: Pending | null;
  lastChange: ChangeRecord | null;
};
export type Rollout = z.infer<typeof RolloutSchema>;
export type RolloutStep = z.infer<typeof RolloutStepSchema>;

/** Parses a release (throws zod's error); for callers that hold already-validated data. */
export function parseRelease(data: unknown): Release {
  return ReleaseSchema.parse(data);
}
