/**
 * What a mitigation (rollback, abort) may move traffic to, pure: only to slots that served before,
 * with the versions they served, as the environment's history (the append-only log of
 * `environments/releases/<env>.audit.jsonl`) records them, never as the release file merely claims.
 *
 * Three witnesses must agree before anything moves:
 * - the history: its last logged record says what the environment is (slots, versions, weights);
 * - the release file: its state must be that record's `to` (or, after a crash between the file's
 *   rename and the log's append, its own next record's, seq + 1);
 * - the ALB: the weights it serves must be a split the history recorded, the file's, or the target.
 * Each slot the target gives traffic must hold, per the log, the version the file names, and that
 * slot must have served that version in a logged state. Otherwise the mitigation stops, nothing moved.
 */
import type { Slot } from "../core/primitives.ts";
import { type ChangeRecord, type StateSummary, summarize } from "./model/records.ts";
import type { Release } from "./model/release.ts";
import type { Weights } from "./model/slots.ts";

export interface ServedInput {
  readonly env: string;
  /** The release file as read. */
  readonly file: Release;
  /** The log's records, oldest first (without a record only the release file carries). */
  readonly logged: readonly ChangeRecord[];
  /** The weights the mitigation writes. */
  readonly target: Weights;
  /** What the ALB serves now; undefined when it is not consulted (--no-deploy, --dry-run). */
  readonly observed?: Weights;
}

const SLOTS: readonly Slot[] = ["blue", "green"];
const w = (x: Weights) => `blue ${x.blue} / green ${x.green}`;
const weightsOfSummary = (s: StateSummary): Weights => ({ blue: s.slots.blue.weight, green: s.slots.green.weight });
const same = (a: Weights, b: Weights) => a.blue === b.blue && a.green === b.green;

/** A state in one line: `live blue; blue 1.4.2 @100, green 1.5.0 @0`. */
export function describeState(s: StateSummary): string {
  return `live ${s.live}; ${SLOTS.map((x) => `${x} ${s.slots[x].version ?? "(empty)"} @${s.slots[x].weight}`).join(", ")}`;
}

/** Stable JSON (sorted keys) for comparing summaries. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/** The states the log says served (each record's `to`, and the state the first record started from). */
function servedStates(logged: readonly ChangeRecord[]): StateSummary[] {
  return logged.length === 0 ? [] : [logged[0]!.from, ...logged.map((r) => r.to)];
}

/**
 * The state the history vouches for: the release file's, when it is what the log last recorded (or
 * the file's own next record, which a crash kept out of the log); otherwise why not. `last`: the
 * log's last record (undefined: an environment without history, whose file must be as committed).
 */
export function recordedState(
  env: string,
  fileRelease: Release,
  logged: readonly ChangeRecord[],
): { state: StateSummary; last?: ChangeRecord } | { problem: string } {
  const file = `environments/releases/${env}.json`;
  const sorted = logged.filter((r) => typeof r.seq === "number").sort((a, b) => a.seq - b.seq);
  const last = sorted.at(-1);
  const now = summarize(fileRelease);
  const own = fileRelease.lastChange;
  if (!last) {
    // Nothing vouches for the file: only its plain state as committed, never what only envctl writes.
    const copied = now.instance ?? now.maskedFrom ?? now.previousInstance;
    if ((own?.seq ?? 0) === 0 && copied === undefined) return { state: now };
    return {
      problem: [
        `${file} `,
        copied !== undefined
          ? `names a data copy (database ${now.instance ?? "-"}, masked from ${now.maskedFrom ?? "-"})`
          : `carries record ${own!.seq}`,
        `, but its history (environments/releases/${env}.audit.jsonl) records no change: the file was changed outside envctl`,
      ].join(""),
    };
  }
  if (canonical(now) === canonical(last.to) && (own?.seq ?? 0) <= last.seq) return { state: now, last };
  if (own !== null && own.seq === last.seq + 1 && canonical(now) === canonical(own.to)) return { state: now, last };
  return {
    problem: [
      `${file} (${describeState(now)}, record ${own?.seq ?? "none"}) differs from what its history last recorded `,
      `(record ${last.seq}, '${last.command}' by ${last.by} at ${last.at}: ${describeState(last.to)}): `,
      "the file was changed outside envctl",
    ].join(""),
  };
}

/** The way forward when the release file and its history disagree. */
export const restoreFile = (env: string) =>
  `Restore the file from git ('git checkout -- environments/releases/${env}.json') or make the change through envctl with the environment's approvals`;

/** Why the mitigation must not move traffic (the whole message, with the way forward), or undefined when the three agree. */
export function refuseUnserved(i: ServedInput): string | undefined {
  const file = `environments/releases/${i.env}.json`;
  const stop = (why: string, way: string) => `${i.env}: ${why}; nothing was moved. ${way}`;
  const logged = i.logged.filter((r) => typeof r.seq === "number").sort((a, b) => a.seq - b.seq);
  const recorded = recordedState(i.env, i.file, logged);
  if ("problem" in recorded) return stop(recorded.problem, restoreFile(i.env));
  const last = recorded.last;
  if (!last) {
    return stop(
      `its history (environments/releases/${i.env}.audit.jsonl) records no change, so nothing proves what it served`,
      [
        `Change it through envctl first ('envctl shift ${i.env} --to ${i.file.live} --percent ${i.file.slots[i.file.live].weight}' `,
        "deploys the file's weights and records them, with the environment's approvals): mitigations go back only to recorded states",
      ].join(""),
    );
  }
  const now = recorded.state;
  const served = servedStates(logged);
  for (const slot of SLOTS) {
    if (i.target[slot] === 0) continue;
    const version = i.file.slots[slot].version;
    const inLog = last.to.slots[slot].version;
    if (version === null || version !== inLog) {
      return stop(
        `the target ${slot} holds ${version ?? "nothing"} in ${file}, but its history last recorded ${slot} with ${inLog ?? "nothing"}`,
        restoreFile(i.env),
      );
    }
    if (!served.some((s) => s.slots[slot].version === version && s.slots[slot].weight > 0)) {
      return stop(
        [
          `${slot} (${version}) never served traffic here: the history records no state in which ${slot} ran ${version} `,
          "with a weight above 0, so a mitigation cannot send traffic to it",
        ].join(""),
        `A version that never served goes live only through a rollout with the environment's approvals ('envctl rollout ${i.env}')`,
      );
    }
  }
  if (i.observed) {
    const known = [...served.map(weightsOfSummary), weightsOfSummary(now), i.target];
    if (!known.some((k) => same(k, i.observed!))) {
      return stop(
        [
          `the ALB serves ${w(i.observed)}, which neither ${file} (${w(weightsOfSummary(now))}) nor its history ever recorded: `,
          "a rollout running from another checkout, or a hand change of the listener rule",
        ].join(""),
        [
          `Find who moved it (that checkout's 'envctl status ${i.env}', CloudTrail ModifyRule); to serve the recorded state again, `,
          `'envctl shift ${i.env} --to ${now.live} --percent ${now.slots[now.live].weight}' deploys the release file's weights `,
          "(with the environment's approvals)",
        ].join(""),
      );
    }
  }
  return undefined;
}
