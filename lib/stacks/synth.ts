/**
 * Synthesis as main.ts and envctl run it: load, build, check policies, and only then write.
 *
 * - Incremental: each unit (lib/stacks/units.ts) whose key is in the cache (lib/stacks/synth-cache.ts)
 *   is reused; the others are built in batches (each batch its own app: memory stays bounded),
 *   in this process or across worker processes (`workers`), and stored.
 * - Scoped: with `stacks`, only the units owning those stacks are built or reused, and only their
 *   directories of the output are replaced (a command deploying dev builds dev's stacks alone).
 * - All or nothing: a full synthesis is assembled in a staging directory that replaces the output
 *   directory only on success, so a failure leaves `cdktf.out/` exactly as it was. Policy findings
 *   of any batch fail the whole synthesis; nothing of a batch with findings is cached.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type LoadOptions, loadProject, type Project } from "../config/load.ts";
import { checkApp } from "../policy/check.ts";
import { PolicyError } from "../policy/errors.ts";
import type { Finding } from "../policy/types.ts";
import { assemble, cacheDirOf, codeFingerprint, type Entry, readEntry, unitKey, writeEntry } from "./synth-cache.ts";
import { buildInWorkers, workerCount } from "./synth-workers.ts";
import { readTarget, type Target } from "./target.ts";
import { appOf, projectUnits, type SynthUnit, unitsOwning } from "./units.ts";

export interface SynthOptions {
  /** Environments the caller acts on (lib/config/load.ts `focus`). */
  readonly load?: LoadOptions;
  /** Only the units owning these stacks; their directories are merged into the output. @default every stack */
  readonly stacks?: readonly string[];
  /** The cache directory, or false for a cold synthesis that reuses and keeps nothing. @default lib/stacks/synth-cache.ts */
  readonly cache?: string | false;
  /** Worker processes for the units to build. @default `ENVSTACK_SYNTH_WORKERS`, else 1 (this process) */
  readonly workers?: number;
  /**
   * Hard-link the cache's files into the output instead of copying them: for an output that is only
   * read and then removed. @default `ENVSTACK_SYNTH_LINK` is 1 (changed-stacks sets it for its syntheses)
   */
  readonly link?: boolean;
}

export type StackKind = "bootstrap" | "environment" | "traffic" | "workloads" | "global";

export interface SynthSummary {
  /** Every stack written, in synthesis order, with its kind. */
  readonly stacks: readonly { readonly name: string; readonly kind: StackKind }[];
  /** Stacks built now (the others were reused from the cache). */
  readonly built: readonly string[];
  /** Stacks whose synthesized files differ from what the output directory held before (new ones included). */
  readonly changed: readonly string[];
  /** Stacks the output directory held before and no longer does (a full synthesis only). */
  readonly removed: readonly string[];
}

/** Units per batch: one app each. */
export const BATCH_UNITS = 16;
/** Batches built in this process at most; more go to worker processes (memory, see below). */
export const IN_PROCESS_BATCHES = 6;

export function stackKind(unit: SynthUnit, stack: string): StackKind {
  if (unit.kind !== "environment") return unit.kind;
  if (stack.endsWith("-traffic") && unit.stacks[0] !== stack) return "traffic";
  if (stack.endsWith("-workloads") && unit.stacks[0] !== stack) return "workloads";
  return "environment";
}

/** Synthesizes and returns the project (the former entry point; see {@link synthesize}). */
export async function synthesizeProject(
  root: string,
  env: NodeJS.ProcessEnv,
  outdir?: string,
  load: LoadOptions = {},
): Promise<Project> {
  return (await synthesize(root, env, outdir, { load })).project;
}

export async function synthesize(
  root: string,
  env: NodeJS.ProcessEnv,
  outdir?: string,
  options: SynthOptions = {},
): Promise<{ project: Project; summary: SynthSummary }> {
  const project = await loadProject(root, options.load ?? {});
  const target = readTarget(env, root);
  const finalDir = resolve(root, outdir ?? env.CDKTF_OUTDIR ?? "cdktf.out");
  const all = projectUnits(project);
  const units = options.stacks ? unitsOwning(all, options.stacks).units : all;
  const cold = options.cache === false;
  const cacheDir = cold ? mkdtempSync(join(tmpdir(), "envstack-synth-")) : (options.cache ?? cacheDirOf(root, env));
  try {
    const fingerprint = codeFingerprint(env);
    const keyed = units.map((unit) => ({ unit, key: unitKey(unit, target, fingerprint) }));
    const entries = new Map<string, Entry>();
    if (!cold)
      for (const { unit, key } of keyed) {
        const hit = readEntry(cacheDir, key, unit.stacks);
        if (hit) entries.set(unit.id, hit);
      }
    const missing = keyed.filter(({ unit }) => !entries.has(unit.id));
    const batches: (typeof missing)[] = [];
    for (let i = 0; i < missing.length; i += BATCH_UNITS) batches.push(missing.slice(i, i + BATCH_UNITS));
    const findings: Finding[] = [];
    const store = (batch: readonly { unit: SynthUnit; key: string }[], dir: string) => {
      for (const { unit, key } of batch) entries.set(unit.id, writeEntry(cacheDir, key, unit, dir));
    };
    // cdktf keeps every token it ever made for the life of the process: one process building hundreds
    // of units grows past a gigabyte. Past IN_PROCESS_BATCHES, worker processes (at least one, each
    // given WORKER_BATCHES batches and then ended) keep memory bounded.
    const workers = Math.min(options.workers ?? workerCount(env), batches.length);
    if (workers > 1 || batches.length > IN_PROCESS_BATCHES) {
      findings.push(...(await buildInWorkers(project, env, batches, Math.max(1, workers), store)));
    } else {
      for (const batch of batches) findings.push(...buildBatch(batch, target, store));
    }
    if (findings.length > 0) throw new PolicyError(findings);

    const ordered = units.map((u) => entries.get(u.id)!);
    const written = units.flatMap((u) => u.stacks.map((name) => ({ name, kind: stackKind(u, name) })));
    const changed = written.map((s) => s.name).filter((s) => stackChanged(finalDir, s, entries, units));
    const built = missing.flatMap(({ unit }) => unit.stacks);
    if (!cold) project.storeLoadCache?.();
    if (options.stacks) {
      assemble(ordered, finalDir, true);
      return { project, summary: { stacks: written, built, changed, removed: [] } };
    }
    const removed = previousStacks(finalDir).filter((s) => !written.some((w) => w.name === s));
    const staging = `${finalDir}.staging-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    try {
      assemble(ordered, staging, false, options.link ?? env.ENVSTACK_SYNTH_LINK === "1");
      if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true });
      renameSync(staging, finalDir);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return { project, summary: { stacks: written, built, changed, removed } };
  } finally {
    if (cold) rmSync(cacheDir, { recursive: true, force: true });
  }
}

/**
 * Synthesizes what a command acting on `stacks` needs: the units owning them, merged into the output
 * directory; the environments of those stacks are the load's focus (another environment's broken
 * file is a warning). Every environment's configuration is still loaded and the cross-environment
 * rules run over all of them.
 */
export async function synthesizeStacks(
  root: string,
  env: NodeJS.ProcessEnv,
  stacks: readonly string[],
  options: Omit<SynthOptions, "stacks" | "load"> = {},
): Promise<{ project: Project; summary: SynthSummary }> {
  return synthesize(root, env, undefined, { ...options, stacks, load: focusOf(stacks) });
}

/** The load focus for a command on `stacks`: their environments; none (a full load) for global or a bootstrap. */
export function focusOf(stacks: readonly string[]): LoadOptions {
  if (stacks.some((s) => s === "global" || s.startsWith("bootstrap-"))) return {};
  return { focus: [...new Set(stacks.flatMap((s) => [s, s.replace(/-(traffic|workloads)$/, "")]))] };
}

/** Builds one batch in this process: its own app, checked, synthesized into a scratch directory and stored. */
function buildBatch(
  batch: readonly { unit: SynthUnit; key: string }[],
  target: Target,
  store: (batch: readonly { unit: SynthUnit; key: string }[], dir: string) => void,
): Finding[] {
  const dir = mkdtempSync(join(tmpdir(), "envstack-batch-"));
  try {
    const app = appOf(
      batch.map((b) => b.unit),
      target,
      dir,
    );
    const findings = checkApp(app);
    if (findings.length > 0) return findings;
    app.synth();
    store(batch, dir);
    return [];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function previousStacks(outdir: string): string[] {
  try {
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { stacks?: object };
    return Object.keys(manifest.stacks ?? {});
  } catch {
    return [];
  }
}

/** Whether the stack's Terraform JSON differs from the output directory's current one (or it had none). */
function stackChanged(
  outdir: string,
  stack: string,
  entries: Map<string, Entry>,
  units: readonly SynthUnit[],
): boolean {
  const unit = units.find((u) => u.stacks.includes(stack))!;
  const entry = entries.get(unit.id)!;
  const file = join("stacks", stack, "cdk.tf.json");
  try {
    return !readFileSync(join(outdir, file)).equals(readFileSync(join(entry.dir, file)));
  } catch {
    return true;
  }
}
