/**
 * Which stacks a change touches: synthesize the base revision (a temporary git worktree) and
 * the working tree, and compare each stack's Terraform JSON. Both syntheses share the working
 * tree's synthesis cache: only the stacks whose inputs differ are built. Stacks only the working tree has
 * are added, stacks only the base has are removed (the pipeline plans their destruction).
 * Every temporary folder is removed again, also on failure.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheDirOf } from "../stacks/synth-cache.ts";
import { batchStacks, type StackBatch } from "./batches.ts";

export interface ChangedStacks {
  /** Stacks to plan: added and changed, sorted. */
  stacks: string[];
  added: string[];
  changed: string[];
  /** Stacks the base revision has and the working tree no longer synthesizes: destroyed on apply. */
  removed: string[];
}

/** A problem the user can fix (bad revision, no git, a revision that does not synthesize). */
export class ChangedStacksError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChangedStacksError";
  }
}

/**
 * Pure: the comparison of two synthesized outputs (stack name → Terraform JSON text). An account's
 * bootstrap stack (its state bucket, applied by hand) is never listed as removed: the pipeline
 * does not destroy a state bucket when the last environment leaves its account.
 */
export function compareStacks(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): ChangedStacks {
  const added = [...after.keys()].filter((s) => !before.has(s)).sort();
  const changed = [...after.keys()].filter((s) => before.has(s) && before.get(s) !== after.get(s)).sort();
  const removed = [...before.keys()].filter((s) => !after.has(s) && !s.startsWith("bootstrap-")).sort();
  return { stacks: [...added, ...changed].sort(), added, changed, removed };
}

function git(root: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  if (r.error) throw new ChangedStacksError(`changed-stacks needs git: ${r.error.message}`);
  return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** Resolves `base` to a commit, or explains what to do. */
export function resolveRevision(root: string, base: string): string {
  if (!git(root, ["rev-parse", "--is-inside-work-tree"]).ok)
    throw new ChangedStacksError(`${root} is not a git working tree: changed-stacks compares against a git revision`);
  const r = git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${base}^{commit}`]);
  if (!r.ok || r.out === "") {
    throw new ChangedStacksError(
      `unknown git revision '${base}': fetch it first (e.g. 'git fetch origin main'; in GitHub Actions check out with fetch-depth: 0)`,
    );
  }
  return r.out;
}

/** Synthesizes `dir` into `outdir` with the project's own entry point (asynchronously: keeps the caller's progress alive). */
function synth(dir: string, tsx: string, outdir: string, env: NodeJS.ProcessEnv, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, "main.ts"], {
      cwd: dir,
      env: { ...env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", (e) => reject(new ChangedStacksError(`synthesis of ${what} could not start: ${e.message}`)));
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const text = stderr
        .split("\n")
        .filter((l) => l.trim() !== "" && !/^npm warn/i.test(l))
        .join("\n    ");
      reject(new ChangedStacksError(`synthesis of ${what} failed:\n    ${text || `exit ${code}`}`));
    });
  });
}

function stackTexts(outdir: string): Map<string, string> {
  const dir = join(outdir, "stacks");
  if (!existsSync(dir)) return new Map();
  return new Map(
    readdirSync(dir)
      .filter((s) => existsSync(join(dir, s, "cdk.tf.json")))
      .map((s) => [s, readFileSync(join(dir, s, "cdk.tf.json"), "utf8")]),
  );
}

export interface ChangedStacksOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Copies the base revision's synthesized directories of removed stacks here (for `tofu plan -destroy`). */
  readonly removedOut?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export async function changedStacks(
  root: string,
  base: string,
  opts: ChangedStacksOptions = {},
): Promise<ChangedStacks> {
  const env = opts.env ?? process.env;
  const commit = resolveRevision(root, base);
  const tsx = join(root, "node_modules/tsx/dist/cli.mjs");
  const scratch = mkdtempSync(join(tmpdir(), "envstack-changed-"));
  const worktree = join(scratch, "base");
  let added = false;
  try {
    const w = git(root, ["worktree", "add", "--detach", "--quiet", worktree, commit]);
    if (!w.ok) throw new ChangedStacksError(`could not check out ${base} (${commit.slice(0, 12)}): ${w.err}`);
    added = true;
    if (!existsSync(join(worktree, "node_modules")))
      symlinkSync(join(root, "node_modules"), join(worktree, "node_modules"));
    // One cache for both revisions: a stack whose inputs and code are the same in both is built once, and
    // the working tree's next synthesis reuses what this one built (lib/stacks/synth-cache.ts).
    // Their outputs are only read, then removed: hard links to the cache, not copies.
    const shared = { ...env, ENVSTACK_SYNTH_CACHE: cacheDirOf(root, env), ENVSTACK_SYNTH_LINK: "1" };
    // Both at once: two processes, each loading its revision (on two cores the load overlaps).
    opts.log?.(`synthesizing ${base} (${commit.slice(0, 12)}) and the working tree`);
    await Promise.all([
      synth(worktree, tsx, join(scratch, "before"), shared, `the base revision ${base}`),
      synth(root, tsx, join(scratch, "after"), shared, "the working tree"),
    ]);
    const result = compareStacks(stackTexts(join(scratch, "before")), stackTexts(join(scratch, "after")));
    if (opts.removedOut) {
      mkdirSync(opts.removedOut, { recursive: true });
      for (const s of result.removed)
        cpSync(join(scratch, "before", "stacks", s), join(opts.removedOut, s), { recursive: true });
    }
    return result;
  } finally {
    if (added) git(root, ["worktree", "remove", "--force", worktree]);
    rmSync(scratch, { recursive: true, force: true });
    git(root, ["worktree", "prune"]);
  }
}

/** The batches of a pipeline's matrix jobs (lib/review/batches.ts): to plan or apply, and to plan the destruction of. */
export interface Batched {
  readonly batches: StackBatch[];
  readonly removedBatches: StackBatch[];
  /** Stacks a batch's job handles at once. */
  readonly parallel: number;
}

/**
 * The stacks and the removed stacks each in at most `batches` batches (two matrices: the plans and
 * the destroy plans; each stays within the limit on its own).
 */
export function withBatches(c: ChangedStacks, batches: number, parallel: number): Batched {
  return {
    batches: batchStacks(c.stacks, { batches, parallel }),
    removedBatches: batchStacks(c.removed, { batches, parallel }),
    parallel,
  };
}

export function formatChangedStacks(c: ChangedStacks & Partial<Batched>): string {
  const rows = [
    ...c.added.map((s) => `+ ${s} (added)`),
    ...c.changed.map((s) => `~ ${s} (changed)`),
    ...c.removed.map((s) => `- ${s} (removed: destroyed on apply)`),
  ];
  const batches = [...(c.batches ?? []), ...(c.removedBatches ?? []).map((b) => ({ ...b, id: `destroy ${b.id}` }))];
  const jobs = batches.map((b) => `  ${b.id} (${b.stacks.length}): ${b.stacks.join(", ")}`);
  const text = rows.length ? rows.join("\n") : "no stack changes";
  return jobs.length ? `${text}\nbatches, ${c.parallel} stacks at a time per job:\n${jobs.join("\n")}` : text;
}
