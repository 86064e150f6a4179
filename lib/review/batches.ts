/**
 * Batches of stacks for a pipeline's matrix: 1,000 changed stacks fit GitHub Actions' limit of
 * 256 jobs per matrix (and GitLab's `parallel:matrix` of 200, Buildkite's parallelism) by giving
 * each job a batch, which it plans or applies with bounded parallelism. Pure.
 *
 * - An environment's stacks stay together, in apply order (`<env>`, `<env>-workloads`, then
 *   `<env>-traffic`, as the deploy workflow applies them): a job applying a batch walks it in order.
 * - Phases: `bootstrap` (state buckets) before `environments`, and `global` (it reads every
 *   environment's state) after them; an apply pipeline runs the phases one after the other, a
 *   plan pipeline may run them all at once.
 * - Balanced: environments go to the batch with the fewest stacks so far, largest first, ties by name.
 */
import { z } from "zod";

/** GitHub Actions: a matrix generates at most 256 jobs per workflow run. */
export const GITHUB_MATRIX_LIMIT = 256;

export type Phase = "bootstrap" | "environments" | "global";
const PHASES: readonly Phase[] = ["bootstrap", "environments", "global"];

export interface StackBatch {
  /** `<phase>-<n>`, n from 1: a stable name for the job and its artifacts. */
  readonly id: string;
  readonly phase: Phase;
  readonly stacks: readonly string[];
}

export const BatchOptionsSchema = z.strictObject({
  /** Jobs at most (all phases together). */
  batches: z
    .number()
    .int()
    .min(1)
    .max(GITHUB_MATRIX_LIMIT, `must be at most ${GITHUB_MATRIX_LIMIT} (GitHub's matrix limit)`),
  /** Stacks a job plans or applies at once. */
  parallel: z.number().int().min(1).max(32),
});
export type BatchOptions = z.infer<typeof BatchOptionsSchema>;

/** Suffixes of an environment's other stacks, in apply order after the environment's own stack. */
const SUFFIXES = ["-workloads", "-traffic"] as const;

export function phaseOf(stack: string): Phase {
  if (stack === "global") return "global";
  return stack.startsWith("bootstrap-") ? "bootstrap" : "environments";
}

/** The stacks grouped by environment: a `-traffic`/`-workloads` stack joins its environment's stack when that is listed. */
export function groupByEnvironment(stacks: readonly string[]): string[][] {
  const listed = new Set(stacks);
  const groups = new Map<string, string[]>();
  for (const s of [...listed].sort()) {
    const suffix = SUFFIXES.find((x) => s.endsWith(x) && listed.has(s.slice(0, -x.length)));
    const env = suffix ? s.slice(0, -suffix.length) : s;
    groups.set(env, [...(groups.get(env) ?? []), s]);
  }
  const order = (s: string) => SUFFIXES.findIndex((x) => s.endsWith(x));
  return [...groups.values()].map((g) => g.sort((a, b) => order(a) - order(b)));
}

/**
 * At most `batches` batches (one per matrix job) of the stacks. The batches are shared between
 * the phases by their number of stacks, each phase with at least one batch when it has stacks.
 */
export function batchStacks(stacks: readonly string[], options: BatchOptions): StackBatch[] {
  const { batches } = BatchOptionsSchema.parse(options);
  const byPhase = PHASES.map((phase) => ({
    phase,
    groups: groupByEnvironment(stacks.filter((s) => phaseOf(s) === phase)),
  })).filter((p) => p.groups.length > 0);
  if (byPhase.length > batches)
    throw new RangeError(`${byPhase.length} phases need at least ${byPhase.length} batches (given ${batches})`);
  const total = byPhase.reduce((n, p) => n + p.groups.length, 0);
  // Every phase gets one batch; the rest go by share of the groups, never more than it has groups.
  let spare = batches - byPhase.length;
  const share = byPhase.map((p) => {
    const extra = Math.min(p.groups.length - 1, Math.floor(((batches - byPhase.length) * p.groups.length) / total));
    spare -= extra;
    return 1 + extra;
  });
  for (let i = 0; spare > 0 && i < byPhase.length; i++) {
    const more = Math.min(spare, byPhase[i]!.groups.length - share[i]!);
    share[i]! += more;
    spare -= more;
  }
  return byPhase.flatMap(({ phase, groups }, i) => fill(phase, groups, share[i]!));
}

function fill(phase: Phase, groups: string[][], count: number): StackBatch[] {
  const bins = Array.from({ length: count }, () => [] as string[][]);
  const sorted = [...groups].sort((a, b) => b.length - a.length || a[0]!.localeCompare(b[0]!));
  for (const g of sorted) {
    const smallest = bins.reduce((best, b, i) => (size(b) < size(bins[best]!) ? i : best), 0);
    bins[smallest]!.push(g);
  }
  return bins
    .filter((b) => b.length > 0)
    .map((b, i) => ({
      id: `${phase}-${i + 1}`,
      phase,
      stacks: b.sort((x, y) => x[0]!.localeCompare(y[0]!)).flat(),
    }));
}

const size = (b: readonly string[][]) => b.reduce((n, g) => n + g.length, 0);
