/**
 * Replay (Kayenta's retrospective analysis): re-judges whole rollouts, period by period, exactly as
 * the rollout controller judges them. Pure: series in, verdicts out.
 *
 * A series is JSON Lines, one judged period (or poll interval) per line:
 *   {"run": "<id>", "step": <canary step index>, "t": <seconds since the step began>,
 *    "canary": {"requests": n, "errors": n, "slow": n, "latency": [n, …]}, "stable": {…},
 *    "lb": {"errors": n}, "buckets": [edge seconds, …]}
 * Counts are for that line only. `lb.errors` is the load balancer's own 5xx; `latency` counts the
 * slot's requests per response-time bucket (one count more than `buckets`; the last is above the
 * last edge). A run's lines come in order: `step` never decreases, `t` grows within a step; the
 * step after the last canary step is the post-switch watch. One file may hold many runs.
 *
 * A run is judged line by line with one judge for the whole rollout (the evidence carries across
 * steps); a step's first line at or past its bake (or its last line, when the next belongs to a
 * later step) decides it. The run's verdict: `completed` (its last step passed), `rolled-back` (a
 * test failed), `inconclusive` (a step could not pass), or `pending` (the series ends first).
 */
import { z } from "zod";
import {
  addPeriod,
  enterStep,
  type JudgeSettings,
  type JudgeState,
  type Period,
  type StepContext,
  startRollout,
  testsFor,
} from "./sequential.ts";
import { verdict } from "./verdict.ts";

const count = z.number("must be a number").int("must be a whole number").min(0, "must not be negative");
export const SeriesCountsSchema = z.strictObject({
  requests: count,
  errors: count,
  slow: count.nullable().default(null),
  latency: z
    .array(count, "must be a list of counts")
    .min(2, "must have at least 2 buckets")
    .max(20, "must have at most 20 buckets")
    .optional(),
});

export const SeriesLineSchema = z
  .strictObject({
    run: z.string("must be a string").min(1, "must not be empty").max(200, "must be at most 200 characters"),
    step: z.number("must be a number").int("must be a whole number").min(0, "must not be negative"),
    t: z
      .number("must be a number")
      .min(0, "must not be negative")
      .max(10 * 86_400, "must be at most 864000 s"),
    canary: SeriesCountsSchema,
    stable: SeriesCountsSchema,
    lb: z.strictObject({ errors: count }).optional(),
    buckets: z
      .array(
        z.number("must be a number").positive("must be positive").max(3600, "must be at most 3600 s"),
        "must be a list of edges in seconds",
      )
      .min(1, "must have at least 1 edge")
      .max(19, "must have at most 19 edges")
      .optional(),
  })
  .superRefine((l, ctx) => {
    const edges = l.buckets;
    if (edges?.some((e, i) => i > 0 && e <= edges[i - 1]!))
      ctx.addIssue({ code: "custom", path: ["buckets"], message: "edges must increase strictly" });
    for (const slot of ["canary", "stable"] as const) {
      const latency = l[slot].latency;
      if (latency === undefined) continue;
      if (edges === undefined)
        ctx.addIssue({ code: "custom", path: [slot, "latency"], message: "needs buckets (the edges) on the line" });
      else if (latency.length !== edges.length + 1)
        ctx.addIssue({
          code: "custom",
          path: [slot, "latency"],
          message: `must have ${edges.length + 1} counts (one more than the ${edges.length} edges of buckets), not ${latency.length}`,
        });
    }
  });
export type SeriesLine = z.infer<typeof SeriesLineSchema>;

/** What a step index means: the judge's view of the step, or why it cannot be replayed. */
export type StepLookup = (index: number) => StepContext | string;

/** Parses and checks a series; all problems at once, each as `file:line: field: rule`. Nothing is judged when any line is wrong. */
export function parseSeries(
  text: string,
  file: string,
  steps: StepLookup,
): { lines: SeriesLine[]; problems: string[] } {
  const lines: SeriesLine[] = [];
  const problems: string[] = [];
  const last = new Map<string, { t: number; step: number; line: number }>();
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
      for (const issue of parsed.error.issues) {
        if (issue.code === "unrecognized_keys")
          for (const k of issue.keys)
            problems.push(`${at}: ${[...issue.path, k].join(".")}: is not a field of a series line`);
        else problems.push(`${at}: ${issue.path.join(".") || "line"}: ${issue.message}`);
      }
      return;
    }
    const l = parsed.data;
    const step = steps(l.step);
    if (typeof step === "string") problems.push(`${at}: step: ${step}`);
    const prev = last.get(l.run);
    if (prev && l.step < prev.step)
      problems.push(
        `${at}: step: ${l.step} comes after step ${prev.step} of run "${l.run}" (line ${prev.line}): a run's steps must not decrease`,
      );
    else if (prev && prev.step === l.step && l.t <= prev.t)
      problems.push(
        `${at}: t: ${l.t} is not after ${prev.t} (line ${prev.line}): a step's lines must come in time order`,
      );
    last.set(l.run, { t: l.t, step: l.step, line: i + 1 });
    lines.push(l);
  });
  return { lines, problems };
}

export type RolloutVerdict = "completed" | "rolled-back" | "inconclusive" | "pending";

export interface RolloutResult {
  readonly run: string;
  readonly verdict: RolloutVerdict;
  /** The step where the rollout ended (the index of the line's step). */
  readonly step: number;
  /** Seconds into that step of the deciding line; null while pending. */
  readonly decidedAt: number | null;
  readonly reasons: readonly string[];
  /** Failures of observe-only checks. */
  readonly observed: readonly string[];
  /** Inputs the judge left out or held for (inconsistent data, failures common to both slots), as shown. */
  readonly notes: readonly string[];
  readonly lines: number;
}

/** A series line as the judge's period. */
export const periodOf = (l: SeriesLine): Period => ({
  t: l.t,
  canary: l.canary,
  stable: l.stable,
  lbErrors: l.lb?.errors ?? 0,
  edges: l.buckets ?? null,
});

/** One run's lines, judged in order as one rollout; `last` is the index of the step that completes it. */
export function judgeRollout(
  run: string,
  lines: readonly SeriesLine[],
  steps: (index: number) => StepContext,
  settings: JudgeSettings,
  last: number,
): RolloutResult {
  const tests = testsFor(settings);
  let state: JudgeState | null = null;
  let passedAt: number | null = null;
  let at = { step: lines[0]?.step ?? 0, t: 0 };
  const end = (
    verdict: RolloutVerdict,
    reasons: readonly string[],
    observed: readonly string[],
    decidedAt: number | null,
    step = at.step,
  ): RolloutResult => ({
    run,
    verdict,
    step,
    decidedAt,
    reasons,
    observed,
    notes: (state?.notes ?? []).map((n) => `step ${n.step} t ${n.t}: ${n.text}`),
    lines: lines.length,
  });
  for (const l of lines) {
    if (state !== null && l.step !== at.step) {
      if (passedAt === null) {
        // The series moved on: the step ended at its last line; a hold ends with it.
        const v = verdict(state, tests, settings, true, false);
        if (v.status === "fail") return end("rolled-back", v.reasons, v.observed, at.t);
        if (v.status === "inconclusive") return end("inconclusive", v.reasons, v.observed, at.t);
      }
      state = enterStep(state, steps(l.step));
      passedAt = null;
    }
    state ??= startRollout(steps(l.step));
    at = { step: l.step, t: l.t };
    state = addPeriod(state, tests, settings, periodOf(l));
    const v = verdict(state, tests, settings, passedAt === null && l.t >= state.step.bakeSeconds);
    if (v.status === "fail") return end("rolled-back", v.reasons, v.observed, l.t);
    if (v.status === "inconclusive") return end("inconclusive", v.reasons, v.observed, l.t);
    if (v.status === "pass" && passedAt === null) passedAt = l.t;
  }
  if (state === null) return end("pending", ["the run has no lines"], [], null);
  const observed = verdict(state, tests, settings, false).observed;
  if (passedAt !== null && at.step >= last) return end("completed", [], observed, passedAt);
  if (passedAt !== null)
    return end(
      "pending",
      [`step ${at.step} passed at t = ${passedAt} s; the series ends before the next step`],
      observed,
      null,
    );
  const held = verdict(state, tests, settings, at.t >= state.step.bakeSeconds);
  const why =
    held.status === "pending" && held.reasons.length
      ? held.reasons
      : [
          `the series ends at t = ${at.t} s of step ${at.step}, before its ${state.step.bakeSeconds} s bake, without a decision`,
        ];
  return end("pending", why, observed, null);
}

/** Groups a series by run (in order of first appearance) and judges each run as one rollout. */
export function replaySeries(
  lines: readonly SeriesLine[],
  steps: (index: number) => StepContext,
  settings: JudgeSettings,
  last: number,
): RolloutResult[] {
  const runs = new Map<string, SeriesLine[]>();
  for (const l of lines) {
    if (!runs.has(l.run)) runs.set(l.run, []);
    runs.get(l.run)!.push(l);
  }
  return [...runs.entries()].map(([run, ls]) => judgeRollout(run, ls, steps, settings, last));
}

/** A recorded step judged again: its own verdict (the history's records are per step). */
export interface ReplayResult {
  readonly run: string;
  readonly step: number | "watch";
  readonly verdict: "pass" | "fail" | "inconclusive" | "pending";
  /** `t` of the deciding period, or null while pending. */
  readonly decidedAt: number | null;
  readonly reasons: readonly string[];
  readonly observed: readonly string[];
  readonly polls: number;
}

/**
 * The periods of one recorded step, judged in order until a decision (the evidence starts with the
 * step). A record ends where its step was decided (the end of the bake; the periods of its last
 * minutes are judged in the next step's record, with their own step's `t`): its last period is final.
 */
export function judgeRun(
  run: string,
  step: StepContext,
  periods: readonly Period[],
  settings: JudgeSettings,
): ReplayResult {
  const tests = testsFor(settings);
  let state = startRollout(step);
  for (const [k, p] of periods.entries()) {
    state = addPeriod(state, tests, settings, p);
    const last = k === periods.length - 1;
    const v = verdict(state, tests, settings, last, false);
    if (v.status !== "pending")
      return {
        run,
        step: step.index,
        verdict: v.status,
        decidedAt: p.t,
        reasons: v.reasons,
        observed: v.observed,
        polls: k + 1,
      };
  }
  const reasons = ["the record holds no judged period"];
  return { run, step: step.index, verdict: "pending", decidedAt: null, reasons, observed: [], polls: periods.length };
}
