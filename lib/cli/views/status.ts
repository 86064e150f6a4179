/**
 * The view of `envctl status` (and the report after every release command): pure functions of a
 * loaded environment and its history.
 */
import type { LoadedEnvironment } from "../../config/load.ts";
import { describeRecord } from "../../release/judge/record.ts";
import type { AnalysisRecord } from "../../release/model/records.ts";
import type { RolloutStep } from "../../release/model/release.ts";
import type { ScheduledChange } from "../../release/model/schedule.ts";
import { type CalendarView, calendarText, calendarView } from "../../report/calendar-view.ts";

export interface StatusView {
  environment: string;
  tier: string;
  live: string;
  slots: Record<string, { version: string | null; weight: number }>;
  rollout: {
    target: string;
    step: number;
    steps: (number | string)[];
    nextPercent: number | null;
    paused: boolean;
  } | null;
  pending: { stacks: string[]; command: string; since: string } | null;
  lastChange: { by: string; at: string; command: string } | null;
  /** The newest canary analysis in the history (what the gate measured and decided). */
  lastAnalysis: (AnalysisRecord & { at: string }) | null;
  /**
   * The shared database's schema version: read back now when envctl can reach the
   * database (`source: "database"`), else as the last migration recorded it (`source: "recorded"`);
   * absent when the environment tracks no schema.
   */
  database?: {
    schema: number | null;
    dirty: boolean;
    source: "database" | "recorded";
    readAt: string | null;
    instance: string;
    error?: string;
  };
  /** The release calendar and the scheduled changes; absent when the environment has neither. */
  calendar?: CalendarView;
  /** Maintenance mode (the 503 page ahead of the weighted rule); absent when off. */
  maintenance?: { since: string; by: string; message: string; allowCidrs: string[]; allowHeader: string | null };
}

/** A step as status shows it: its percent, or `pause` / `pause 600 s`. */
function stepLabel(s: RolloutStep): number | string {
  return "percent" in s ? s.percent : s.pause === "manual" ? "pause" : `pause ${s.pause} s`;
}

function nextPercent(steps: readonly RolloutStep[]): number | null {
  for (const s of steps) if ("percent" in s) return s.percent;
  return null;
}

/** The newest record of the history that carries an analysis. */
export function lastAnalysisOf(
  history: readonly { at: string; analysis?: AnalysisRecord }[],
): (AnalysisRecord & { at: string }) | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.analysis) return { ...h.analysis, at: h.at };
  }
  return null;
}

/** The database's schema read back now, or why it could not be. */
export type SchemaReadBack = { schema: number | null; dirty: boolean; at: string } | { error: string };

function databaseView(e: LoadedEnvironment, read?: SchemaReadBack): StatusView["database"] {
  const r = e.release;
  const tracked = r.database !== undefined || r.slots.blue.schema !== undefined || r.slots.green.schema !== undefined;
  if (!tracked && (read === undefined || "error" in read)) return undefined;
  const instance = r.database?.instance ?? `${e.config.name}-postgres`;
  if (read && !("error" in read))
    return { schema: read.schema, dirty: read.dirty, source: "database", readAt: read.at, instance };
  return {
    schema: r.database?.schema ?? null,
    dirty: r.database?.dirty ?? false,
    source: "recorded",
    readAt: r.database?.readAt ?? null,
    instance,
    ...(read && "error" in read ? { error: read.error } : {}),
  };
}

export function statusOf(
  e: LoadedEnvironment,
  lastAnalysis: (AnalysisRecord & { at: string }) | null = null,
  schema?: SchemaReadBack,
  calendar?: { readonly now: Date; readonly scheduled: readonly ScheduledChange[] },
): StatusView {
  const r = e.release;
  const database = databaseView(e, schema);
  const cal = calendar ? calendarView(e, calendar.now, calendar.scheduled) : undefined;
  return {
    environment: e.config.name,
    tier: e.config.tier,
    live: r.live,
    slots: { blue: { ...r.slots.blue }, green: { ...r.slots.green } },
    rollout: r.rollout
      ? {
          target: r.rollout.target,
          step: r.rollout.nextStep,
          steps: r.rollout.steps.map(stepLabel),
          nextPercent: nextPercent(r.rollout.steps.slice(r.rollout.nextStep)),
          paused: r.rollout.paused,
        }
      : null,
    pending: r.pending ? { stacks: r.pending.stacks, command: r.pending.command, since: r.pending.since } : null,
    lastChange: r.lastChange ? { by: r.lastChange.by, at: r.lastChange.at, command: r.lastChange.command } : null,
    lastAnalysis,
    ...(database ? { database } : {}),
    ...(cal ? { calendar: cal } : {}),
    ...(r.maintenance
      ? {
          maintenance: {
            since: r.maintenance.since,
            by: r.maintenance.by,
            message: r.maintenance.message,
            allowCidrs: [...r.maintenance.allowCidrs],
            allowHeader: r.maintenance.allowHeader?.name ?? null,
          },
        }
      : {}),
  };
}

/** "MAINTENANCE since … by …; bypass …": what status prints while the page is up. */
export function maintenanceText(v: StatusView): string | null {
  const m = v.maintenance;
  if (!m) return null;
  const bypass = [
    ...(m.allowCidrs.length ? [`CIDRs ${m.allowCidrs.join(", ")}`] : []),
    ...(m.allowHeader ? [`header ${m.allowHeader}`] : []),
  ];
  const how = bypass.length ? `; bypass: ${bypass.join("; ")}` : "; no bypass";
  return (
    `MAINTENANCE since ${m.since} by ${m.by}: users get the 503 page${how} — ` +
    `end it with 'envctl maintenance ${v.environment} off'`
  );
}

/** "database dev-postgres: schema 2 (read back at …); blue runs on 1..2, green on 2..3" */
export function databaseText(v: StatusView): string | null {
  const d = v.database;
  if (!d) return null;
  const range = (s: "blue" | "green") => {
    const slot = v.slots[s] as { version: string | null; schema?: { requires: number; supportsUpTo: number } };
    return slot.version === null
      ? null
      : `${s} (${slot.version}) runs on ${slot.schema ? `${slot.schema.requires}..${slot.schema.supportsUpTo}` : "an undeclared schema range"}`;
  };
  const ranges = (["blue", "green"] as const).map(range).filter((x) => x !== null);
  const where =
    d.source === "database"
      ? `read back at ${d.readAt}`
      : `as recorded${d.readAt ? ` at ${d.readAt}` : ""}${d.error ? `; could not read the database: ${d.error}` : ""}`;
  return (
    `database ${d.instance}: schema ` +
    `${d.schema ?? "none (no migration ran)"}${d.dirty ? " DIRTY (a migration stopped midway)" : ""} (${where}); ${ranges.join(", ")}`
  );
}

/** "rollout of green: 1/3 steps applied (10 % → 50 % → 100 %), next 50 %" */
export function rolloutText(v: StatusView): string {
  const r = v.rollout;
  if (!r) return "no rollout";
  return (
    `rollout of ${r.target}: ${r.step}/${r.steps.length} steps applied ` +
    `(${r.steps.map((s) => (typeof s === "number" ? `${s} %` : s)).join(" → " + "")})${
      r.paused
        ? `, PAUSED: continue with 'envctl rollout ${v.environment} --continue'`
        : r.nextPercent !== null
          ? `, next ${r.nextPercent} %`
          : ", awaiting completion"
    }`
  );
}

export function formatStatus(views: StatusView[]): string {
  const slot = (v: StatusView, s: "blue" | "green") =>
    `${s}${v.live === s ? "*" : " "} ${(v.slots[s]!.version ?? "-").padEnd(10)} ${String(v.slots[s]!.weight).padStart(3)} %`;
  return views
    .map((v) => {
      const lines = [`${v.environment} (${v.tier})  live: ${v.live}`, `  ${slot(v, "blue")}    ${slot(v, "green")}`];
      const m = maintenanceText(v);
      if (m) lines.push(`  ${m}`);
      const d = databaseText(v);
      if (d) lines.push(`  ${d}`);
      if (v.rollout) lines.push(`  ${rolloutText(v)}`);
      if (v.calendar) lines.push(...calendarText(v.calendar).map((l) => `  ${l}`));
      if (v.pending)
        lines.push(
          `  PENDING: deploy of ${v.pending.stacks.join(", ")} by ` +
            `'${v.pending.command}' since ${v.pending.since} did not finish — run 'envctl reconcile ${v.environment}'`,
        );
      lines.push(
        `  last change: ${v.lastChange ? `${v.lastChange.by} at ${v.lastChange.at}: ${v.lastChange.command}` : "none"}`,
      );
      if (v.lastAnalysis) lines.push(`  last analysis (${v.lastAnalysis.at}): ${describeRecord(v.lastAnalysis)}`);
      return lines.join("\n");
    })
    .join("\n\n");
}

/** Above this many environments, `envctl status` prints {@link formatStatusSummary} instead of every block. */
export const DETAILED_UP_TO = 12;
/** Names listed per group before "and N more". */
const NAMES_SHOWN = 8;

/** Whether an environment needs a look: a rollout, a deploy that did not finish, maintenance, a dirty schema, split traffic. */
export function needsAttention(v: StatusView): boolean {
  const split = v.slots.blue!.weight > 0 && v.slots.green!.weight > 0;
  return v.rollout !== null || v.pending !== null || v.maintenance !== undefined || v.database?.dirty === true || split;
}

/**
 * `envctl status` over many environments: a summary line first, then every environment that needs
 * attention in full ({@link formatStatus}), then the steady ones grouped by tier and by what they
 * run (live slot, version, weight), a few names per group.
 */
export function formatStatusSummary(views: readonly StatusView[]): string {
  const attention = views.filter(needsAttention);
  const steady = views.filter((v) => !needsAttention(v));
  const count = (p: (v: StatusView) => boolean) => views.filter(p).length;
  const summary = [
    `${views.length} environments`,
    `${steady.length} steady`,
    `${count((v) => v.rollout !== null)} rolling out`,
    `${count((v) => v.pending !== null)} with an unfinished deploy`,
    `${count((v) => v.maintenance !== undefined)} in maintenance`,
  ].join(", ");
  const names = (list: readonly string[]) =>
    list.length <= NAMES_SHOWN
      ? list.join(", ")
      : `${list.slice(0, NAMES_SHOWN).join(", ")} and ${list.length - NAMES_SHOWN} more`;
  const tiers = [...new Set(views.map((v) => v.tier))];
  const groups = tiers.flatMap((tier) => {
    const inTier = steady.filter((v) => v.tier === tier);
    if (inTier.length === 0) return [];
    const byRun = new Map<string, string[]>();
    for (const v of inTier) {
      const live = v.slots[v.live]!;
      const key = `live ${v.live} ${live.version ?? "-"} (${live.weight} %)`;
      byRun.set(key, [...(byRun.get(key) ?? []), v.environment]);
    }
    return [
      `${tier}: ${inTier.length} steady`,
      ...[...byRun].map(([run, envs]) => `  ${run}: ${envs.length} — ${names(envs)}`),
    ];
  });
  return [
    summary,
    ...(attention.length ? ["", `needs attention (${attention.length}):`, formatStatus([...attention])] : []),
    ...(groups.length ? ["", ...groups] : []),
    "",
    "one environment in full: envctl status <env>; one tier: --tier <tier>; everything: --json",
  ].join("\n");
}
