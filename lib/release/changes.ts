/**
 * What a change to the release files does, environment by environment (pure): which slots get a new
 * version (or settings, or digest), how the weights move — and what a reviewed change must never do:
 * move traffic onto a slot whose version changes in the same change (the version would go live
 * without its canary, and on EKS the traffic stack could reach pods that do not exist yet).
 */
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { Release } from "./model/release.ts";
import { type Weights, weightsOf } from "./model/slots.ts";

export interface SlotChange {
  readonly slot: Slot;
  readonly from: string | null;
  readonly to: string | null;
  /** What changed: the version, the settings checksum, the digest. */
  readonly what: ("version" | "settings" | "digest")[];
}

export interface ReleaseChange {
  readonly environment: string;
  /** The environment has no release file at the base: it is new. */
  readonly added: boolean;
  /** Slots whose contents change: a promotion (the pipeline snapshots the database first where required). */
  readonly slots: SlotChange[];
  readonly weights: { from: Weights; to: Weights } | null;
  /** Why this change must be split. */
  readonly problems: string[];
}

const label = (s: Release["slots"][Slot]) =>
  s.version === null ? "empty" : `${s.version}${s.settings ? ` (settings ${s.settings.checksum})` : ""}`;

export function compareReleases(base: Release | null, head: Release): ReleaseChange {
  const env = head.environment;
  if (base === null) return { environment: env, added: true, slots: [], weights: null, problems: [] };
  const slots: SlotChange[] = [];
  const problems: string[] = [];
  for (const slot of SLOTS) {
    const a = base.slots[slot];
    const b = head.slots[slot];
    const what: SlotChange["what"] = [];
    if (a.version !== b.version) what.push("version");
    if ((a.settings?.checksum ?? null) !== (b.settings?.checksum ?? null)) what.push("settings");
    if ((a.digest ?? null) !== (b.digest ?? null)) what.push("digest");
    if (what.length === 0) continue;
    slots.push({ slot, from: a.version, to: b.version, what });
    if (a.weight > 0 || b.weight > 0) {
      problems.push(
        `${env}: slot ${slot} changes ${what.join(" and ")} (${label(a)} → ` +
          `${label(b)}) while it ${b.weight > 0 ? `gets ${b.weight} % of the traffic` : `still serves ${a.weight} %`} in ` +
          `the same change: stage it at 0 % in one change (envctl promote/stage --no-deploy), move traffic in the next`,
      );
    }
  }
  const from = weightsOf(base);
  const to = weightsOf(head);
  const weights = from.blue === to.blue ? null : { from, to };
  return { environment: env, added: false, slots, weights, problems };
}
