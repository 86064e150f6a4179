/**
 * Names the user typed that match nothing: a "did you mean ...?" from the known ones
 * (fastest-levenshtein), used by every command that takes an environment name.
 */
import { distance } from "fastest-levenshtein";

/**
 * The known name the user most likely meant, or undefined: a known name the input starts
 * (`prod` → `production`), else the closest one within a third of its length (`stagign` →
 * `staging`).
 */
export function didYouMean(input: string, known: readonly string[]): string | undefined {
  const typed = input.toLowerCase();
  if (typed === "") return undefined;
  const prefixed = known.filter((k) => k.toLowerCase().startsWith(typed));
  if (prefixed.length === 1) return prefixed[0];
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(typed, name.toLowerCase());
    if (d <= Math.max(1, Math.floor(name.length / 3)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** "unknown environment prod: did you mean production? (known: dev, staging, production)" */
export function unknownName(kind: string, input: string, known: readonly string[]): string {
  const guess = didYouMean(input, known);
  return `unknown ${kind} ${input}${guess ? `: did you mean ${guess}?` : ""} (known: ${known.join(", ") || "none"})`;
}

export function unknownEnvironmentMessage(input: string, known: readonly string[]): string {
  return unknownName("environment", input, known);
}
