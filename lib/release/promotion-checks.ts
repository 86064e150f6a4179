/**
 * What a promotion or a stage would do, checked before the transition (pure): nothing to change
 * (the live slot runs the candidate, or the idle slot holds it), a settings-only change, and which
 * version of the source may be promoted. Part of the release core (./core.ts re-exports these).
 */

import { type Candidate, idleSlot } from "./core.ts";
import { RefusedError } from "./model/errors.ts";
import type { Release } from "./model/release.ts";
import type { SlotSettings } from "./model/slots.ts";

/** A slot's settings as a promotion compares them: their checksum, or "none". */
const settingsLabel = (s: SlotSettings | null | undefined) => (s ? `settings ${s.checksum}` : "no settings");
export const sameSettings = (a: SlotSettings | null | undefined, b: SlotSettings | null | undefined) =>
  (a?.checksum ?? null) === (b?.checksum ?? null);

/** The live slot runs the candidate's version with the candidate's settings (the digest, where both know one, agreeing). */
function liveRuns(r: Release, c: Candidate): boolean {
  const live = r.slots[r.live];
  return (
    live.version === c.version &&
    sameSettings(live.settings, c.settings) &&
    !(live.digest && c.digest && live.digest !== c.digest)
  );
}

/** The idle slot, at weight 0, holds exactly the candidate: version, digest and settings. */
export function idleHolds(r: Release, c: Candidate): boolean {
  const idle = r.slots[idleSlot(r)];
  return (
    idle.weight === 0 &&
    idle.version === c.version &&
    (idle.digest ?? null) === (c.digest ?? null) &&
    sameSettings(idle.settings, c.settings)
  );
}

/**
 * Why putting `c` into `r`'s idle slot would change nothing, or undefined when it is a change.
 * "Already runs" means the live slot: staging its version and settings again would only put a
 * copy of what serves into the idle slot (and overwrite what the idle slot keeps for rollback).
 * The idle slot holding exactly the candidate is a no-op too: it is staged already. A rollout in
 * progress is not a no-op but a refusal ({@link promote}).
 */
export function promotionNoop(r: Release, c: Candidate): string | undefined {
  if (r.rollout) return undefined;
  if (liveRuns(r, c)) {
    return (
      `${r.environment} already runs ` +
      `${c.version} with ${settingsLabel(c.settings)} in its live slot ` +
      `${r.live}, the same version with the environment's current settings: staging it again would change nothing`
    );
  }
  if (idleHolds(r, c)) {
    return (
      `the idle slot ${idleSlot(r)} of ` +
      `${r.environment} already holds ${c.version} with ${settingsLabel(c.settings)}: it is staged; 'envctl rollout ${r.environment}' canaries it`
    );
  }
  return undefined;
}

/**
 * When the candidate is the live version with other settings (a settings-only change, canaried
 * like a new version): what differs, for the command to say; undefined otherwise.
 */
export function settingsOnlyChange(r: Release, c: Candidate): string | undefined {
  const live = r.slots[r.live];
  if (live.version !== c.version || sameSettings(live.settings, c.settings)) return undefined;
  return (
    `${r.environment} runs ${c.version} in its live slot ` +
    `${r.live} with ${settingsLabel(live.settings)}; the environment's settings are now ` +
    `${settingsLabel(c.settings)}: staging ` +
    `${c.version} with them into the idle slot ${idleSlot(r)}, a settings-only change that the rollout canaries like a new version`
  );
}

/**
 * What a promotion from `source` carries: the given version (which the source must have served)
 * or its live one, with its digest.
 */
export function versionToPromote(source: Release, requested?: string): { version: string; digest?: string } {
  const withDigest = (version: string, digest?: string) => ({ version, ...(digest ? { digest } : {}) });
  if (requested === undefined) {
    const live = source.slots[source.live];
    if (live.version === null) throw new RefusedError(`${source.environment} has no live version to promote`);
    return withDigest(live.version, live.digest ?? source.history.find((h) => h.version === live.version)?.digest);
  }
  const entry = source.history.find((h) => h.version === requested);
  if (!entry) {
    const served = source.history.filter((h) => h.served).map((h) => h.version);
    throw new RefusedError(
      `${source.environment} never ran version ${requested} (served there: ${served.join(", ") || "none"})`,
    );
  }
  if (!entry.served) {
    throw new RefusedError(
      `${source.environment} only staged version ` +
        `${requested}, it never served traffic there: promote a version ` +
        `${source.environment} has served, or roll ${requested} out in ${source.environment} first`,
    );
  }
  return withDigest(entry.version, entry.digest);
}

/** The state without its change bookkeeping, for "did anything change" comparisons. */
export function stateOf(r: Release): Omit<Release, "lastChange" | "pending"> {
  const { lastChange: _l, pending: _p, ...state } = r;
  return state;
}

/** True when two releases describe the same state (the record of the last change aside). */
export function sameState(a: Release, b: Release): boolean {
  return JSON.stringify(stateOf(a)) === JSON.stringify(stateOf(b));
}
