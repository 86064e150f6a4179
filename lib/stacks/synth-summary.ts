/** The synthesis summary line: stacks counted by kind, and only the stacks that changed named. */
import type { StackKind, SynthSummary } from "./synth.ts";

/** How many changed stacks are named before "and N more". */
export const NAMED_CHANGES = 12;

const KINDS: readonly StackKind[] = ["environment", "traffic", "workloads", "bootstrap", "global"];

export function formatSynthSummary(s: SynthSummary, outdir: string, ms: number): string {
  const counts = KINDS.map((k) => [k, s.stacks.filter((x) => x.kind === k).length] as const).filter(([, n]) => n > 0);
  const kinds = counts.map(([k, n]) => `${n} ${k}`).join(", ");
  const reused = s.stacks.length - s.built.length;
  const names = (list: readonly string[]) =>
    list.length <= NAMED_CHANGES
      ? list.join(", ")
      : `${list.slice(0, NAMED_CHANGES).join(", ")} and ${list.length - NAMED_CHANGES} more`;
  const changes =
    s.changed.length === 0 && s.removed.length === 0
      ? "no stack changed"
      : [
          ...(s.changed.length ? [`changed ${s.changed.length}: ${names(s.changed)}`] : []),
          ...(s.removed.length ? [`removed ${s.removed.length}: ${names(s.removed)}`] : []),
        ].join("; ");
  const seconds = (ms / 1000).toFixed(1);
  return `synthesized ${s.stacks.length} stacks (${kinds}) into ${outdir}/ in ${seconds} s, ${s.built.length} built, ${reused} reused; ${changes}`;
}
