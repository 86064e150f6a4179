/**
 * envctl in-process: `main(argv, deps)` against a project directory with stand-ins for
 * everything that reaches outside (deploys, alarms, snapshots, prompts), so hundreds of
 * invocations take seconds, not minutes. Records what would have been deployed.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type Deps, main } from "../../lib/cli/envctl.ts";
import type { Progress } from "../../lib/cli/progress.ts";

export interface InProcessRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface InProcessCli {
  run(argv: readonly string[]): Promise<InProcessRun>;
  /** Stacks handed to the stand-in deployer (deploy or destroy), one entry per call. */
  readonly deployed: string[][];
}

/** A stand-in whose every method rejects: what a refused command must never reach. */
const forbidden = (what: string): any =>
  new Proxy(
    {},
    {
      get: (_t, key) =>
        key === "then"
          ? undefined
          : async () => {
              throw new Error(`${what} was called (${String(key)})`);
            },
    },
  );

/** No progress display; the notes (`info`: "nothing to change", ...) go to stderr, as on a terminal. */
const quiet = (err: string[]): Progress => ({
  step: (_title, fn) => fn(() => undefined),
  wait: async () => undefined,
  info: (text) => {
    err.push(text);
  },
});

export interface InProcessOptions {
  /** The settings a slot staged into an environment carries (default: none). */
  readonly settings?: Deps["settings"];
}

export function inProcessCli(dir: string, options: InProcessOptions = {}): InProcessCli {
  const deployed: string[][] = [];
  return {
    deployed,
    async run(argv) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(["node", "envctl", ...argv], {
        cwd: dir,
        env: { ENVSTACK_ROOT: dir, USER: "tester", PATH: process.env.PATH },
        deployer: {
          deploy: async (stacks) => {
            deployed.push([...stacks]);
          },
          destroy: async (stacks) => {
            deployed.push([...stacks]);
          },
        },
        // Nothing on AWS: any call of these fails the test loudly.
        alarms: () => forbidden("the alarm reader"),
        metrics: () => forbidden("the metrics reader"),
        traffic: () => forbidden("the ALB"),
        snapshots: () => forbidden("the snapshotter"),
        smoke: forbidden("the smoke checker"),
        settings: options.settings ?? (() => null),
        signal: new AbortController().signal,
        progress: quiet(err),
        now: () => new Date("2026-11-23T12:00:00Z"),
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        confirm: async () => false,
      });
      return { code, stdout: out.join("\n"), stderr: err.join("\n") };
    },
  };
}

/** Path → content hash of every file (and each directory) under `dir`, links skipped: what "nothing changed" compares. */
export function treeDigest(dir: string): Record<string, string> {
  const digest: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st || st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        digest[`${relative(dir, p)}/`] = "directory"; // a leftover lock directory counts as a change
        walk(p);
      } else digest[relative(dir, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  if (existsSync(dir)) walk(dir);
  return digest;
}

/** A stack trace in output: a line starting with "at " after indentation. */
export const STACK_TRACE = /\n\s+at [^\n]*[(:]/;
