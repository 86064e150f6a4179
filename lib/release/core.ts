/**
 * The release core: pure state transitions from (release, command) to the next release. No I/O,
 * no clock; every result is validated by the release schema. The history record of a change is
 * the store's job (lib/release/store), so a transition only returns the new state.
 *
 * Invariants (property-tested): weights sum to 100; a slot with traffic has a version; rollback
 * restores the previous live slot; abort restores the pre-rollout weights; a slot's version and
 * settings never change while it serves traffic; a version is marked served once it had traffic.
 */
import type { Slot } from "../core/primitives.ts";
import { RefusedError } from "./model/errors.ts";
import type { Maintenance } from "./model/maintenance.ts";
import { type HistoryEntry, type Release, ReleaseSchema, type RolloutStep } from "./model/release.ts";
import { otherSlot, type SchemaRange, type SlotSettings, type Weights, weightsOf } from "./model/slots.ts";
import { idleHolds, sameSettings } from "./promotion-checks.ts";

export { promotionNoop, sameState, settingsOnlyChange, stateOf, versionToPromote } from "./promotion-checks.ts";

/** The core's refusal (lib/release/model/errors.ts). */
export { RefusedError };

/** Who did what, when: recorded by the store with every change (a rollout's start time comes from it). */
export interface Change {
  readonly by: string;
  readonly at: string;
  readonly command: string;
}

/** What a promotion or a stage puts into the idle slot. */
export interface Candidate {
  readonly version: string;
  /** Image digest, when known. */
  readonly digest?: string;
  /** The target environment's application settings for this slot; null when it has none. */
  readonly settings: SlotSettings | null;
  /** The database schema versions the version works with, when the app declares them. */
  readonly schema?: SchemaRange;
}

/** The slot not currently live: where promotions land. */
export function idleSlot(r: Release): Slot {
  return otherSlot(r.live);
}

export function weightsFor(slot: Slot, percent: number): Weights {
  return slot === "blue" ? { blue: percent, green: 100 - percent } : { blue: 100 - percent, green: percent };
}

export function sameWeights(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

/** New weights; every version that now has traffic is marked served in the history. */
function withWeights(r: Release, w: Weights): Pick<Release, "slots" | "history"> {
  const slots = { blue: { ...r.slots.blue, weight: w.blue }, green: { ...r.slots.green, weight: w.green } };
  const serving = new Set([slots.blue, slots.green].filter((s) => s.weight > 0).map((s) => s.version));
  return { slots, history: r.history.map((h) => (serving.has(h.version) && !h.served ? { ...h, served: true } : h)) };
}

function finish(next: Release): Release {
  return ReleaseSchema.parse(next);
}

function refuseWhileRollout(r: Release, what: string): void {
  if (r.rollout) {
    throw new RefusedError(
      `${r.environment} has a rollout of ` +
        `${r.rollout.target} in progress (step ` +
        `${r.rollout.nextStep}/${r.rollout.steps.length}): ` +
        `${what} refused; continue it with 'envctl rollout ${r.environment}' or stop it with 'envctl abort ${r.environment}'`,
    );
  }
}

/**
 * Puts the candidate into the idle slot at weight 0; live traffic is untouched. Refuses what the
 * live slot already runs (commands check {@link promotionNoop} first and change nothing); the
 * idle slot already holding the candidate is returned unchanged (it keeps its rollback role).
 */
export function promote(r: Release, c: Candidate): Release {
  refuseWhileRollout(r, "promote");
  const idle = idleSlot(r);
  const live = r.slots[r.live];
  if (live.version === c.version && sameSettings(live.settings, c.settings)) {
    const digests =
      live.digest && c.digest && live.digest !== c.digest
        ? ` as image ${live.digest}, not ${c.digest}: one tag names one image, tag the new build`
        : "";
    throw new RefusedError(
      `${r.environment} already runs ${c.version}${c.settings ? ` with settings ${c.settings.checksum}` : ""} in its live slot ${r.live}${digests}`,
    );
  }
  if (r.slots[idle].weight > 0) {
    throw new RefusedError(
      `${r.environment}: the idle slot ${idle} still carries ${r.slots[idle].weight} % of the traffic; shift it to 0 or roll back first`,
    );
  }
  if (idleHolds(r, c)) return r;
  const entry: HistoryEntry = { version: c.version, ...(c.digest ? { digest: c.digest } : {}), served: false };
  const known = r.history.find((h) => h.version === c.version);
  return finish({
    ...r,
    slots: {
      ...r.slots,
      [idle]: {
        version: c.version,
        ...(c.digest ? { digest: c.digest } : {}),
        ...(c.settings ? { settings: c.settings } : {}),
        weight: 0,
        ...(c.schema ? { schema: { ...c.schema } } : {}),
      },
    },
    // The idle slot held the previous live version: it is overwritten, so there is no way back to it.
    previousLive: null,
    history: known
      ? r.history.map((h) => (h === known && c.digest && !h.digest ? { ...h, digest: c.digest } : h))
      : [...r.history, entry],
  });
}

/** Sets `to` to `percent` and the other slot to the rest. 100 % makes `to` live. */
export function shift(r: Release, to: Slot, percent: number): Release {
  refuseWhileRollout(r, "shift");
  const w = weightsFor(to, percent);
  for (const slot of [to, otherSlot(to)]) {
    if (w[slot] > 0 && r.slots[slot].version === null) {
      throw new RefusedError(
        `${r.environment}: slot ${slot} has no version, it cannot take ${w[slot]} % of the traffic; promote a version into it first`,
      );
    }
  }
  const live = w[to] === 100 ? to : w[otherSlot(to)] === 100 ? otherSlot(to) : r.live;
  return finish({ ...r, ...withWeights(r, w), ...switchLive(r, live) });
}

/** Starts the canary of the idle slot with the given steps (nothing shifts yet). */
export function startRollout(r: Release, steps: readonly RolloutStep[], change: Change): Release {
  refuseWhileRollout(r, "a new rollout");
  if (r.maintenance) {
    throw new RefusedError(
      `${r.environment} is in maintenance (since ` +
        `${r.maintenance.since}, by ${r.maintenance.by}): a rollout cannot be judged while users get ` +
        `the maintenance page; end it first with 'envctl maintenance ${r.environment} off'`,
    );
  }
  const target = idleSlot(r);
  if (r.slots[target].version === null) {
    throw new RefusedError(`${r.environment}: the idle slot ${target} has no version; promote one first`);
  }
  return finish({
    ...r,
    rollout: {
      target,
      nextStep: 0,
      steps: steps.map((s) => ({ ...s })),
      before: weightsOf(r),
      startedAt: change.at,
      paused: false,
      extensions: 0,
    },
  });
}

/** The step the rollout applies next, if any. */
export function nextStep(r: Release): RolloutStep | undefined {
  return r.rollout ? r.rollout.steps[r.rollout.nextStep] : undefined;
}

/**
 * Applies the next step: a weight step sets the target's weight; a manual pause stops the rollout
 * until {@link continueRollout}; a timed pause changes nothing (the controller waits).
 */
export function advanceRollout(r: Release): Release {
  const ro = r.rollout;
  if (!ro) throw new RefusedError(`${r.environment} has no rollout in progress`);
  if (ro.paused)
    throw new RefusedError(
      `${r.environment}: the rollout waits at a manual pause; continue it with 'envctl rollout ${r.environment} --continue'`,
    );
  const step = ro.steps[ro.nextStep];
  if (!step) throw new RefusedError(`${r.environment}: the rollout has no step left`);
  const rollout = {
    ...ro,
    nextStep: ro.nextStep + 1,
    extensions: 0,
    paused: "pause" in step && step.pause === "manual",
  };
  if ("pause" in step) return finish({ ...r, rollout });
  return finish({ ...r, ...withWeights(r, weightsFor(ro.target, step.percent)), rollout });
}

/** A person lets a rollout paused at a manual pause go on. */
export function continueRollout(r: Release): Release {
  if (!r.rollout?.paused) throw new RefusedError(`${r.environment} has no rollout waiting at a pause`);
  return finish({ ...r, rollout: { ...r.rollout, paused: false } });
}

/** After the last step (and the post-switch watch) passed: the target becomes live; the old slot keeps its version for rollback. */
export function completeRollout(r: Release): Release {
  const ro = r.rollout;
  if (!ro || ro.nextStep < ro.steps.length || ro.paused)
    throw new RefusedError(`${r.environment}: the rollout has steps left`);
  return finish({ ...r, ...switchLive(r, ro.target), rollout: null });
}

/** Makes `live` the live slot, remembering the one it replaces for rollback. */
function switchLive(r: Release, live: Slot): Pick<Release, "live" | "previousLive"> {
  return live === r.live ? { live, previousLive: r.previousLive } : { live, previousLive: r.live };
}

/** Stops a rollout, restoring the weights it started from. */
export function abortRollout(r: Release): Release {
  if (!r.rollout) throw new RefusedError(`${r.environment} has no rollout in progress to abort`);
  return finish({ ...r, ...withWeights(r, r.rollout.before), rollout: null });
}

/** True while the live slot does not serve everything: a rollout, or a manual split. */
export function inCanary(r: Release): boolean {
  return r.rollout !== null || r.slots[r.live].weight < 100;
}

/**
 * 100 % back to the previous live slot. During a canary (rollout, or the live slot below 100 %)
 * that is the live slot itself; after a completed switch it is `previousLive`, which kept its
 * version.
 */
export function rollback(r: Release): Release {
  if (inCanary(r)) return finish({ ...r, ...withWeights(r, weightsFor(r.live, 100)), rollout: null });
  if (r.previousLive === null) {
    throw new RefusedError(
      `${r.environment}: nothing to roll back to: no earlier live version is kept (the idle slot was promoted over, or the environment never switched)`,
    );
  }
  return finish({
    ...r,
    ...withWeights(r, weightsFor(r.previousLive, 100)),
    ...switchLive(r, r.previousLive),
    rollout: null,
  });
}

/**
 * Maintenance on: the traffic stack serves the page ahead of the weighted rule. Weights, slots and
 * a rollout are untouched (a paused rollout stays paused; a running one is refused by the command).
 * Switching it on again replaces the page and the bypasses.
 */
export function maintenanceOn(r: Release, m: Maintenance): Release {
  return finish({ ...r, maintenance: { ...m } });
}

/** Maintenance off: the weighted rule serves again. */
export function maintenanceOff(r: Release): Release {
  const { maintenance: _m, ...rest } = r;
  return finish(rest as Release);
}

/** A canary analysis verdict, as data. */
export interface Verdict {
  readonly status: "pass" | "fail" | "inconclusive";
  readonly reasons: readonly string[];
}

export interface InconclusivePolicy {
  readonly onInconclusive: "fail" | "extend";
  readonly maxExtensions: number;
}

/** What the controller does after a step's verdict. */
export type StepAction = "advance" | "extend" | "rollback";

/**
 * Transition on the verdict of the step just baked: a pass lets the rollout advance; a failure
 * rolls back; an inconclusive step bakes again while the policy allows, then rolls back.
 */
export function onVerdict(
  r: Release,
  verdict: Verdict,
  policy: InconclusivePolicy,
): { release: Release; action: StepAction } {
  const ro = r.rollout;
  if (!ro) throw new RefusedError(`${r.environment} has no rollout in progress`);
  if (verdict.status === "pass")
    return {
      release: ro.extensions === 0 ? r : finish({ ...r, rollout: { ...ro, extensions: 0 } }),
      action: "advance",
    };
  if (verdict.status === "inconclusive" && policy.onInconclusive === "extend" && ro.extensions < policy.maxExtensions) {
    return { release: finish({ ...r, rollout: { ...ro, extensions: ro.extensions + 1 } }), action: "extend" };
  }
  return { release: rollback(r), action: "rollback" };
}
