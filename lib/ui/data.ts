/**
 * What the console shows, as plain data: the environments report's model (lib/report/model.ts,
 * the same data `envctl report` renders) plus what a live console adds: time since the last
 * release, the configuration's names, the history with approvers, the settings diff between the
 * slots, and a rollout's steps, weights over time and evidence. Pure functions of the project on disk.
 */
import type { LoadedEnvironment, Project } from "../config/load.ts";
import type { AnalysisRecord } from "../release/model/records.ts";
import { type AuditEntry, readAudit, readNotes } from "../release/store/index.ts";
import { collectReport, type ReportEnvironment, type ReportHistoryEntry } from "../report/model.ts";
import { type EvidencePoint, rolloutEvidence, verdictInWords } from "./evidence.ts";
import { liveEvidence } from "./live-step.ts";

/** Outcomes that count as a release (the time since the last one). */
const RELEASES = /^(deployed|rolled-back|aborted|rollout-complete|completed|promoted)/;

export interface OverviewEnvironment extends ReportEnvironment {
  readonly lastRelease: { readonly at: string; readonly ago: string } | null;
}

export interface Overview {
  readonly project: string;
  readonly generatedAt: string;
  readonly environments: readonly OverviewEnvironment[];
  readonly edges: ReturnType<typeof collectReport>["edges"];
  readonly activity: readonly ReportHistoryEntry[];
}

/** "3 min", "2 h", "5 d". */
export function ago(from: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(from)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

export function overviewOf(project: Project, now: Date): Overview {
  const report = collectReport(project, { now, historyLimit: 15 });
  return {
    project: report.project,
    generatedAt: report.generatedAt,
    edges: report.edges,
    activity: report.history,
    environments: report.environments.map((e) => {
      const last = [...readAudit(project.root, e.name)].reverse().find((a) => RELEASES.test(a.outcome));
      return { ...e, lastRelease: last ? { at: last.at, ago: ago(last.at, now) } : null };
    }),
  };
}

export interface HistoryItem {
  readonly seq: number;
  readonly at: string;
  readonly by: string;
  readonly command: string;
  readonly outcome: string;
  readonly weights: string;
  readonly note?: string;
  /** Who approved the change (the history's approval notes), when it needed approvals. */
  readonly approvers?: readonly string[];
}

const weights = (s: AuditEntry["to"]) => `blue ${s.slots.blue.weight} / green ${s.slots.green.weight}`;

export function historyOf(root: string, env: string): HistoryItem[] {
  const approvals = readNotes(root, env, "approval") as unknown as {
    at: string;
    approvers?: string[];
    summary?: string;
  }[];
  const audit = readAudit(root, env);
  return audit
    .map((a, i): HistoryItem => {
      // The approval recorded for this change: after the one before it, at or before it, naming its command.
      const after = i > 0 ? audit[i - 1]!.at : "";
      const command = a.command.replace(/^envctl /, "");
      const approved = approvals.filter((n) => n.at >= after && n.at <= a.at && n.summary?.includes(command)).at(-1);
      return {
        seq: a.seq,
        at: a.at,
        by: a.by,
        command: a.command,
        outcome: a.outcome,
        weights: `${weights(a.from)} → ${weights(a.to)}`,
        ...(a.note ? { note: a.note } : {}),
        ...(approved?.approvers ? { approvers: approved.approvers } : {}),
      };
    })
    .reverse();
}

export interface EnvironmentDetail {
  readonly name: string;
  readonly tier: string;
  readonly region: string;
  readonly account: string;
  readonly live: string;
  readonly config: {
    readonly settings: readonly string[];
    readonly secrets: readonly string[];
    readonly counts: { readonly public: number; readonly sensitive: number };
  };
  readonly services: { readonly database: string | null; readonly cache: string | null };
  readonly promotesTo: readonly string[];
  /** Settings whose values differ between the slots (plain settings: never secrets). */
  readonly settingsDiff: readonly {
    readonly name: string;
    readonly blue: string | null;
    readonly green: string | null;
  }[];
}

export function environmentOf(e: LoadedEnvironment): EnvironmentDetail {
  const c = e.config;
  const settings = Object.keys(c.app?.settings ?? {}).sort();
  const secrets = (c.app?.secrets ?? []).map((s) => s.name).sort();
  const blue = e.release.slots.blue.settings?.values ?? {};
  const green = e.release.slots.green.settings?.values ?? {};
  const names = [...new Set([...Object.keys(blue), ...Object.keys(green)])].sort();
  const text = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  return {
    name: c.name,
    tier: c.tier,
    region: c.region,
    account: c.account.id,
    live: e.release.live,
    config: { settings, secrets, counts: { public: settings.length, sensitive: secrets.length } },
    services: {
      database: c.database ? `PostgreSQL ${c.database.engineVersion} (${c.database.instanceClass})` : null,
      cache: c.cache ? `Redis ${c.cache.engineVersion} (${c.cache.nodeType}, ${c.cache.replicas} replicas)` : null,
    },
    promotesTo: c.release.promotesTo,
    settingsDiff: names
      .filter((n) => text(blue[n]) !== text(green[n]))
      .map((n) => ({ name: n, blue: text(blue[n]), green: text(green[n]) })),
  };
}

export interface RolloutView {
  readonly environment: string;
  readonly tier: string;
  readonly rollout: ReportEnvironment["rollout"];
  readonly slots: ReportEnvironment["slots"];
  readonly maintenance: boolean;
  /** The weight of the target slot after each change since the rollout started (or the last one's). */
  readonly weights: readonly { readonly at: string; readonly percent: number; readonly outcome: string }[];
  readonly analyses: readonly (AnalysisRecord & { at: string; words: string[]; series: EvidencePoint[] })[];
  /** The step baking now, poll by poll (a rollout this console runs); empty otherwise. */
  readonly live: readonly EvidencePoint[];
}

/** `lines`: the progress of a rollout of `name` this console runs (its step in progress, poll by poll). */
export function rolloutOf(
  project: Project,
  name: string,
  now: Date,
  lines: readonly string[] = [],
): RolloutView | undefined {
  const e = project.environments.find((x) => x.config.name === name);
  if (!e) return undefined;
  const card = collectReport({ ...project, environments: [e] }, { now }).environments[0]!;
  const audit = readAudit(project.root, name);
  const startedAt = e.release.rollout?.startedAt;
  const start = startedAt
    ? audit.findIndex((a) => a.at >= startedAt)
    : audit.map((a) => a.outcome).lastIndexOf("rollout-started");
  const since = start < 0 ? [] : audit.slice(start);
  // One judge over the rollout's steps, as the rollout judged them: the evidence carries over.
  const judged = since.filter((a) => a.analysis);
  const series = rolloutEvidence(
    judged.map((a) => a.analysis!),
    e.config.release.analysis,
  );
  const target = e.release.rollout?.target ?? (e.release.live === "blue" ? "green" : "blue");
  return {
    environment: name,
    tier: e.config.tier,
    rollout: card.rollout,
    slots: card.slots,
    maintenance: e.release.maintenance !== undefined,
    live: e.release.rollout ? liveEvidence(lines) : [],
    weights: since.map((a) => ({ at: a.at, percent: a.to.slots[target].weight, outcome: a.outcome })),
    analyses: judged.map((a, k) => ({
      ...a.analysis!,
      at: a.at,
      words: verdictInWords(a.analysis!),
      series: series[k] ?? [],
    })),
  };
}
