/**
 * Replay (Kayenta's retrospective analysis): re-judges recorded polls with any settings, poll by
 * poll, exactly as the rollout controller judges them. Pure: series in, verdicts out.
 *
 * A series is JSON Lines, one poll interval per line:
 *   {"run": "<id>", "step": <canary step index>, "t": <seconds since the step started>,
 *    "canary": {"requests": n, "errors": n, "slow": n}, "stable": {"requests": n, "errors": n, "slow": n}}
 * Counts are for that interval only; a run's lines come in time order; one file may hold many runs.
 * A run is judged at each of its lines; its last line at or past the bake is the final poll. A run
 * that ends before its bake without a decision is `pending`.
 */
import { z } from "zod";
import {
  addInterval,
  type Interval,
  type JudgeSettings,
  type StepContext,
  startStep,
  testsFor,
  verdict,
} from "./sequential.ts";

const count = z.number("must be a number").int("must be a whole number").min(0, "must not be negative");
export const SeriesCountsSchema = z
  .strictObject({ requests: count, errors: count, slow: count.nullable().default(null) })
  .superRefine((c, ctx) => {
    if (c.requests < 0) return; // reported by its own rule
    if (c.errors > c.requests)
      ctx.addIssue({ code: "custom", path: ["errors"], message: `must not exceed requests (${c.requests})` });
    if (c.slow !== null && c.slow > c.requests)
      ctx.addIssue({ code: "custom", path: ["slow"], message: `must not exceed requests (${c.requests})` });
  });

export const SeriesLineSchema = z.strictObject({
  run: z.string().min(1, "must not be empty").max(200),
  step: z.number().int("must be a whole number").min(0, "must not be negative"),
  t: z
    .number()
    .min(0, "must not be negative")
    .max(10 * 86_400),
  canary: SeriesCountsSchema,
  stable: SeriesCountsSchema,
});
export type SeriesLine = z.infer<typeof SeriesLineSchema>;

/** What a canary step index means: its weight and bake, or why it cannot be replayed. */
export type StepLookup = (index: number) => { percent: number; bakeSeconds: number } | string;

/**
 * Parses and checks a series; all problems at once, each as `file:line: field: rule`. Nothing is
 * judged when any line is wrong.
 */
export function parseSeries(
  text: string,
  file: string,
  steps: StepLookup,
): { lines: SeriesLine[]; problems: string[] } {
  const lines: SeriesLine[] = [];
  const problems: string[] = [];
  const lastT = new Map<string, { t: number; step: number; line: number }>();
  text.split("\n").forEach((raw, i) => {
    const at = `${file}:${i + 1}`;
    if (raw.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      problems.push(`${at}: not JSON (${(err as Error).message})`);
      return;
    }
    const parsed = SeriesLineSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(`${at}: ${issue.path.join(".") || "line"}: ${issue.message}`);
      return;
    }
    const l = parsed.data;
    const step = steps(l.step);
    if (typeof step === "string") problems.push(`${at}: step: ${step}`);
    const prev = lastT.get(l.run);
    if (prev && prev.step !== l.step)
      problems.push(
        `${at}: step: ${l.step} differs from step ${prev.step} of run "${l.run}" (line ${prev.line}): a run is one step's polls`,
      );
    else if (prev && l.t <= prev.t)
      problems.push(
        `${at}: t: ${l.t} is not after ${prev.t} (line ${prev.line}): a run's lines must come in time order`,
      );
    lastT.set(l.run, { t: l.t, step: l.step, line: i + 1 });
    lines.push(l);
  });
  return { lines, problems };
}

export interface ReplayResult {
  readonly run: string;
  /** The canary step index, or `watch` (a recorded post-switch watch). */
  readonly step: number | "watch";
  readonly verdict: "pass" | "fail" | "inconclusive" | "pending";
  /** `t` of the deciding poll, or null while pending. */
  readonly decidedAt: number | null;
  readonly reasons: readonly string[];
  /** Failures of observe-only checks. */
  readonly observed: readonly string[];
  readonly polls: number;
}

/** The polls of one run of one step, judged in order until a decision. */
export function judgeRun(
  run: string,
  step: number | "watch",
  intervals: readonly Interval[],
  def: {
    percent: number;
    bakeSeconds: number;
    intervalSeconds: number;
    publishDelaySeconds: number;
    plannedRequests?: number;
  },
  settings: JudgeSettings,
): ReplayResult {
  const tests = testsFor(settings);
  const ctx: StepContext = {
    percent: def.percent,
    plannedRequests: def.plannedRequests ?? 0,
    looks: Math.max(1, Math.floor((def.bakeSeconds - def.publishDelaySeconds) / def.intervalSeconds)),
  };
  let state = startStep(tests);
  for (const [k, i] of intervals.entries()) {
    state = addInterval(state, tests, i);
    const v = verdict(state, tests, settings, ctx, i.t >= def.bakeSeconds);
    if (v.status !== "pending")
      return { run, step, verdict: v.status, decidedAt: i.t, reasons: v.reasons, observed: v.observed, polls: k + 1 };
  }
  const last = verdict(state, tests, settings, ctx, false);
  return {
    run,
    step,
    verdict: "pending",
    decidedAt: null,
    reasons: [`the series ends at t = ${state.t} s, before the ${def.bakeSeconds} s bake, without a decision`],
    observed: last.observed,
    polls: intervals.length,
  };
}

/** Groups a series by run and step (in order of first appearance) and judges each group. */
export function replaySeries(
  lines: readonly SeriesLine[],
  stepDef: (index: number) => {
    percent: number;
    bakeSeconds: number;
    intervalSeconds: number;
    publishDelaySeconds: number;
  },
  settings: JudgeSettings,
): ReplayResult[] {
  const groups = new Map<string, { run: string; step: number; intervals: Interval[] }>();
  for (const l of lines) {
    const key = JSON.stringify([l.run, l.step]);
    if (!groups.has(key)) groups.set(key, { run: l.run, step: l.step, intervals: [] });
    groups.get(key)!.intervals.push({ t: l.t, canary: l.canary, stable: l.stable });
  }
  return [...groups.values()].map((g) => judgeRun(g.run, g.step, g.intervals, stepDef(g.step), settings));
}
