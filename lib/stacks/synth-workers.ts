/**
 * Builds batches of units across worker processes (lib/stacks/synth-worker.ts, the same Node with
 * tsx): each worker is given the loaded project as JSON (it loads no file), builds one batch at a
 * time into a scratch directory, checks its policies and synthesizes it; this process stores the
 * result (lib/stacks/synth-cache.ts). A worker that fails or dies fails the synthesis.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Project } from "../config/load.ts";
import type { Finding } from "../policy/types.ts";
import type { SynthUnit } from "./units.ts";

type Batch = readonly { unit: SynthUnit; key: string }[];

/** `ENVSTACK_SYNTH_WORKERS` (1-16), else 1: on a small or shared machine a worker's start costs more than it saves. */
export function workerCount(env: NodeJS.ProcessEnv): number {
  const n = Number(env.ENVSTACK_SYNTH_WORKERS ?? "1");
  return Number.isInteger(n) && n >= 1 && n <= 16 ? n : 1;
}

/** Batches one worker process builds before it ends (cdktf's memory only shrinks when the process ends). */
export const WORKER_BATCHES = 6;

/** What a worker is asked: the project's environments, the units of each batch and where each batch goes. */
export interface WorkerRequest {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly environments: Project["environments"];
  readonly batches: readonly { readonly units: readonly string[]; readonly outdir: string }[];
}

export async function buildInWorkers(
  project: Project,
  env: NodeJS.ProcessEnv,
  batches: readonly Batch[],
  workers: number,
  store: (batch: Batch, dir: string) => void,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const groups: Batch[][] = [];
  for (let i = 0; i < batches.length; i += WORKER_BATCHES) groups.push(batches.slice(i, i + WORKER_BATCHES));
  let next = 0;
  const lane = async () => {
    while (next < groups.length) {
      const group = groups[next++]!;
      const dirs = group.map(() => mkdtempSync(join(tmpdir(), "envstack-batch-")));
      try {
        const request: WorkerRequest = {
          root: project.root,
          env,
          environments: project.environments,
          batches: group.map((batch, i) => ({ units: batch.map((b) => b.unit.id), outdir: dirs[i]! })),
        };
        const found = await runWorker(request);
        group.forEach((batch, i) => {
          findings.push(...found[i]!);
          if (found[i]!.length === 0) store(batch, dirs[i]!);
        });
      } finally {
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, groups.length) }, lane));
  return findings;
}

/** Each batch's findings, in order. */
function runWorker(request: WorkerRequest): Promise<Finding[][]> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const script = join(import.meta.dirname, "synth-worker.ts");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", tsx, script], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", (e) => reject(new Error(`a synthesis worker could not start: ${e.message}`)));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`a synthesis worker failed (exit ${code}):\n${err.trim()}`));
      try {
        const { findings } = JSON.parse(out) as { findings: Finding[][] };
        if (findings.length !== request.batches.length) throw new Error("a result per batch");
        resolve(findings);
      } catch {
        reject(new Error(`a synthesis worker gave no result:\n${err.trim()}`));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}
