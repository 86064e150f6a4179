/**
 * Release files (`environments/releases/<env>.json`): what each slot runs (version, optional image
 * digest, the application settings it was promoted with) and its traffic weight, which slot is live,
 * the rollout in progress, a deploy that did not finish, and the record of the last change (the audit
 * history's newest entry, written atomically with the state it describes).
 *
 * Version 1 files (history as plain version strings, lastChange without a sequence number) are read
 * and rewritten in this shape on their next change.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { SettingValueSchema, SlotSchema, type SettingValue, type Slot } from "../config/primitives.ts";
import { CanaryStepSchema, CanaryStepsSchema } from "./policy.ts";

/** Image tag: what a slot runs. */
export const VersionSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a valid image tag");

/** Content digest of an image: the slot runs `<repository>@<digest>` when it is known. */
export const DigestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be an image digest sha256:<64 lower-case hex digits>");

/** The application settings a slot was promoted with, and their checksum (see {@link settingsChecksum}). */
export const SlotSettingsSchema = z
  .strictObject({
    checksum: z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lower-case hex digits"),
    values: z.record(z.string().regex(/^[A-Z][A-Z0-9_]{0,127}$/, "must be an UPPER_SNAKE_CASE setting name"), SettingValueSchema),
  })
  .superRefine((s, ctx) => {
    const expected = settingsChecksum(s.values);
    if (s.checksum !== expected) ctx.addIssue({ code: "custom", path: ["checksum"], message: `does not match the values (expected ${expected}): settings are never edited in place, stage a new slot instead` });
  });
export type SlotSettings = z.infer<typeof SlotSettingsSchema>;

/** First 16 hex digits of the SHA-256 of the settings as canonical JSON (keys sorted). */
export function settingsChecksum(values: Readonly<Record<string, SettingValue>>): string {
  const canonical = JSON.stringify(Object.keys(values).sort().map((k) => [k, values[k]]));
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/** Settings values with their checksum. */
export function slotSettings(values: Readonly<Record<string, SettingValue>>): SlotSettings {
  const sorted = Object.fromEntries(Object.keys(values).sort().map((k) => [k, values[k]!]));
  return { checksum: settingsChecksum(sorted), values: sorted };
}

const Weight = z.number().int("must be an integer").min(0, "must be 0-100").max(100, "must be 0-100");

/** A database schema version: golang-migrate's integer version (the `schema_migrations` table). */
export const SchemaVersionSchema = z.number().int("must be an integer schema version").min(0, "must be 0 or more").max(Number.MAX_SAFE_INTEGER);

/**
 * The schema versions a slot's version works with (issue 22): the version it needs (`requires`,
 * its expand has run) and the highest it still runs on (`supportsUpTo`, the contract it survives).
 * Declared by the app next to its image (OCI labels `envstack.schema.requires` and
 * `envstack.schema.supports-up-to`, README "Database changes"); staged with the version.
 */
export const SchemaRangeSchema = z
  .strictObject({ requires: SchemaVersionSchema, supportsUpTo: SchemaVersionSchema })
  .refine((r) => r.supportsUpTo >= r.requires, { message: "supportsUpTo must be at least requires", path: ["supportsUpTo"] });
export type SchemaRange = z.infer<typeof SchemaRangeSchema>;

/**
 * The environment's database as envctl last read it back (after `envctl migrate`, `envctl data copy`):
 * the schema version (null: no migration ever ran) and whether a migration stopped midway (dirty).
 * Both slots of an environment share it. The gates of rollout, rollback and release-check judge it.
 */
export const DatabaseStateSchema = z.strictObject({
  schema: SchemaVersionSchema.nullable(),
  dirty: z.boolean().default(false),
  /** When it was read back from the database. */
  readAt: z.iso.datetime(),
  /** The database the slots use: the RDS identifier (locally, a database of that name); absent: `<env>-postgres`. */
  instance: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "must be a lower-case database identifier").optional(),
  /**
   * The environment whose data this database holds masked (`data copy --mask` from a higher tier, or a
   * copy of such a database): a copy of it into a lower tier needs no spec of its own.
   */
  maskedFrom: z.string().min(1).optional(),
  /** The database `data copy` switched away from, kept until `envctl data confirm`. */
  previousInstance: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "must be a lower-case database identifier").optional(),
});
export type DatabaseState = z.infer<typeof DatabaseStateSchema>;

export const SlotStateSchema = z.strictObject({
  /** Image tag the slot runs; null when the slot is empty. */
  version: VersionSchema.nullable(),
  /** Image digest of that version, when known. */
  digest: DigestSchema.optional(),
  /** Application settings the slot was promoted with; absent when the environment has none (or the slot is empty). */
  settings: SlotSettingsSchema.optional(),
  /** Integer share of the traffic, 0-100. */
  weight: Weight,
  /** The database schema versions the version works with; absent when the app declares none. */
  schema: SchemaRangeSchema.optional(),
});

export const WeightsSchema = z.strictObject({ blue: Weight, green: Weight }).superRefine((w, ctx) => {
  if (w.blue + w.green !== 100) ctx.addIssue({ code: "custom", path: [], message: `must sum to 100 (blue ${w.blue} + green ${w.green} = ${w.blue + w.green})` });
});
export type Weights = z.infer<typeof WeightsSchema>;

/** A canary step as copied into a running rollout: the policy's own step (lib/release/policy.ts). */
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

/** ALB limits: a fixed response's body is at most 1024 characters; a rule has at most 5 condition values. */
export const MAINTENANCE_LIMITS = { messageChars: 1024, allowCidrs: 5, allowHeaderValues: 5 } as const;

/** The page reaches the traffic stack's Terraform JSON, where `${` and `%{` start a template. */
const NO_TEMPLATE = /[$%]\{/;
const NO_TEMPLATE_RULE = "must not contain a Terraform template sequence (${ or %{)";

/** A CIDR block the ALB's source-ip condition accepts (IPv4 `a.b.c.d/n` or IPv6). */
const CidrSchema = z.string().regex(/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:3[0-2]|[12]?\d)$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*\/(?:12[0-8]|1[01]\d|\d?\d)$/, "must be a CIDR block such as 203.0.113.0/24");

/** An HTTP header name (RFC 9110 token, at most 40 characters: the ALB's limit). */
export const HeaderNameSchema = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/, "must be an HTTP header name of at most 40 characters");

/**
 * Maintenance mode: while set, the traffic stack puts a fixed-response 503 rule ahead of the
 * weighted rule (testers reach the slots through `allowCidrs` or the `allowHeader`). Set and
 * cleared by `envctl maintenance` (lib/release/maintenance.ts).
 */
export const MaintenanceSchema = z.strictObject({
  /** The page served with the 503 (plain text or HTML), at most 1024 characters (the ALB's limit for a fixed response). */
  message: z.string().min(1, "must not be empty").max(MAINTENANCE_LIMITS.messageChars, `must be at most ${MAINTENANCE_LIMITS.messageChars} characters (the ALB's limit for a fixed response)`).refine((m) => !NO_TEMPLATE.test(m), NO_TEMPLATE_RULE),
  /** Source CIDRs that bypass the page (testers), at most 5 (the ALB's condition values per rule). */
  allowCidrs: z.array(CidrSchema).max(MAINTENANCE_LIMITS.allowCidrs, `must list at most ${MAINTENANCE_LIMITS.allowCidrs} CIDR blocks (the ALB's condition values per rule)`).default([]),
  /** A request header that bypasses the page: `{ name, values }` (values at most 128 characters, at most 5). */
  allowHeader: z.strictObject({
    name: HeaderNameSchema,
    values: z.array(z.string().regex(/^[\x21-\x7e]{1,128}$/, "must be 1-128 visible ASCII characters").refine((m) => !NO_TEMPLATE.test(m), NO_TEMPLATE_RULE)).min(1).max(MAINTENANCE_LIMITS.allowHeaderValues),
  }).nullable().default(null),
  /** When it was switched on. */
  since: z.iso.datetime(),
  by: z.string().min(1),
});
export type Maintenance = z.infer<typeof MaintenanceSchema>;

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
});
export type StateSummary = z.infer<typeof StateSummarySchema>;

const SlotMeasurementSchema = z.strictObject({
  slot: SlotSchema,
  requests: z.number().min(0),
  /** Target 5xx of the slot (plus, for the canary, the load balancer's own 5xx: they cannot be attributed). */
  errors: z.number().min(0),
  /** errors / requests, percent; null without requests. */
  errorRatePercent: z.number().nullable(),
  /** Requests slower than the latency limit; null where none were read (absent in records before issue 19). */
  slow: z.number().min(0).nullable().optional(),
  /** Worst p99 target response time of the window's periods, seconds; null without data. */
  p99Seconds: z.number().nullable(),
});

/** One slot's counts in one poll interval (only what was new at that poll). */
const IntervalCountsSchema = z.strictObject({ requests: z.number().min(0), errors: z.number().min(0), slow: z.number().min(0).nullable() });

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
  intervals: z.array(z.strictObject({ t: z.number().min(0), canary: IntervalCountsSchema, stable: IntervalCountsSchema })).optional(),
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
  history: z.array(z.union([VersionSchema.transform((version): HistoryEntry => ({ version, served: true })), HistoryEntrySchema])).default([]),
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
  if (blue.weight + green.weight !== 100) issue(["slots"], `weights must sum to 100 (blue ${blue.weight} + green ${green.weight} = ${blue.weight + green.weight})`);
  for (const slot of ["blue", "green"] as const) {
    const s = r.slots[slot];
    if (s.weight > 0 && s.version === null) issue(["slots", slot, "version"], `is required: the slot has weight ${s.weight}`);
    if (s.version === null && s.digest !== undefined) issue(["slots", slot, "digest"], "needs a version: an empty slot has no image");
    if (s.version === null && s.settings !== undefined) issue(["slots", slot, "settings"], "must be absent for an empty slot");
    if (s.version === null && s.schema !== undefined) issue(["slots", slot, "schema"], "must be absent for an empty slot");
  }
  if (r.previousLive !== null && (r.previousLive === r.live || r.slots[r.previousLive].version === null)) {
    issue(["previousLive"], "must name the non-live slot holding a version (or be null)");
  }
  if (r.slots[r.live].version === null) issue(["live"], `names slot ${r.live}, which has no version`);
  else if (r.rollout === null && r.slots[r.live].weight === 0) issue(["live"], `names slot ${r.live}, which has no traffic and no rollout is in progress`);
  if (r.rollout) {
    const ro = r.rollout;
    if (ro.nextStep > ro.steps.length) issue(["rollout", "nextStep"], `is past the last step (${ro.nextStep} > ${ro.steps.length})`);
    if (ro.target === r.live) issue(["rollout", "target"], `must be the idle slot, not the live slot ${r.live}`);
    if (r.slots[ro.target].version === null) issue(["rollout", "target"], `names slot ${ro.target}, which has no version`);
    for (const slot of ["blue", "green"] as const) {
      if (ro.before[slot] > 0 && r.slots[slot].version === null) issue(["rollout", "before", slot], `gives traffic to slot ${slot}, which has no version`);
    }
    if (ro.paused && (ro.nextStep === 0 || !("pause" in (ro.steps[ro.nextStep - 1] ?? {})))) issue(["rollout", "paused"], "is only true right after a pause step");
  }
  const versions = new Set(r.history.map((h) => h.version));
  r.history.forEach((h, i) => {
    if (r.history.findIndex((x) => x.version === h.version) !== i) issue(["history", i, "version"], `${h.version} is listed more than once`);
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
export const ReleaseSchema = ReleaseCoreSchema
  .transform((r) => ({ ...r, history: withSlotVersions(r) }))
  .superRefine((r, ctx) => {
    checkRelease(r, ctx);
    if (r.pending === null) return;
    const pending = PendingCoreSchema.safeParse(r.pending);
    if (!pending.success) {
      for (const i of pending.error.issues) ctx.addIssue({ code: "custom", path: ["pending", ...i.path], message: i.message.replace(/^Invalid input: /, "") });
      return;
    }
    const own = ownStackPattern(r.environment);
    pending.data.stacks.forEach((s, i) => {
      if (!own.test(s)) ctx.addIssue({ code: "custom", path: ["pending", "stacks", i], message: `${JSON.stringify(s)} is not a stack of ${r.environment} (${r.environment}, ${r.environment}-traffic or ${r.environment}-workloads)` });
    });
    const previous = ReleaseCoreSchema.safeParse(pending.data.previous);
    if (!previous.success) {
      for (const i of previous.error.issues) ctx.addIssue({ code: "custom", path: ["pending", "previous", ...i.path], message: i.message.replace(/^Invalid input: /, "") });
    } else if (previous.data.pending !== null) {
      ctx.addIssue({ code: "custom", path: ["pending", "previous", "pending"], message: "must be null: a pending deploy never nests another" });
    } else if (previous.data.environment !== r.environment) {
      ctx.addIssue({ code: "custom", path: ["pending", "previous", "environment"], message: `must be ${r.environment}` });
    }
  })
  .transform((r): Release => ({
    ...r,
    pending: r.pending === null ? null : (() => {
      const p = PendingCoreSchema.parse(r.pending);
      return { ...p, previous: ReleaseCoreSchema.parse(p.previous) as unknown as Release };
    })(),
    lastChange: r.lastChange === null || "seq" in r.lastChange ? r.lastChange : legacyRecord(r.lastChange, r),
  }));

/** A slot version missing from the history (hand-written files) is added, served when it has traffic. */
function withSlotVersions(r: z.infer<typeof ReleaseCoreSchema>): HistoryEntry[] {
  const history = [...r.history];
  for (const slot of ["blue", "green"] as const) {
    const { version, weight, digest } = r.slots[slot];
    if (version !== null && !history.some((h) => h.version === version)) history.push({ version, ...(digest ? { digest } : {}), served: weight > 0 });
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
export type Release = Omit<ReleaseCore, "history" | "pending" | "lastChange"> & { history: HistoryEntry[]; pending: Pending | null; lastChange: ChangeRecord | null };
export type SlotState = z.infer<typeof SlotStateSchema>;
export type Rollout = z.infer<typeof RolloutSchema>;
export type RolloutStep = z.infer<typeof RolloutStepSchema>;

export function otherSlot(slot: Slot): Slot {
  return slot === "blue" ? "green" : "blue";
}

export function weightsOf(r: Pick<Release, "slots">): Weights {
  return { blue: r.slots.blue.weight, green: r.slots.green.weight };
}

/** The traffic-relevant state of a release, as the history records it. */
export function summarize(r: Pick<Release, "live" | "slots"> & { readonly database?: DatabaseState }): StateSummary {
  const slot = (s: SlotState) => ({ version: s.version, weight: s.weight, ...(s.settings ? { settings: s.settings.checksum } : {}), ...(s.schema ? { schema: `${s.schema.requires}..${s.schema.supportsUpTo}` } : {}) });
  return { live: r.live, slots: { blue: slot(r.slots.blue), green: slot(r.slots.green) }, ...(r.database ? { schema: r.database.schema } : {}) };
}

/** Parses a release (throws zod's error); for callers that hold already-validated data. */
export function parseRelease(data: unknown): Release {
  return ReleaseSchema.parse(data);
}
