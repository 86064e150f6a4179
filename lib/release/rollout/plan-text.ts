/**
 * The traffic plan as the terminal shows it (`envctl analysis plan`, and `envctl rollout` before it
 * starts), and the steps a healthy canary may not pass, in words.
 */
import type { CanaryStepPlan, TrafficPlan } from "./plan.ts";

const round = (x: number) => Number(x.toPrecision(3));
const pct = (x: number) => `${round(x)} %`;

export const stepName = (s: CanaryStepPlan) => `step ${s.canaryStep + 1} (${s.percent} %)`;
export const requests = (n: number) => (Number.isFinite(n) ? String(n) : "more than any bake gives");

/** The plan as the terminal shows it (`envctl analysis plan`, and `envctl rollout` before it starts). */
export function formatPlan(p: TrafficPlan): string[] {
  const lines = [
    `${p.environment}: traffic plan (a healthy canary is rolled back with at most ${p.falseRollbackPercent} % over the whole rollout; ` +
      `a step below 100 % passes when the canary's error ratio is bounded below its bound with ${p.powerPercent} % confidence, ` +
      `${p.detect}× before 100 %${p.evidenceEnforced ? "" : "; evidence observe-only"})`,
    `  traffic: ${p.rpsSource.startsWith("--rps") ? `${round(p.rps)} requests/s (${p.rpsSource})` : p.rpsSource}`,
    `  stable error rate: ${pct(p.baseErrorRatePercent)} (${p.baseErrorRateSource})`,
  ];
  for (const s of p.steps) {
    const bad = s.detectPassPercent === null ? "" : `, a ${p.detect}× regression ${pct(s.detectPassPercent)}`;
    lines.push(
      `  ${stepName(s)}, bake ${s.bakeSeconds} s: expects ${s.expectedCanaryRequests} canary requests; ` +
        `a healthy canary passes with ${pct(s.passPercent)}${bad} ` +
        `(needs ${requests(s.requiredRequests)} by its end, earlier steps' included, ${s.basis})${s.reachable ? "" : ": CANNOT REACH A VERDICT"}`,
    );
    const detects =
      s.detectableRatio === null
        ? "detects nothing against the stable slot yet"
        : `detects ${round(s.detectableRatio)}× by its end with ${p.powerPercent} % power`;
    const fails =
      s.failAfterSeconds === null
        ? ""
        : s.failAfterSeconds === 0
          ? `; a ${p.detect}× regression fails before this step`
          : `; a ${p.detect}× regression fails after ~${s.failAfterSeconds} s${s.failAfterSeconds > s.bakeSeconds ? " (later than the bake ends)" : ""}`;
    lines.push(`    ${detects}; a pass after ${s.passAfterSeconds} s (the bake)${fails}`);
    if (s.fix) lines.push(`    fix: ${s.fix}`);
  }
  if (p.detectReachesFullPercent !== null)
    lines.push(`  a ${p.detect}× regression reaches 100 % with at most ${pct(p.detectReachesFullPercent)}`);
  return lines;
}

/** The weight steps that cannot reach a verdict. */
export const unreachableSteps = (p: TrafficPlan): CanaryStepPlan[] => p.steps.filter((s) => !s.reachable);

const atRate = (p: TrafficPlan) => `${round(p.rps)} requests/s`;

/** "step 1 (10 %) cannot reach a verdict at 3 requests/s" (all such steps). */
export function unreachableText(p: TrafficPlan): string {
  const steps = unreachableSteps(p);
  return `${steps.map(stepName).join(", ")} cannot reach a verdict at ${atRate(p)}`;
}
