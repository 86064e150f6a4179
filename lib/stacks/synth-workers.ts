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

/** What a worker is asked: the project's environments, the units of one batch, where to write. */
export interface WorkerRequest {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly environments: Project["environments"];
  readonly units: readonly string[];
  readonly outdir: string;
}

export async function buildInWorkers(
  project: Project,
  env: NodeJS.ProcessEnv,
  batches: readonly Batch[],
  workers: number,
  store: (batch: Batch, dir: string) => void,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const dir = mkdtempSync(join(tmpdir(), "envstack-batch-"));
      try {
        const request: WorkerRequest = {
          root: project.root,
          env,
          environments: project.environments,
          units: batch.map((b) => b.unit.id),
          outdir: dir,
        };
        const found = await runWorker(request);
        findings.push(...found);
        if (found.length === 0) store(batch, dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  return findings;
}

function runWorker(request: WorkerRequest): Promise<Finding[]> {
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
        resolve((JSON.parse(out) as { findings: Finding[] }).findings);
      } catch {
        reject(new Error(`a synthesis worker gave no result:\n${err.trim()}`));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}
