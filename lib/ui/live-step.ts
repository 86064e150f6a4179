/**
 * The step a rollout run by this console is baking, poll by poll: each poll's new counts as the
 * rollout prints them (lib/release/judge/analysis.ts `pollLine`), fed again through the judge with
 * the environment's analysis policy, so the evidence lines grow while the step bakes (the history
 * holds a step's polls only once its verdict is recorded). Pure.
 */
import type { Interval } from "../release/judge/sequential.ts";
import type { Analysis } from "../release/model/policy.ts";
import { type EvidencePoint, evidenceSeries } from "./evidence.ts";

const SLOT = String.raw`(?:blue|green) \+(\d+) req, \+(\d+) 5xx(?:, \+(\d+) slow)?`;
const POLL = new RegExp(String.raw`^\s*poll (\d+): t\+(\d+(?:\.\d+)?) s: ${SLOT} \| ${SLOT} \|`);

const VERDICT = /^\S+: (?:step \d+ \(\d+ %\)|post-switch watch): (?:PASS|FAIL|INCONCLUSIVE)\b/;

/** The polls of the step baking now in `lines` (a `poll 1` starts a step, its verdict ends it). */
export function pollsOf(lines: readonly string[]): Interval[] {
  let polls: Interval[] = [];
  for (const line of lines) {
    // a verdict (`<env>: step 1 (50 %): PASS | …`, as describeRecord prints it) ends the step
    if (VERDICT.test(line)) polls = [];
    const m = POLL.exec(line);
    if (!m) continue;
    const counts = (r: string, e: string, s: string | undefined) => ({
      requests: Number(r),
      errors: Number(e),
      slow: s === undefined ? null : Number(s),
    });
    if (m[1] === "1") polls = [];
    polls.push({ t: Number(m[2]), canary: counts(m[3]!, m[4]!, m[5]), stable: counts(m[6]!, m[7]!, m[8]) });
  }
  return polls;
}

/** The evidence of the step in progress, after each of its polls so far. */
export function liveEvidence(lines: readonly string[], analysis: Analysis): EvidencePoint[] {
  return evidenceSeries(pollsOf(lines), analysis);
}
