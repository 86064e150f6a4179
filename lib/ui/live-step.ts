/**
 * The step a rollout run by this console is baking, poll by poll: each poll's line as the rollout
 * prints it (lib/release/judge/record.ts `pollLine`: the periods judged at that poll and every
 * test's evidence against its bound), so the evidence lines grow while the step bakes (the history
 * holds a step's periods only once its verdict is recorded). Pure.
 */
import type { EvidencePoint } from "./evidence.ts";

const POLL = /^\s*poll (\d+): t\+(\d+(?:\.\d+)?) s: (.*)$/;
const COUNTS = /(?:blue|green) \+(\d+) req, \+(\d+) 5xx/g;
const READING =
  /(errors vs stable|errors vs limit|latency vs stable|slow vs limit) ([0-9.]+(?:e[+-]\d+)?)\/([0-9.]+(?:e[+-]\d+)?)/g;
const VERDICT = /^\S+: (?:step \d+ \(\d+ %\)|post-switch watch): (?:PASS|FAIL|INCONCLUSIVE)\b/;

/** The polls of the step baking now in `lines` (a `poll 1` starts a step, its verdict ends it). */
export function pollsOf(lines: readonly string[]): EvidencePoint[] {
  let polls: EvidencePoint[] = [];
  for (const line of lines) {
    if (VERDICT.test(line)) polls = [];
    const m = POLL.exec(line);
    if (!m) continue;
    if (m[1] === "1") polls = [];
    const counts = [...m[3]!.matchAll(COUNTS)].map((c) => ({ requests: Number(c[1]), errors: Number(c[2]) }));
    const tests = [...m[3]!.matchAll(READING)].map((r) => ({
      name: r[1]!,
      logEvidence: Math.log(Number(r[2])),
      logBound: Math.log(Number(r[3])),
    }));
    const none = { requests: 0, errors: 0 };
    polls.push({ t: Number(m[2]), tests, canary: counts[0] ?? none, stable: counts[1] ?? none });
  }
  return polls;
}

/** The evidence of the step in progress, after each of its polls so far. */
export function liveEvidence(lines: readonly string[]): EvidencePoint[] {
  return pollsOf(lines);
}
