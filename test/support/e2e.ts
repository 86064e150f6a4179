/**
 * The end-to-end harness: moto (behind the project's proxy) on a free port, a playground copy of the
 * project, the engine built by `npm run setup:engine`, and helpers to run cdktf, tofu and envctl in
 * it. Every command is asynchronous on purpose: a test worker blocked for minutes in spawnSync misses
 * vitest's heartbeats. Output is appended to $ENVSTACK_E2E_LOG (default: envstack-e2e-<pid>.log in the temp directory).
 */
import { spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Slot } from "../../lib/config/schema.ts";
import { playground, USERS_RPS } from "../../lib/demo/demo.ts";
import type { SyntheticAlbTraffic, Traffic } from "../../lib/demo/synthetic-traffic.ts";
import { Engine } from "../../lib/engine/engine.ts";
import { type Emulator, engineEnv, localTargetEnv, readManifest, startEmulator } from "../../lib/engine/local.ts";
import { REPO } from "./project.ts";

export const CDKTF = join(REPO, "node_modules/.bin/cdktf");
export const TSX = join(REPO, "node_modules/tsx/dist/cli.mjs");
export const ENVCTL = join(REPO, "lib/cli/envctl.js");
/** Per process: parallel test files (and other checkouts) must not read each other's output. */
export const LOG = process.env.ENVSTACK_E2E_LOG ?? join(tmpdir(), `envstack-e2e-${process.pid}.log`);
/** The bootstrap stack of the shipped dev environment's account (the emulator's default account). */
export const DEV_BOOTSTRAP = "bootstrap-123456789012";
export const DEPLOY_FLAGS = ["--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"];

export interface Run {
  status: number | null;
  /** stdout and stderr, interleaved as written. */
  out: string;
}

export interface LocalLoop {
  readonly emulator: Emulator;
  /** The playground: a copy of environments/, code linked. */
  readonly dir: string;
  /** The local target + engine environment every command runs with. */
  readonly env: NodeJS.ProcessEnv;
  readonly engine: Engine;
  sh(cmd: string, args: string[], extra?: NodeJS.ProcessEnv): Promise<Run>;
  /** Like sh, but throws with the output's tail when the command fails. */
  must(cmd: string, args: string[], extra?: NodeJS.ProcessEnv): Promise<string>;
  envctl(...args: string[]): Promise<Run>;
  synth(extra?: NodeJS.ProcessEnv): Promise<string>;
  /** `cdktf deploy` of each stack, in order (bootstrap first, with local state; `bootstrap` is dev's account's, {@link DEV_BOOTSTRAP}). */
  deploy(...stacks: string[]): Promise<void>;
  /** Edits a file of the playground's environments/ (path relative to it). */
  edit(file: string, change: (text: string) => string): void;
  stop(): Promise<void>;
}

/** `extra`: more environment for every command (e.g. the local control plane's ENVSTACK_KUBECONFIG). */
export async function localLoop(extra: NodeJS.ProcessEnv = {}): Promise<LocalLoop> {
  const manifest = readManifest();
  const emulator = await startEmulator(manifest);
  const dir = playground();
  const env = localTargetEnv(
    emulator.endpoint,
    engineEnv(manifest, { ...process.env, CI: "1", USER: "e2e", ...extra }),
  );
  const sh = async (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> => {
    appendFileSync(LOG, `\n$ ${[cmd, ...args].join(" ")}\n`);
    const start = statSync(LOG).size;
    const fd = openSync(LOG, "a");
    try {
      const status = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: dir, env: { ...env, ...extra }, stdio: ["ignore", fd, fd] });
        child.on("error", reject);
        child.on("close", resolve);
      });
      return { status, out: readFileSync(LOG).subarray(start).toString("utf8") };
    } finally {
      closeSync(fd);
    }
  };
  const must = async (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const r = await sh(cmd, args, extra);
    if (r.status !== 0) throw new Error(`${[cmd, ...args].join(" ")} exited ${r.status}:\n${r.out.slice(-6000)}`);
    return r.out;
  };
  return {
    emulator,
    dir,
    env,
    engine: new Engine("tofu", env),
    sh,
    must,
    envctl: (...args) => sh(process.execPath, [ENVCTL, ...args]),
    synth: (extra = {}) => must(process.execPath, [TSX, "main.ts"], extra),
    deploy: async (...stacks) => {
      for (const stack of stacks) {
        if (stack === "bootstrap" || stack.startsWith("bootstrap-"))
          await must(
            CDKTF,
            ["deploy", stack === "bootstrap" ? DEV_BOOTSTRAP : stack, "--auto-approve", "--skip-provider-lock"],
            { ENVSTACK_BACKEND: "local" },
          );
        else await must(CDKTF, ["deploy", stack, ...DEPLOY_FLAGS]);
      }
    },
    edit: (file, change) => {
      const f = join(dir, "environments", file);
      const before = readFileSync(f, "utf8");
      const after = change(before);
      if (after === before) throw new Error(`the edit of ${file} changed nothing`);
      writeFileSync(f, after);
    },
    stop: () => emulator.stop(),
  };
}

/**
 * The slots' health endpoints as the smoke checks reach them through the test route: answers by
 * the `x-release-slot` header what `health[slot][path]` says (200 when unset), 404 without it.
 */
export interface HealthStandIn {
  readonly url: string;
  readonly health: Record<Slot, Record<string, number>>;
  close(): void;
}

export async function healthStandIn(): Promise<HealthStandIn> {
  const health: Record<Slot, Record<string, number>> = { blue: {}, green: {} };
  const server: Server = createServer((req, res) => {
    const slot = req.headers["x-release-slot"] as Slot | undefined;
    const status = slot ? (health[slot]?.[req.url ?? ""] ?? 200) : 404;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ slot, path: req.url, ok: status === 200 }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, health, close: () => server.close() };
}

/**
 * Runs `envctl rollout <env> <args>` while synthetic users reach the slots as the ALB splits them.
 * By default the traffic plan is given the users' rate (the emulator keeps no hourly history).
 */
export async function rolloutUnderTraffic(
  loop: LocalLoop,
  traffic: SyntheticAlbTraffic,
  users: (w: Record<Slot, number>) => Traffic,
  env = "dev",
  during?: () => Promise<void>,
  args: readonly string[] = ["--rps", String(USERS_RPS), "--error-rate", "0.5"],
): Promise<Run> {
  const generator = traffic.run(users, 1000);
  const run = loop.envctl("rollout", env, ...args);
  if (during) await during();
  const result = await run;
  await generator.stop();
  return result;
}
