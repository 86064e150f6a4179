/**
 * The release core: pure state transitions from (release, command) to the next release.
 * No I/O, no clock (the caller passes `change`), every result validated by the release schema.
 * Invariants (property-tested): weights sum to 100; a slot with traffic has a version;
 * rollback restores the previous live slot; abort restores the pre-rollout weights.
 */
import { ReleaseSchema, otherSlot, weightsOf, type Release, type Weights } from "../config/release.ts";
import type { Slot } from "../config/schema.ts";

/** Who did what, when: stamped on every new state. */
export interface Change {
  readonly by: string;
  readonly at: string;
  readonly command: string;
}

/** A transition the core refuses; the message says why and what to do instead. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedError";
  }
}

export interface CanaryStep {
  readonly percent: number;
  readonly bakeSeconds: number;
}

/** The slot not currently live: where promotions land. */
export function idleSlot(r: Release): Slot {
  return otherSlot(r.live);
}

function weights(slot: Slot, percent: number): Weights {
  return slot === "blue" ? { blue: percent, green: 100 - percent } : { blue: 100 - percent, green: percent };
}

function withWeights(r: Release, w: Weights): Release["slots"] {
  return { blue: { ...r.slots.blue, weight: w.blue }, green: { ...r.slots.green, weight: w.green } };
}

function finish(next: Release, change: Change): Release {
  return ReleaseSchema.parse({ ...next, lastChange: change });
}

function refuseWhileRollout(r: Release, what: string): void {
  if (r.rollout) {
    throw new RefusedError(`${r.environment} has a rollout of ${r.rollout.target} in progress (step ${r.rollout.nextStep}/${r.rollout.steps.length}): ${what} refused; resume it with 'envctl rollout ${r.environment}' or stop it with 'envctl abort ${r.environment}'`);
  }
}

/** Puts `version` into the idle slot at weight 0; live traffic is untouched. */
export function promote(r: Release, version: string, change: Change): Release {
  refuseWhileRollout(r, "promote");
  const idle = idleSlot(r);
  if (r.slots[r.live].version === version) {
    throw new RefusedError(`${r.environment} already runs ${version} in its live slot ${r.live}`);
  }
  if (r.slots[idle].weight > 0) {
    throw new RefusedError(`${r.environment}: the idle slot ${idle} still carries ${r.slots[idle].weight} % of the traffic; shift it to 0 or roll back first`);
  }
  return finish({
    ...r,
    slots: { ...r.slots, [idle]: { version, weight: 0 } },
    // The idle slot held the previous live version: it is overwritten, so there is no way back to it.
    previousLive: null,
    history: r.history.includes(version) ? r.history : [...r.history, version],
  }, change);
}

/** Sets `to` to `percent` and the other slot to the rest. 100 % makes `to` live. */
export function shift(r: Release, to: Slot, percent: number, change: Change): Release {
  refuseWhileRollout(r, "shift");
  const w = weights(to, percent);
  for (const slot of [to, otherSlot(to)]) {
    if (w[slot] > 0 && r.slots[slot].version === null) {
      throw new RefusedError(`${r.environment}: slot ${slot} has no version, it cannot take ${w[slot]} % of the traffic; promote a version into it first`);
    }
  }
  const live = w[to] === 100 ? to : w[otherSlot(to)] === 100 ? otherSlot(to) : r.live;
  return finish({ ...r, slots: withWeights(r, w), ...switchLive(r, live) }, change);
}

/** Starts the tier's progressive canary of the idle slot (nothing shifts yet). */
export function startRollout(r: Release, steps: readonly CanaryStep[], change: Change): Release {
  refuseWhileRollout(r, "a new rollout");
  const target = idleSlot(r);
  if (r.slots[target].version === null) {
    throw new RefusedError(`${r.environment}: the idle slot ${target} has no version; promote one first`);
  }
  return finish({
    ...r,
    rollout: { target, nextStep: 0, steps: steps.map((s) => ({ ...s })), before: weightsOf(r), startedAt: change.at },
  }, change);
}

/** Applies the next canary step's weights. The rollout stays open until its last step passed the gate. */
export function advanceRollout(r: Release, change: Change): Release {
  const ro = r.rollout;
  if (!ro) throw new RefusedError(`${r.environment} has no rollout in progress`);
  const step = ro.steps[ro.nextStep];
  if (!step) throw new RefusedError(`${r.environment}: the rollout has no step left`);
  return finish({ ...r, slots: withWeights(r, weights(ro.target, step.percent)), rollout: { ...ro, nextStep: ro.nextStep + 1 } }, change);
}

/** After the last step passed its gate: the target becomes live; the old slot keeps its version for rollback. */
export function completeRollout(r: Release, change: Change): Release {
  const ro = r.rollout;
  if (!ro || ro.nextStep < ro.steps.length) throw new RefusedError(`${r.environment}: the rollout has steps left`);
  return finish({ ...r, ...switchLive(r, ro.target), rollout: null }, change);
}

/** Makes `live` the live slot, remembering the one it replaces for rollback. */
function switchLive(r: Release, live: Slot): Pick<Release, "live" | "previousLive"> {
  return live === r.live ? { live, previousLive: r.previousLive } : { live, previousLive: r.live };
}

/** Stops a rollout, restoring the weights it started from. */
export function abortRollout(r: Release, change: Change): Release {
  if (!r.rollout) throw new RefusedError(`${r.environment} has no rollout in progress to abort`);
  return finish({ ...r, slots: withWeights(r, r.rollout.before), rollout: null }, change);
}

/**
 * 100 % back to the previous live slot. During a canary (rollout, or the live slot below 100 %)
 * that is the live slot itself; after a completed switch it is `previousLive`, which kept its
 * version.
 */
export function rollback(r: Release, change: Change): Release {
  const canary = r.rollout !== null || r.slots[r.live].weight < 100;
  if (canary) return finish({ ...r, slots: withWeights(r, weights(r.live, 100)), rollout: null }, change);
  if (r.previousLive === null) {
    throw new RefusedError(`${r.environment}: nothing to roll back to: no earlier live version is kept (the idle slot was promoted over, or the environment never switched)`);
  }
  return finish({ ...r, slots: withWeights(r, weights(r.previousLive, 100)), ...switchLive(r, r.previousLive), rollout: null }, change);
}

/** The version a promotion from `source` carries: the given one (which the source must have run) or its live one. */
export function versionToPromote(source: Release, requested?: string): string {
  if (requested === undefined) {
    const live = source.slots[source.live].version;
    if (live === null) throw new RefusedError(`${source.environment} has no live version to promote`);
    return live;
  }
  const ran = new Set([...source.history, source.slots.blue.version, source.slots.green.version]);
  if (!ran.has(requested)) {
    throw new RefusedError(`${source.environment} never ran version ${requested} (known: ${source.history.join(", ") || "none"})`);
  }
  return requested;
}
