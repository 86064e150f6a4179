/**
 * The release policy of an environment (`release` in its file): the canary steps, how each step is
 * analysed, the smoke checks before any traffic moves, and the promotion graph. Plain data,
 * validated here (the environment schema embeds it); the rollout controller (lib/release/rollout/controller.ts) is its reader.
 */
import { z } from "zod";
import { NameSchema } from "../../core/primitives.ts";
import type { JudgeSettings } from "../judge/sequential.ts";
import { FreezeSchema, WindowsSchema } from "./calendar.ts";
import { SmokeSchema } from "./smoke.ts";

export { DEFAULT_SMOKE_CHECKS, type Smoke, type SmokeCheck, SmokeCheckSchema, SmokeSchema } from "./smoke.ts";

/** CloudWatch periods: 10 or 30 s (high-resolution metrics) or a multiple of 60 s. ALB metrics are per 60 s. */
const MetricPeriod = z
  .number()
  .int()
  .refine((p) => p === 10 || p === 30 || (p >= 60 && p % 60 === 0 && p <= 3600), {
    message: "must be 10, 30 or a multiple of 60 up to 3600 (CloudWatch periods)",
  });

/** The checks that can be made observe-only (`enforce`). */
export const ANALYSIS_CHECKS = ["errors", "latency", "alarms", "evidence"] as const;
export type AnalysisCheck = (typeof ANALYSIS_CHECKS)[number];

/**
 * `true`: every check acts; `false`: observe-only (Argo Rollouts' dryRun): verdicts are computed,
 * printed and recorded, never acted on; or per check (`{ latency: false }`: the others act).
 */
const EnforceSchema = z
  .union(
    [
      z.boolean(),
      z.strictObject(
        Object.fromEntries(ANALYSIS_CHECKS.map((c) => [c, z.boolean().optional()])) as Record<
          AnalysisCheck,
          z.ZodOptional<z.ZodBoolean>
        >,
      ),
    ],
    {
      error: `must be true, false, or an object of booleans for ${ANALYSIS_CHECKS.join(", ")}`,
    },
  )
  .transform(
    (e): Record<AnalysisCheck, boolean> =>
      Object.fromEntries(ANALYSIS_CHECKS.map((c) => [c, typeof e === "boolean" ? e : (e[c] ?? true)])) as Record<
        AnalysisCheck,
        boolean
      >,
  );

/**
 * How a rollout is judged (lib/release/judge/sequential.ts). Every `intervalSeconds` the controller reads
 * the canary's alarms and both slots' ALB metrics; each period past the publishing delay goes, whole and
 * once, into four anytime-valid tests carried over the whole rollout, which fails where one crosses its bound.
 */
export const AnalysisSchema = z.strictObject({
  /** Seconds between two reads of the metrics and alarms. @default 30 */
  intervalSeconds: z.number().int().min(1).max(300).default(30),
  /** Period of the metrics read, seconds (the ALB publishes 60-second data points). @default 60 */
  metricPeriodSeconds: MetricPeriod.default(60),
  /** How long after a period ends CloudWatch has published all of it, seconds: a period is judged only then. @default 120 */
  publishDelaySeconds: z.number().int().min(0).max(900).default(120),
  /** The canary's success rate (requests without a target or load-balancer 5xx) must not be below this, percent. @default 95 */
  minSuccessRatePercent: z.number().min(50).max(99.99).default(95),
  /**
   * The canary's p99 target response time must not be above this, seconds: requests slower than it
   * are counted (CloudWatch `TC(limit:)`), and at most 1 % may be. @default 1
   */
  maxLatencyP99Seconds: z.number().positive().max(60).default(1),
  /** Probability of rolling back a canary no worse than stable and within the limits, for the whole rollout (all steps, the watch), percent. @default 1 */
  falseRollbackPercent: z.number().min(0.01).max(10).default(1),
  /** The last step before 100 % passes only when the canary's error ratio to the stable slot's is bounded below this. @default 2 */
  detect: z.number().min(1.1).max(100).default(2),
  /** Confidence of the upper bounds a step passes on, percent: a canary at a step's bound passes it with at most 100 − this. @default 95 */
  powerPercent: z.number().min(50).max(99.9).default(95),
  /** A step also passes when the canary's error rate is bounded below its bound times this, percent. @default 0.1 */
  errorRateFloorPercent: z.number().min(0.001).max(10).default(0.1),
  /** Seconds of each step's new traffic left out of the tests against the stable slot (the limits and alarms still apply). @default 60 */
  warmupSeconds: z.number().int().min(0).max(3600).default(60),
  /** Per exposure, the error ratio a step below 100 % must be bounded under: the first entry at or above the step's percent (never below `detect`). */
  exposureBounds: z
    .array(z.strictObject({ upToPercent: z.number().int().min(1).max(99), maxRatio: z.number().min(1.1).max(1000) }))
    .max(10)
    .refine(
      (b) => b.every((x, i) => i === 0 || (x.upToPercent > b[i - 1]!.upToPercent && x.maxRatio <= b[i - 1]!.maxRatio)),
      "must rise in upToPercent and not rise in maxRatio",
    )
    .default([
      { upToPercent: 10, maxRatio: 5 },
      { upToPercent: 25, maxRatio: 3 },
    ]),
  /** Which checks act (`true`), or observe-only (`false`), per environment or per check. @default true */
  enforce: EnforceSchema.prefault(true),
  /**
   * What an inconclusive step does: `fail` rolls back; `extend` bakes the step again, at most
   * `maxExtensions` times (the evidence carries over), then rolls back. @default "fail"
   */
  onInconclusive: z.enum(["fail", "extend"]).default("fail"),
  /** Extra bakes an inconclusive step may get with `onInconclusive: "extend"`. @default 2 */
  maxExtensions: z.number().int().min(1).max(10).default(2),
  /** Attempts to read metrics, alarms or the ALB before a step fails closed (exponential backoff). @default 4 */
  readAttempts: z.number().int().min(1).max(10).default(4),
  /**
   * After the last step, the new slot at 100 % keeps being analysed this long (CodeDeploy's wait before
   * the old version ends); a failure rolls back to the old slot, which kept its version. 0 = none. @default 0
   */
  postSwitchWatchSeconds: z.number().int().min(0).max(86_400).default(0),
});
export type Analysis = z.infer<typeof AnalysisSchema>;

/** The judge's settings of an environment's analysis policy (lib/release/judge/sequential.ts). */
export function judgeSettings(a: Analysis): JudgeSettings {
  return {
    falseRollbackPercent: a.falseRollbackPercent,
    detect: a.detect,
    powerPercent: a.powerPercent,
    minSuccessRatePercent: a.minSuccessRatePercent,
    errorRateFloorPercent: a.errorRateFloorPercent,
    warmupSeconds: a.warmupSeconds,
    latencyLimitSeconds: a.maxLatencyP99Seconds,
    enforce: { errors: a.enforce.errors, latency: a.enforce.latency, evidence: a.enforce.evidence },
  };
}

/**
 * A canary step, one of:
 * - `{ percent, bakeSeconds }`: give the new slot `percent` % of the traffic and analyse it for `bakeSeconds`;
 * - `{ pause: "manual" }`: stop and wait for a person (`envctl rollout <env> --continue`);
 * - `{ pause: <seconds> }`: keep the current weights this long, still analysing.
 */
export const CanaryStepSchema = z
  .strictObject({
    percent: z.number().int().min(1).max(100).optional(),
    bakeSeconds: z.number().int().min(0).max(86_400).optional(),
    pause: z
      .union([z.literal("manual"), z.number().int().min(1).max(86_400)], {
        error: 'must be "manual" or a number of seconds (1-86400)',
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    const weight = s.percent !== undefined || s.bakeSeconds !== undefined;
    if (weight && s.pause !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["pause"],
        message: "cannot be combined with percent/bakeSeconds: a step either sets a weight or pauses",
      });
    else if (!weight && s.pause === undefined)
      ctx.addIssue({ code: "custom", path: [], message: "must set percent and bakeSeconds, or pause" });
    else if (weight && s.percent === undefined)
      ctx.addIssue({ code: "custom", path: ["percent"], message: "is required with bakeSeconds" });
    else if (weight && s.bakeSeconds === undefined)
      ctx.addIssue({ code: "custom", path: ["bakeSeconds"], message: "is required with percent" });
  })
  .transform(
    (s): CanaryStep =>
      s.pause !== undefined ? { pause: s.pause } : { percent: s.percent!, bakeSeconds: s.bakeSeconds! },
  );

export type WeightStep = { readonly percent: number; readonly bakeSeconds: number };
export type PauseStep = { readonly pause: "manual" | number };
export type CanaryStep = WeightStep | PauseStep;

export function isWeightStep(s: CanaryStep): s is WeightStep {
  return "percent" in s;
}

/**
 * A sequence of canary steps, wherever one is written: an environment's `release.canary` and a
 * release file's `rollout.steps` (copied from it at start). The first step sets a weight, weights
 * increase strictly, and the last weight step is 100.
 */
export const CanaryStepsSchema = z
  .array(CanaryStepSchema)
  .min(1)
  .max(20)
  .superRefine((steps, ctx) => {
    const weights = steps.map((s, i) => ({ s, i })).filter((x): x is { s: WeightStep; i: number } => isWeightStep(x.s));
    weights.forEach(({ s, i }, k) => {
      if (k > 0 && s.percent <= weights[k - 1]!.s.percent)
        ctx.addIssue({ code: "custom", path: [i, "percent"], message: "steps must increase strictly" });
    });
    const last = weights.at(-1);
    if (!last) ctx.addIssue({ code: "custom", path: [], message: "needs at least one weight step" });
    else if (last.s.percent !== 100)
      ctx.addIssue({ code: "custom", path: [last.i, "percent"], message: "the last weight step must be 100" });
    if (steps.length > 0 && !isWeightStep(steps[0]!))
      ctx.addIssue({
        code: "custom",
        path: [0],
        message: "the first step must set a weight (a pause before any traffic moves waits for nothing)",
      });
  });

/** Seconds a bake needs to contain one complete analysis window: one metric period, then the publishing delay. */
export function analysisWindowSeconds(a: Pick<Analysis, "metricPeriodSeconds" | "publishDelaySeconds">): number {
  return a.metricPeriodSeconds + a.publishDelaySeconds;
}

/** Steps (by index) whose bake cannot contain one complete analysis window; `bakeOverride` replaces every bake. */
export function bakeProblems(
  steps: readonly CanaryStep[],
  analysis: Analysis,
  bakeOverride?: number,
): { step: number; message: string }[] {
  const window = analysisWindowSeconds(analysis);
  return steps.flatMap((s, i) => {
    if (!isWeightStep(s)) return [];
    const bake = bakeOverride ?? s.bakeSeconds;
    return bake >= window
      ? []
      : [
          {
            step: i,
            message:
              `${bake} s cannot contain one complete analysis window ` +
              `(${analysis.metricPeriodSeconds} s metric period + ` +
              `${analysis.publishDelaySeconds} s publishing delay = ${window} s): the gate would judge no data`,
          },
        ];
  });
}

export const ReleasePolicySchema = z
  .strictObject({
    /** Progressive canary steps; weights increase strictly and the last weight step is 100. */
    canary: CanaryStepsSchema,
    /** How each step is judged. @default every AnalysisSchema default */
    analysis: AnalysisSchema.default(AnalysisSchema.parse({})),
    /** HTTP checks of the idle slot before the first step. @default the seeds' health endpoints */
    smoke: SmokeSchema.default(SmokeSchema.parse({})),
    /** Environments this one may promote into (forward edges of the promotion graph). */
    promotesTo: z.array(NameSchema).default([]),
    /** Environments this one may promote into only as an explicit rollback (`--rollback`). */
    rollbackTo: z.array(NameSchema).default([]),
    /** Take an RDS snapshot before every promotion into this environment. */
    snapshotBeforePromote: z.boolean(),
    /**
     * How long the old slot stays a rollback target after it stops serving, seconds: a contract
     * migration (a schema the old slot does not run on) waits for it (lib/release/gates/schema.ts).
     * @default 3600
     */
    rollbackWindowSeconds: z
      .number()
      .int("must be a whole number of seconds")
      .min(0, "must be 0 or more")
      .max(30 * 86400, "must be at most 30 days (2592000 s)")
      .default(3600),
    /** When rollouts, promotions and shifts may start and run (lib/release/model/calendar.ts). @default any time */
    windows: WindowsSchema.optional(),
    /** Periods nothing may be released in, each with its reason. @default none */
    freezes: z.array(FreezeSchema).default([]),
  })
  .superRefine((p, ctx) => {
    for (const problem of bakeProblems(p.canary, p.analysis)) {
      ctx.addIssue({ code: "custom", path: ["canary", problem.step, "bakeSeconds"], message: problem.message });
    }
  });
export type ReleasePolicy = z.infer<typeof ReleasePolicySchema>;
