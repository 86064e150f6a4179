/**
 * The traffic plan of a rollout, as a pure function: from the load balancer's request rate and the
 * stable error rate, what each canary step will see and whether a healthy canary passes it.
 *
 * The judge carries its evidence over the whole rollout (./sequential.ts), so each step is planned
 * with everything judged by its end: the earlier steps' traffic past their warm-up, and its own up
 * to the publishing delay. Per weight step: the canary requests it expects, the probability that a
 * healthy canary (ratio 1, the plan's error rate) passes it (reachable at ≥ {@link PASS_MARGIN} %), the
 * probability that a `detect` regression passes it, the smallest regression the ratio test detects
 * by its end with `powerPercent` power, when a `detect` regression fails, and for a step a healthy
 * canary may not pass, the longer bake or larger percent that would.
 */
import { ratioPrior } from "./mixtures.ts";
import { type Exposure, meanEvidence, passProbability, ratePassProbability, smallestDetectable } from "./power.ts";
import { ALPHA_SHARES, type JudgeSettings } from "./sequential.ts";

export {
  type HourSample,
  historyErrorRatePercent,
  quietestHour,
  rolloutSeconds,
  windowHours,
  windowLabel,
} from "./traffic-history.ts";

/** A step is reachable when a healthy canary passes it with at least this probability, percent. */
export const PASS_MARGIN = 95;

export interface PlanStep {
  readonly percent: number;
  readonly bakeSeconds: number;
  /** The error ratio a pass must be bounded under (null at 100 %). */
  readonly maxRatio: number | null;
}

export interface PlanInput {
  /** Requests per second the load balancer serves (both slots), e.g. the quietest hour's. */
  readonly rps: number;
  /** The stable slot's error rate, percent (the floor when unknown or lower). */
  readonly baseErrorRatePercent: number;
  readonly steps: readonly PlanStep[];
  readonly settings: JudgeSettings;
  /** Seconds after a period before its metrics are judged. */
  readonly publishDelaySeconds: number;
  /** Seconds between two polls: a longer bake is proposed in whole polls. */
  readonly intervalSeconds: number;
}

export interface StepPlan {
  /** Index among the weight steps given. */
  readonly step: number;
  readonly percent: number;
  readonly bakeSeconds: number;
  readonly maxRatio: number | null;
  /** Canary requests of this step judged by its end (its bake less the publishing delay). */
  readonly expectedCanaryRequests: number;
  /**
   * Canary requests judged by the step's end, the earlier steps' included, that a healthy canary
   * needs to pass it with {@link PASS_MARGIN} % (Infinity: no bake up to a day).
   */
  readonly requiredRequests: number;
  /** What a pass needs, in words. */
  readonly basis: string;
  /** Probability that a healthy canary passes the step, percent. */
  readonly passPercent: number;
  /** Probability that a canary at `detect` times the stable error rate passes the step, percent (null at 100 %). */
  readonly detectPassPercent: number | null;
  /** The smallest regression the ratio test fails by the step's end with `powerPercent` power; null: none. */
  readonly detectableRatio: number | null;
  /** Seconds from the step's start to a pass (its bake), or to the failure of a `detect` regression on its mean path. */
  readonly passAfterSeconds: number;
  readonly failAfterSeconds: number | null;
  readonly reachable: boolean;
  readonly fix: string | null;
}

const round = (x: number) => Number(x.toPrecision(3));
const baseRate = (i: PlanInput) => Math.max(i.settings.errorRateFloorPercent, i.baseErrorRatePercent) / 100;
const judged = (seconds: number) => Math.max(0, seconds);

/** What the ratio tests have judged when step `k` (with bake `bake`) decides. */
function exposures(i: PlanInput, k: number, bake: number, percent: number): Exposure[] {
  const w = i.settings.warmupSeconds;
  const steps = i.steps.map((s, j) => (j === k ? { ...s, bakeSeconds: bake, percent } : s)).slice(0, k + 1);
  return steps
    .filter((s) => s.percent < 100)
    .map((s, j, all) => ({
      share: s.percent / 100,
      requests:
        i.rps *
        judged(s.bakeSeconds - w - (j === all.length - 1 && steps.at(-1)!.percent < 100 ? i.publishDelaySeconds : 0)),
    }));
}

/** Canary requests judged by step `k`'s decision (the limit tests count every step's). */
function canaryRequests(i: PlanInput, k: number, bake: number, percent: number): number {
  return i.steps
    .slice(0, k + 1)
    .reduce(
      (sum, s, j) =>
        sum +
        (i.rps *
          (j === k ? percent : s.percent) *
          judged((j === k ? bake : s.bakeSeconds) - (j === k ? i.publishDelaySeconds : 0))) /
          100,
      0,
    );
}

function passChance(i: PlanInput, k: number, bake: number, percent: number, ratio: number): number {
  const alpha = 1 - i.settings.powerPercent / 100;
  const step = i.steps[k]!;
  if (percent >= 100)
    return ratePassProbability(
      canaryRequests(i, k, bake, percent),
      baseRate(i) * ratio,
      Math.min(0.95, i.settings.detect * (1 - i.settings.minSuccessRatePercent / 100)),
      alpha,
    );
  return passProbability(exposures(i, k, bake, percent), baseRate(i), ratio, step.maxRatio ?? i.settings.detect, alpha);
}

export function planSteps(i: PlanInput): StepPlan[] {
  const prior = ratioPrior(i.settings.detect);
  const alpha = (i.settings.falseRollbackPercent / 100) * ALPHA_SHARES.errorsRatio;
  const power = i.settings.powerPercent / 100;
  return i.steps.map((step, k) => {
    const pass = passChance(i, k, step.bakeSeconds, step.percent, 1);
    const reachable = pass * 100 >= PASS_MARGIN;
    const exp = exposures(i, k, step.bakeSeconds, step.percent);
    const looks = Math.max(
      1,
      Math.floor(exp.reduce((t, e) => t + e.requests, 0) / Math.max(1, i.rps * i.intervalSeconds)),
    );
    const required = reachable ? canaryRequests(i, k, step.bakeSeconds, step.percent) : requiredFor(i, k, step);
    const limit = round(100 - i.settings.minSuccessRatePercent);
    const confidence = `with ${i.settings.powerPercent} % confidence`;
    const basis =
      step.percent >= 100
        ? `for the canary's error rate to be bounded below ${i.settings.detect} × the ${limit} % limit ${confidence}`
        : `for the canary's error ratio to be bounded below ${step.maxRatio}× ${confidence}`;
    return {
      step: k,
      percent: step.percent,
      bakeSeconds: step.bakeSeconds,
      maxRatio: step.maxRatio,
      expectedCanaryRequests: Math.floor(
        (i.rps * step.percent * judged(step.bakeSeconds - i.publishDelaySeconds)) / 100,
      ),
      requiredRequests: required,
      basis,
      passPercent: round(100 * pass),
      detectPassPercent:
        step.percent >= 100 ? null : round(100 * passChance(i, k, step.bakeSeconds, step.percent, i.settings.detect)),
      detectableRatio: exp.length === 0 ? null : smallestDetectable(exp, baseRate(i), alpha, power, prior, looks),
      passAfterSeconds: step.bakeSeconds,
      failAfterSeconds: failAfter(i, k, prior, alpha),
      reachable,
      fix: reachable ? null : fixFor(i, k, step),
    };
  });
}

/** Seconds into step `k` when a `detect` regression's evidence reaches the bound on its mean path (publishing delay included); 0: before the step. */
function failAfter(i: PlanInput, k: number, prior: readonly number[], alpha: number): number | null {
  const step = i.steps[k]!;
  if (step.percent >= 100 || i.rps <= 0) return null;
  const bound = Math.log(1 / alpha);
  const before = exposures(i, k, i.settings.warmupSeconds, step.percent);
  if (meanEvidence(before, baseRate(i), i.settings.detect, prior) >= bound) return 0;
  for (let s = i.settings.warmupSeconds + i.intervalSeconds; s <= 4 * step.bakeSeconds; s += i.intervalSeconds) {
    const exp = exposures(i, k, s + i.publishDelaySeconds, step.percent);
    if (meanEvidence(exp, baseRate(i), i.settings.detect, prior) >= bound) return s + i.publishDelaySeconds + 60;
  }
  return null;
}

/** Canary requests of the shortest bake (in whole polls, up to a day) a healthy canary passes with the margin. */
function requiredFor(i: PlanInput, k: number, step: PlanStep): number {
  const bake = shortestBake(i, k, step.percent);
  return bake === null ? Infinity : Math.ceil(canaryRequests(i, k, bake, step.percent));
}

function shortestBake(i: PlanInput, k: number, percent: number): number | null {
  const ok = (bake: number) => passChance(i, k, bake, percent, 1) * 100 >= PASS_MARGIN;
  let hi = Math.max(1, Math.ceil(i.steps[k]!.bakeSeconds / i.intervalSeconds));
  while (hi * i.intervalSeconds <= 86_400 && !ok(hi * i.intervalSeconds)) hi *= 2;
  if (hi * i.intervalSeconds > 86_400) return null;
  let lo = Math.ceil(i.steps[k]!.bakeSeconds / i.intervalSeconds);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid * i.intervalSeconds)) hi = mid;
    else lo = mid + 1;
  }
  return hi * i.intervalSeconds;
}

function fixFor(i: PlanInput, k: number, step: PlanStep): string {
  const fixes: string[] = [];
  const bake = shortestBake(i, k, step.percent);
  if (bake !== null) fixes.push(`a bake of ${bake} s`);
  if (step.percent < 100) {
    const next = i.steps[k + 1]?.percent ?? 100;
    for (let p = step.percent + 1; p < next; p++) {
      if (passChance(i, k, step.bakeSeconds, p, 1) * 100 >= PASS_MARGIN) {
        fixes.push(`${p} % of the traffic`);
        break;
      }
    }
  }
  if (fixes.length === 0)
    return (
      `no bake up to a day reaches a pass at ${round(i.rps)} requests/s: ` +
      `raise detect (now ${i.settings.detect}×) or errorRateFloorPercent, or judge the evidence observe-only`
    );
  return `needs ${fixes.join(" or ")} for a healthy canary to pass with ${PASS_MARGIN} % (or a larger detect than ${i.settings.detect}×)`;
}

/** Probability that a `detect` regression reaches 100 %: at most the smallest chance it passes a step below 100 %, percent. */
export function detectReachesFullPercent(plans: readonly StepPlan[]): number | null {
  const below = plans.filter((p) => p.detectPassPercent !== null).map((p) => p.detectPassPercent!);
  return below.length ? Math.min(...below) : null;
}
