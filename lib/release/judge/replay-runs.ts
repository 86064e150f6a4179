/**
 * What `envctl analysis replay` re-judges, as pure functions: the settings (the environment's
 * analysis policy, overridden key by key with `--set key=value`), the recorded runs (every analysis
 * record of the history that kept its polls' counts, or those of one rollout), and what a canary
 * step index means for a series file. The judging itself is ./replay.ts.
 */
import { z } from "zod";
import { type Analysis, AnalysisSchema, type CanaryStep, isWeightStep, judgeSettings } from "../model/policy.ts";
import type { AnalysisRecord, ChangeRecord } from "../model/records.ts";
import { stepContext, watchContext } from "./exposure.ts";
import type { StepLookup } from "./replay.ts";
import type { JudgeSettings, Period, StepContext } from "./sequential.ts";

/** The keys `--set` takes: the analysis policy's numbers and checks that matter to the judge, and a bake for every step. */
export const REPLAY_KEYS = [
  "falseRollbackPercent",
  "detect",
  "powerPercent",
  "minSuccessRatePercent",
  "errorRateFloorPercent",
  "warmupSeconds",
  "enforce.errors",
  "enforce.latency",
  "enforce.evidence",
  "bakeSeconds",
] as const;
export type ReplayKey = (typeof REPLAY_KEYS)[number];

type NumberKey =
  | "falseRollbackPercent"
  | "detect"
  | "powerPercent"
  | "minSuccessRatePercent"
  | "errorRateFloorPercent"
  | "warmupSeconds";

export interface ReplayOverrides {
  readonly analysis: Partial<Pick<Analysis, NumberKey>>;
  readonly enforce: Partial<Record<"errors" | "latency" | "evidence", boolean>>;
  /** Replaces every step's bake, seconds. */
  readonly bakeSeconds?: number;
}

const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/** A zod issue of a number's range as a rule: "must be ≥ 1.1". */
function rule(issue: z.core.$ZodIssue): string {
  if (issue.code === "too_small") return `must be ${issue.inclusive === false ? ">" : "≥"} ${String(issue.minimum)}`;
  if (issue.code === "too_big") return `must be ${issue.inclusive === false ? "<" : "≤"} ${String(issue.maximum)}`;
  if (issue.code === "invalid_type" && issue.expected === "int") return "must be a whole number";
  return issue.message.replace(/^Invalid input: /, "");
}

const BAKE = z.number().int().min(0).max(86_400);

/**
 * Parses `key=value` pairs; every problem at once, each `{ key, message }` (`key` is the pair when
 * it has no `=`). Numbers are checked against the analysis policy's own rules.
 */
export function parseOverrides(pairs: readonly string[]): {
  overrides: ReplayOverrides;
  problems: { key: string; message: string }[];
} {
  const analysis: Partial<Record<NumberKey, number>> = {};
  const enforce: ReplayOverrides["enforce"] & Record<string, boolean> = {};
  let bakeSeconds: number | undefined;
  const problems: { key: string; message: string }[] = [];
  const seen = new Set<string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      problems.push({ key: pair, message: `must be key=value (keys: ${REPLAY_KEYS.join(", ")})` });
      continue;
    }
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (!(REPLAY_KEYS as readonly string[]).includes(key)) {
      problems.push({ key, message: `is not a setting the judge replays with (keys: ${REPLAY_KEYS.join(", ")})` });
      continue;
    }
    if (seen.has(key)) {
      problems.push({ key, message: "is set more than once" });
      continue;
    }
    seen.add(key);
    if (key.startsWith("enforce.")) {
      if (value !== "true" && value !== "false") problems.push({ key, message: "must be true or false" });
      else enforce[key.slice("enforce.".length)] = value === "true";
      continue;
    }
    if (!NUMBER.test(value)) {
      problems.push({ key, message: `must be a number, not ${JSON.stringify(value)}` });
      continue;
    }
    const schema = key === "bakeSeconds" ? BAKE : AnalysisSchema.shape[key as NumberKey];
    const parsed = schema.safeParse(Number(value));
    if (!parsed.success) problems.push({ key, message: parsed.error.issues.map(rule).join("; ") });
    else if (key === "bakeSeconds") bakeSeconds = parsed.data;
    else analysis[key as NumberKey] = parsed.data;
  }
  return { overrides: { analysis, enforce, ...(bakeSeconds === undefined ? {} : { bakeSeconds }) }, problems };
}

/** The judge's settings: the environment's analysis policy with the overrides. */
export function replaySettings(a: Analysis, o: ReplayOverrides): JudgeSettings {
  return judgeSettings({ ...a, ...o.analysis, enforce: { ...a.enforce, ...o.enforce } });
}

/**
 * What a step index of a series means (`no canary step K: …` when it cannot be replayed): a canary
 * weight step, or, one past the last, the post-switch watch.
 */
export function seriesSteps(env: string, canary: readonly CanaryStep[], a: Analysis, o: ReplayOverrides): StepLookup {
  const policy = { ...a, ...o.analysis };
  return (k) => {
    if (k === canary.length && a.postSwitchWatchSeconds > 0) return watchContext(a.postSwitchWatchSeconds);
    const s = canary[k];
    if (s === undefined) {
      const watch = a.postSwitchWatchSeconds > 0 ? ` and the post-switch watch as step ${canary.length}` : "";
      return `no canary step ${k}: ${env} has ${canary.length} (release.canary[0]–[${canary.length - 1}])${watch}`;
    }
    if (!isWeightStep(s)) return `no canary step ${k}: release.canary[${k}] of ${env} is a pause, not a weight step`;
    return stepContext(canary, k, policy, o.bakeSeconds);
  };
}

/** The step index that completes a rollout of `canary`: its last weight step. */
export const lastWeightStep = (canary: readonly CanaryStep[]): number =>
  canary.map((s, i) => (isWeightStep(s) ? i : -1)).reduce((a, b) => Math.max(a, b), 0);

/** A recorded interval as the judge's period (records before the load balancer's 5xx were split out carry none). */
export function periodOfRecord(i: NonNullable<AnalysisRecord["intervals"]>[number]): Period {
  return { t: i.t, canary: i.canary, stable: i.stable, lbErrors: i.lb?.errors ?? 0, edges: i.buckets ?? null };
}

/** One recorded analysis to re-judge. */
export interface RecordedRun {
  /** `change <seq> step <k>`, `change <seq> watch`. */
  readonly id: string;
  readonly seq: number;
  readonly step: number | "watch";
  readonly record: AnalysisRecord;
  readonly intervals: readonly Period[];
}

const ROLLOUT_ENDS = new Set(["rollout-complete", "rolled-back", "aborted"]);

/**
 * The analyses with recorded polls; with `change`, those of the rollout that change belongs to
 * (from its `rollout-started` record to the record that ended it), or the change's own analysis
 * when it is no part of a rollout. A string says why there is nothing to replay (to follow the environment's name).
 */
export function recordedRuns(history: readonly ChangeRecord[], change?: number): RecordedRun[] | string {
  let span: readonly ChangeRecord[] = history;
  if (change !== undefined) {
    const at = history.findIndex((h) => h.seq === change);
    if (at < 0)
      return history.length === 0
        ? "no change is recorded"
        : `no change ${change} in the history (changes ${history[0]!.seq}–${history.at(-1)!.seq})`;
    let start = at;
    while (start >= 0 && history[start]!.outcome !== "rollout-started") start--;
    let end = Math.max(start, 0);
    while (
      end + 1 < history.length &&
      history[end + 1]!.outcome !== "rollout-started" &&
      !ROLLOUT_ENDS.has(history[end]!.outcome)
    )
      end++;
    span = start >= 0 && at <= end ? history.slice(start, end + 1) : [history[at]!];
  }
  const runs = span
    .filter((h) => h.analysis?.intervals?.length)
    .map((h): RecordedRun => {
      const a = h.analysis!;
      return {
        id: `change ${h.seq} ${a.step === "watch" ? "watch" : `step ${a.step}`}`,
        seq: h.seq,
        step: a.step,
        record: a,
        intervals: a.intervals!.map(periodOfRecord),
      };
    });
  if (runs.length > 0) return runs;
  const where =
    change === undefined
      ? "the history"
      : span.length > 1
        ? `the rollout of change ${change} (changes ${span[0]!.seq}–${span.at(-1)!.seq})`
        : `change ${change} (${span[0]!.outcome}), which is no part of a rollout`;
  return `no analysis with recorded polls in ${where}: nothing to replay`;
}

/** How a recorded run's step is judged now: the environment's policy for it (a step the policy no longer has: as recorded). */
export function recordedStep(
  run: RecordedRun,
  canary: readonly CanaryStep[],
  a: Analysis,
  o: ReplayOverrides,
): StepContext {
  const lastT = run.intervals.at(-1)?.t ?? 0;
  if (run.step === "watch") return watchContext(o.bakeSeconds ?? (a.postSwitchWatchSeconds || lastT));
  const s = canary[run.step];
  const policy = { ...a, ...o.analysis };
  if (s && isWeightStep(s) && s.percent === run.record.percent)
    return stepContext(canary, run.step, policy, o.bakeSeconds);
  // A step the policy no longer has: as recorded, judged against the last step's bound.
  const maxRatio = run.record.percent >= 100 ? null : policy.detect;
  return { index: run.step, percent: run.record.percent, bakeSeconds: o.bakeSeconds ?? lastT, maxRatio };
}
