/**
 * The judge's verdict at a poll, as a pure function of its state (./sequential.ts):
 *
 * - **fail** at the poll where an enforced test's evidence crosses its bound;
 * - **inconclusive** at once when the counts could not be true in {@link INCONSISTENT_RUN} periods
 *   in a row (fail closed);
 * - **pending** until the end of the step's bake, and while a failure common to both slots lasts
 *   (the step holds; the canary is not blamed);
 * - at the end of the bake, **pass** when the exposure allows it: below 100 % the anytime-valid
 *   upper confidence bound of the canary's error ratio (at `powerPercent` confidence) is below the
 *   step's bound, or the canary's error rate is bounded below the bound times
 *   `errorRateFloorPercent`; at 100 % the bound of its error rate (its worst period at 100 % left
 *   out) is below `detect` times the limit; in the watch, no failure. Otherwise **inconclusive**, saying why. A step
 *   without canary requests never passes.
 */
import { rateUpperBound, ratioUpperBound } from "./mixtures.ts";
import {
  formatEvidence,
  type JudgeSettings,
  type JudgeState,
  readings,
  type TestReading,
  type Tests,
} from "./sequential.ts";

/** Consecutive periods with counts that cannot be true before the judge fails closed. */
export const INCONSISTENT_RUN = 3;

export type Status = "pass" | "fail" | "inconclusive" | "pending";

export interface StepVerdict {
  readonly status: Status;
  /** Why, for an enforced failure, an inconclusive step or a held one. */
  readonly reasons: readonly string[];
  /** Failures of observe-only checks: reported, not acted on. */
  readonly observed: readonly string[];
  readonly readings: readonly TestReading[];
  /** The upper confidence bound of the error ratio (below 100 %) at the end of the bake, and the step's bound. */
  readonly bound: { readonly ratio: number; readonly maxRatio: number } | null;
}

const round = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(3)) : x);
const pct = (x: number) => `${round(100 * x)} %`;

function describe(r: TestReading, s: JudgeState): string {
  const c = s.stats.canary;
  const st = s.stats.stable;
  const counts =
    r.check === "errors"
      ? `this step: canary ${round(c.errors)}/${c.requests} 5xx, stable ${round(st.errors)}/${st.requests}`
      : `this step: canary ${c.slow}/${c.requests} slow, stable ${st.slow}/${st.requests}`;
  return `${r.name}: evidence ${formatEvidence(r.logEvidence)} ≥ bound ${formatEvidence(r.logBound)} (${counts})`;
}

/** The verdict at a poll; `final` at the end of the bake; `hold` false once the series moved on past a held step. */
export function verdict(
  s: JudgeState,
  tests: Tests,
  settings: JudgeSettings,
  final: boolean,
  hold = true,
): StepVerdict {
  const rs = readings(s, tests);
  const reasons: string[] = [];
  const observed: string[] = [];
  for (const r of rs.filter((x) => x.crossed)) (settings.enforce[r.check] ? reasons : observed).push(describe(r, s));
  const base = { readings: rs, bound: null };
  if (reasons.length > 0) return { status: "fail", reasons, observed, ...base };
  if (s.stats.inconsistentRun >= INCONSISTENT_RUN) {
    const last = s.notes.filter((n) => n.kind === "inconsistent").at(-1)?.text ?? "inconsistent data";
    return {
      status: "inconclusive",
      reasons: [
        `the counts could not be true in ${s.stats.inconsistentRun} periods in a row (${last}): the judge fails closed`,
      ],
      observed,
      ...base,
    };
  }
  if (!final) return { status: "pending", reasons, observed, ...base };
  if (hold && s.stats.commonNow) {
    const last = s.notes.filter((n) => n.kind === "common-failure").at(-1)?.text ?? "a failure common to both slots";
    return { status: "pending", reasons: [`held: ${last}`], observed, ...base };
  }
  const short: string[] = [];
  let bound: StepVerdict["bound"] = null;
  const step = s.step;
  const confidence = 1 - settings.powerPercent / 100;
  if (s.stats.canary.requests === 0)
    short.push("the canary served no requests in the periods judged (no data is never a pass)");
  else if (step.maxRatio !== null) {
    const ratio = ratioUpperBound(s.errorsRatio, confidence);
    bound = { ratio, maxRatio: step.maxRatio };
    const floor = (step.maxRatio * settings.errorRateFloorPercent) / 100;
    const rate = rateUpperBound(s.errorsLimit.failures, s.errorsLimit.requests, confidence);
    if (ratio >= step.maxRatio && rate >= floor) {
      short.push(
        `the canary's error ratio is bounded by ${Number.isFinite(ratio) ? `${round(ratio)}×` : "nothing yet"} ` +
          `(${settings.powerPercent} % upper bound), not below this step's ${step.maxRatio}×, ` +
          `nor its error rate (≤ ${pct(rate)}) below ${step.maxRatio} × the ${settings.errorRateFloorPercent} % floor`,
      );
    }
  } else if (step.index !== "watch") {
    // At 100 %: the error rate bounded below `detect` × the limit, the worst period left out (an incident of both slots).
    const f = s.errorsFull;
    const rate = rateUpperBound(
      s.errorsLimit.failures + f.failures - f.worst.failures,
      s.errorsLimit.requests + f.requests - f.worst.requests,
      confidence,
    );
    const bound = Math.min(0.95, settings.detect * tests.errorLimit);
    if (rate >= bound)
      short.push(
        `the canary's error rate is bounded by ${pct(rate)} (${settings.powerPercent} % upper bound, ` +
          `its worst period at 100 % left out), not below ${settings.detect} × the ${pct(tests.errorLimit)} limit`,
      );
  }
  if (s.stats.slowMissing * 2 > s.stats.periods) {
    const text = `no slow-request counts in ${s.stats.slowMissing} of the step's ${s.stats.periods} periods (the latency limit was not checked)`;
    (settings.enforce.latency ? short : observed).push(text);
  }
  if (short.length > 0 && settings.enforce.evidence)
    return { status: "inconclusive", reasons: short, observed, readings: rs, bound };
  return {
    status: "pass",
    reasons: [],
    observed: [...observed, ...short.map((x) => `inconclusive (observe-only): ${x}`)],
    readings: rs,
    bound,
  };
}
