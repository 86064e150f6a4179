/**
 * What the console shows, as plain data: the view models it shares with `envctl report`
 * (lib/report/views-data.ts: the overview, an environment's page, its history), and what only a
 * live console has: a rollout's steps, weights over time, evidence and the step baking now. Pure.
 */
import type { Project } from "../config/load.ts";
import type { AnalysisRecord } from "../release/model/records.ts";
import type { TrafficPlan } from "../release/rollout/plan.ts";
import { readAudit } from "../release/store/index.ts";
import { collectReport, type ReportEnvironment } from "../report/model.ts";
import { type EvidencePoint, rolloutEvidence, verdictInWords } from "./evidence.ts";
import { liveEvidence } from "./live-step.ts";

export type { HistoryRow } from "../report/history.ts";
export {
  type EnvironmentDetail,
  environmentOf,
  historyOf,
  type Overview,
  type OverviewEnvironment,
  overviewOf,
} from "../report/views-data.ts";

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
  /** The rollout's traffic plan (null: not asked for). */
  readonly plan: TrafficPlan | { error: string } | null;
}

/** `lines`: the progress of a rollout of `name` this console runs (its step in progress, poll by poll). */
export function rolloutOf(
  project: Project,
  name: string,
  now: Date,
  lines: readonly string[] = [],
  plan: RolloutView["plan"] = null,
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
    plan,
    weights: since.map((a) => ({ at: a.at, percent: a.to.slots[target].weight, outcome: a.outcome })),
    analyses: judged.map((a, k) => ({
      ...a.analysis!,
      at: a.at,
      words: verdictInWords(a.analysis!),
      series: series[k] ?? [],
    })),
  };
}
