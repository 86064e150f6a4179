/**
 * The local loop: the engine built by `npm run setup:engine` (OpenTofu + providers in a
 * filesystem mirror, cached under ~/.cache/envstack) and the moto emulator, started on a free
 * loopback port and stopped after. Used by `npm run demo` and the end-to-end tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";

export interface EngineManifest {
  tofu: string;
  cliConfig: string;
  mirror: string;
  motoServer: string;
  versions: Record<string, string>;
  build?: Record<string, { seconds?: number; maxRssMb?: number }>;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.ENVSTACK_CACHE ?? join(homedir(), ".cache", "envstack");
}

/** The engine's manifest, or an error telling how to build it. */
export function readManifest(env: NodeJS.ProcessEnv = process.env): EngineManifest {
  const file = join(cacheRoot(env), "engine", "manifest.json");
  if (!existsSync(file)) throw new Error(`no engine at ${file}: run 'npm run setup:engine' first (builds OpenTofu, the providers and moto; ~25 min the first time)`);
  const m = JSON.parse(readFileSync(file, "utf8")) as EngineManifest;
  for (const p of [m.tofu, m.cliConfig, m.motoServer]) if (!existsSync(p)) throw new Error(`engine manifest names ${p}, which is missing: run 'npm run setup:engine'`);
  return m;
}

/** Environment variables that make cdktf (and envctl) drive the cached OpenTofu offline. */
export function engineEnv(m: EngineManifest, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    PATH: [dirname(m.tofu), base.PATH ?? ""].join(delimiter),
    TERRAFORM_BINARY_NAME: "tofu",
    TF_CLI_CONFIG_FILE: m.cliConfig,
    CHECKPOINT_DISABLE: "1",
    CDKTF_DISABLE_TELEMETRY: "true",
    DISABLE_VERSION_CHECK: "true",
  };
}

export interface Emulator {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts moto on 127.0.0.1 on a free port and waits until it answers. */
export async function startEmulator(m: EngineManifest, logFile?: string): Promise<Emulator> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  if (logFile) mkdirSync(dirname(logFile), { recursive: true });
  const child: ChildProcess = spawn(m.motoServer, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "false" },
  });
  let stderr = "";
  child.stderr?.on("data", (d) => { stderr = (stderr + d).slice(-4000); });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}): ${stderr}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`);
      if (r.ok || r.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto did not answer on ${endpoint} within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    endpoint,
    port,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    }),
  };
}

/** The `local` target: stacks, SDK clients and the S3 backend all on the emulator. */
export function localTargetEnv(endpoint: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...base,
    ENVSTACK_TARGET: "local",
    ENVSTACK_AWS_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
  };
}
