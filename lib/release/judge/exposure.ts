/**
 * What each step of a rollout means to the judge, from the environment's policy, as pure functions:
 * its weight, its bake, and the upper bound of the error ratio a pass needs there (exposure-graded:
 * looser at small weights, `detect` for the last step before 100 %, none at 100 % and in the watch,
 * where the canary is judged against the limits).
 */
import { type Analysis, type CanaryStep, isWeightStep } from "../model/policy.ts";
import type { StepContext } from "./sequential.ts";

/** The error ratio a step at `index` must be bounded under; null at 100 %. */
export function maxRatioFor(
  canary: readonly CanaryStep[],
  index: number,
  a: Pick<Analysis, "detect" | "exposureBounds">,
): number | null {
  const step = canary[index];
  if (!step || !isWeightStep(step) || step.percent >= 100) return null;
  const next = canary.slice(index + 1).find(isWeightStep);
  if (!next || next.percent >= 100) return a.detect;
  const entry = a.exposureBounds.find((b) => b.upToPercent >= step.percent);
  return Math.max(a.detect, entry?.maxRatio ?? a.detect);
}

/** The judge's context of canary step `index` (a weight step), with `bakeSeconds` replacing its bake when given. */
export function stepContext(
  canary: readonly CanaryStep[],
  index: number,
  a: Pick<Analysis, "detect" | "exposureBounds">,
  bakeSeconds?: number,
): StepContext {
  const step = canary[index];
  if (!step || !isWeightStep(step)) throw new Error(`release.canary[${index}] is not a weight step`);
  return {
    index,
    percent: step.percent,
    bakeSeconds: bakeSeconds ?? step.bakeSeconds,
    maxRatio: maxRatioFor(canary, index, a),
  };
}

/** The post-switch watch: the new slot at 100 %, judged against the limits. */
export const watchContext = (seconds: number): StepContext => ({
  index: "watch",
  percent: 100,
  bakeSeconds: seconds,
  maxRatio: null,
});
