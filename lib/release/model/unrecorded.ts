/**
 * An edit of a release file that no record of its history accounts for: the file's state differs
 * from what its last record says the file became (`lastChange.to`). A reviewed pull request that
 * changed the weights, or a hand edit on a workstation, looks the same here; either way the next
 * change envctl records must name it, and its approval must show it, so it is never absorbed
 * unseen into a change that says something else. Pure.
 */
import { summarize } from "./records.ts";
import type { Release } from "./release.ts";

/** `a.b.c` → value, for every leaf of a JSON value. */
function leaves(v: unknown, path = "", out = new Map<string, string>()): Map<string, string> {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) leaves(x, path ? `${path}.${k}` : k, out);
  } else if (v !== undefined) out.set(path, JSON.stringify(v));
  return out;
}

/** What changed in the file since its last record, in words (`slots.green.weight 0 → 100`); null when nothing did. */
export function unrecordedEdit(r: Release): string | null {
  if (!r.lastChange) return null;
  const recorded = leaves(r.lastChange.to);
  const now = leaves(summarize(r));
  const paths = [...new Set([...recorded.keys(), ...now.keys()])].sort();
  const changed = paths
    .filter((p) => recorded.get(p) !== now.get(p))
    .map((p) => `${p} ${recorded.get(p) ?? "(none)"} → ${now.get(p) ?? "(none)"}`);
  return changed.length ? changed.join(", ") : null;
}

/** The words a change's output, approval and record carry about such an edit. */
export function unrecordedNote(r: Release, edit: string): string {
  return `includes an edit of the release file made outside envctl since record ${r.lastChange?.seq ?? 0}: ${edit}`;
}
