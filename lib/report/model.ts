/**
 * What the environments report shows, as plain data: collected from the project (environment
 * files, release files, audit records, the price table, optionally a drift result) by
 * `collectReport`, rendered by the pure `renderReport` (./html.ts).
 */

import { type CostLine, estimateMonthlyCost } from "../config/cost-estimate.ts";
import type { LoadedEnvironment, Project } from "../config/load.ts";
import { PRICES_AS_OF } from "../cost/prices.ts";
import { isWeightStep } from "../release/model/policy.ts";
import type { AnalysisRecord } from "../release/model/records.ts";
import type { Release } from "../release/model/release.ts";
import { type AuditEntry, readAudit } from "../release/store/index.ts";
import { readSchedule } from "../release/store/schedule.ts";
import type { StackDrift } from "../review/drift.ts";
import { type CalendarView, calendarView } from "./calendar-view.ts";
import { type HistoryRow, historyRows } from "./history.ts";

export interface ReportSlot {
  readonly slot: "blue" | "green";
  readonly version: string | null;
  readonly weight: number;
  readonly live: boolean;
  /** The database schema versions the slot's version runs on (`1..2`), when declared. */
  readonly schema?: string;
}

export interface ReportStep {
  /** "10 %", "pause", "pause 600 s". */
  readonly label: string;
  readonly state: "done" | "current" | "next";
}

export interface ReportRollout {
  readonly target: string;
  readonly version: string | null;
  readonly startedAt: string;
  readonly paused: boolean;
  readonly steps: readonly ReportStep[];
}

/** One change of an environment's history (./history.ts). */
export type ReportHistoryEntry = HistoryRow;

export interface ReportEnvironment {
  readonly name: string;
  readonly tier: string;
  readonly region: string;
  /** "ec2 t3.micro × 1", "eks 1.35: general t3.medium × 2". */
  readonly compute: string;
  readonly preview: boolean;
  readonly slots: readonly ReportSlot[];
  readonly rollout: ReportRollout | null;
  readonly lastAnalysis: (AnalysisRecord & { at: string }) | null;
  readonly pending: { stacks: string[]; command: string; since: string } | null;
  /** Maintenance mode: who switched it on, when, the bypasses; null when off. */
  readonly maintenance?: { since: string; by: string; allowCidrs: string[]; allowHeader: string | null } | null;
  /** The shared database's schema version as envctl last recorded it (`envctl migrate`, `data copy`); absent when not tracked. */
  readonly database?: { schema: number | null; dirty: boolean; readAt: string; instance: string };
  /** The release calendar and the scheduled changes; absent when the environment has neither. */
  readonly calendar?: CalendarView;
  /** Stacks of the environment in the drift result; null when drift was not checked. */
  readonly drift: readonly StackDrift[] | null;
  readonly cost: { total: number; lines: readonly CostLine[] } | { error: string };
}

export interface ReportData {
  readonly project: string;
  readonly generatedAt: string;
  readonly pricesAsOf: string;
  readonly environments: readonly ReportEnvironment[];
  /** The promotion graph: `promotes` edges and rollback-only paths. */
  readonly edges: readonly { from: string; to: string; kind: "promotes" | "rollback" }[];
  /** Newest first. */
  readonly history: readonly ReportHistoryEntry[];
  /** Whether a drift result was given (else every environment's drift is "not checked"). */
  readonly driftChecked: boolean;
}

function computeOf(e: LoadedEnvironment["config"]): string {
  const c = e.compute;
  if (c.kind === "ec2") return `ec2 ${c.instanceType} × ${c.capacity.desired}`;
  return `eks ${c.kubernetesVersion}: ${c.nodeGroups
    .map(
      (g) => `${g.name} ${g.instanceTypes[0]} × ` + `${g.capacity.desired}${g.capacityType === "SPOT" ? " spot" : ""}`,
    )
    .join(", ")}`;
}

function rolloutOf(r: Release): ReportRollout | null {
  const ro = r.rollout;
  if (!ro) return null;
  return {
    target: ro.target,
    version: r.slots[ro.target].version,
    startedAt: ro.startedAt,
    paused: ro.paused,
    steps: ro.steps.map((s, i) => ({
      label: isWeightStep(s) ? `${s.percent} %` : s.pause === "manual" ? "pause" : `pause ${s.pause} s`,
      state: i < ro.nextStep ? "done" : i === ro.nextStep ? "current" : "next",
    })),
  };
}

function lastAnalysis(audit: readonly AuditEntry[]): (AnalysisRecord & { at: string }) | null {
  for (let i = audit.length - 1; i >= 0; i--)
    if (audit[i]!.analysis) return { ...audit[i]!.analysis!, at: audit[i]!.at };
  return null;
}

/** Levels left to right: graph roots at 0, each environment one right of what promotes into it. */
export function graphLevels(names: readonly string[], edges: ReportData["edges"]): Map<string, number> {
  const promotes = edges.filter((e) => e.kind === "promotes" && names.includes(e.from) && names.includes(e.to));
  const level = new Map<string, number>();
  const visit = (n: string, seen: Set<string>): number => {
    if (level.has(n)) return level.get(n)!;
    if (seen.has(n)) return 0; // the loader refuses cycles; never loop here
    seen.add(n);
    const preds = promotes.filter((e) => e.to === n).map((e) => visit(e.from, seen) + 1);
    const l = preds.length ? Math.max(...preds) : 0;
    level.set(n, l);
    return l;
  };
  for (const n of names) visit(n, new Set());
  return level;
}

export interface CollectOptions {
  readonly now: Date;
  /** The result of `envctl drift --json`; undefined when drift was not checked. */
  readonly drift?: readonly StackDrift[];
  /** How many history entries (all environments, newest first). @default 20 */
  readonly historyLimit?: number;
}

/** The report's data from the project on disk. */
function calendarOf(e: Project["environments"][number], now: Date, root: string): { calendar?: CalendarView } {
  const view = calendarView(e, now, readSchedule(root, e.config.name).changes);
  return view ? { calendar: view } : {};
}

export function collectReport(project: Project, o: CollectOptions): ReportData {
  const environments = project.environments.map((e): ReportEnvironment => {
    const r = e.release;
    const name = e.config.name;
    const own = (stack: string) => stack === name || stack === `${name}-traffic` || stack === `${name}-workloads`;
    let cost: ReportEnvironment["cost"];
    try {
      cost = estimateMonthlyCost(e.config);
    } catch (err) {
      cost = { error: (err as Error).message };
    }
    return {
      name,
      tier: e.config.tier,
      region: e.config.region,
      compute: computeOf(e.config),
      preview: e.config.expiresAt !== undefined,
      slots: (["blue", "green"] as const).map((slot) => {
        const sc = r.slots[slot].schema;
        return {
          slot,
          version: r.slots[slot].version,
          weight: r.slots[slot].weight,
          live: r.live === slot,
          ...(sc ? { schema: `${sc.requires}..${sc.supportsUpTo}` } : {}),
        };
      }),
      ...(r.database
        ? {
            database: {
              schema: r.database.schema,
              dirty: r.database.dirty,
              readAt: r.database.readAt,
              instance: r.database.instance ?? `${name}-postgres`,
            },
          }
        : {}),
      rollout: rolloutOf(r),
      lastAnalysis: lastAnalysis(readAudit(project.root, name)),
      pending: r.pending ? { stacks: r.pending.stacks, command: r.pending.command, since: r.pending.since } : null,
      maintenance: r.maintenance
        ? {
            since: r.maintenance.since,
            by: r.maintenance.by,
            allowCidrs: [...r.maintenance.allowCidrs],
            allowHeader: r.maintenance.allowHeader?.name ?? null,
          }
        : null,
      drift: o.drift ? o.drift.filter((d) => own(d.stack)) : null,
      cost,
      ...calendarOf(e, o.now, project.root),
    };
  });
  const edges = project.environments.flatMap((e) => [
    ...e.config.release.promotesTo.map((to) => ({ from: e.config.name, to, kind: "promotes" as const })),
    ...e.config.release.rollbackTo.map((to) => ({ from: e.config.name, to, kind: "rollback" as const })),
  ]);
  // along the promotion graph: dev, staging, production; previews after their level's permanent ones
  const level = graphLevels(
    environments.map((e) => e.name),
    edges,
  );
  environments.sort(
    (a, b) =>
      level.get(a.name)! - level.get(b.name)! || Number(a.preview) - Number(b.preview) || a.name.localeCompare(b.name),
  );
  const history = project.environments
    .flatMap((e) => historyRows(project.root, e.config.name))
    .sort((a, b) => b.at.localeCompare(a.at) || a.environment.localeCompare(b.environment) || b.seq - a.seq)
    .slice(0, o.historyLimit ?? 20);
  return {
    project: project.environments[0]?.config.project ?? "envstack",
    generatedAt: o.now.toISOString(),
    pricesAsOf: PRICES_AS_OF,
    environments,
    edges,
    history,
    driftChecked: o.drift !== undefined,
  };
}
