/**
 * Names the user typed that match nothing: the one "did you mean ...?" of the project, used for
 * environment names (every command that takes one), preview names, settings and secrets, and the
 * nearest catalogue types. One distance and one rule, here only:
 *
 * - Distance: Levenshtein (fastest-levenshtein), case-insensitive.
 * - Ranking ({@link nearest}): by distance, ties alphabetically, no threshold (for lists such as
 *   "nearest: t3.micro, t3.small, t3.nano" where the candidates are too many to print).
 * - Guess ({@link didYouMean}): the only known name the input is a prefix of (`prod` →
 *   `production`); else the nearest known name within reach, where a name is within reach when
 *   the distance is at most a third of the name's length, and at least 1 (`stagign` → `staging`:
 *   2 ≤ 7 / 3; `qa` → nothing among dev, staging, production). Else no guess.
 */
import { distance } from "fastest-levenshtein";

const fold = (s: string) => s.toLowerCase();

/** The names in `known` closest to `input`, best first (ties alphabetically); at most `count`. */
export function nearest(input: string, known: readonly string[], count = known.length): string[] {
  const typed = fold(input);
  return known
    .map((name) => ({ name, d: distance(typed, fold(name)) }))
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((x) => x.name);
}

/** Whether `name` is close enough to `input` to be suggested: distance ≤ max(1, ⌊|name| / 3⌋). */
export function withinReach(input: string, name: string): boolean {
  return distance(fold(input), fold(name)) <= Math.max(1, Math.floor(name.length / 3));
}

/** The known name the user most likely meant, or undefined (the rule above). */
export function didYouMean(input: string, known: readonly string[]): string | undefined {
  const typed = fold(input);
  if (typed === "") return undefined;
  const prefixed = known.filter((k) => fold(k).startsWith(typed));
  if (prefixed.length === 1) return prefixed[0];
  return nearest(input, known).find((name) => withinReach(input, name));
}

/** "unknown environment prod: did you mean production? (known: dev, staging, production)" */
export function unknownName(kind: string, input: string, known: readonly string[]): string {
  const guess = didYouMean(input, known);
  return `unknown ${kind} ${input}${guess ? `: did you mean ${guess}?` : ""} (known: ${known.join(", ") || "none"})`;
}

export function unknownEnvironmentMessage(input: string, known: readonly string[]): string {
  return unknownName("environment", input, known);
}
