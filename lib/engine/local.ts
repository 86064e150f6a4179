/**
 * The local loop: the engine built by `npm run setup:engine` (OpenTofu + providers in a
 * filesystem mirror, cached under ~/.cache/envstack) and the moto emulator, started on a free
 * loopback port and stopped after. Used by `npm run demo` and the end-to-end tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { ControlPlaneBinaries } from "./control-plane.ts";

export interface EngineManifest {
  tofu: string;
  cliConfig: string;
  mirror: string;
  motoServer: string;
  versions: Record<string, string>;
  build?: Record<string, { seconds?: number; maxRssMb?: number }>;
  /** Which AWS provider build the mirror holds: `trimmed` serves only `servedTypes` (lib/engine/provider-types.ts). */
  awsProvider?: {
    build: "trimmed" | "full";
    key: string;
    servicePackages: string[] | null;
    servedTypes: string[] | null;
  };
  /** The local Kubernetes control plane (lib/engine/control-plane.ts); absent from engines built before it. */
  controlPlane?: ControlPlaneBinaries;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.ENVSTACK_CACHE ?? join(homedir(), ".cache", "envstack");
}

export function manifestPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), "engine", "manifest.json");
}

/** The engine's manifest, or an error telling how to build it. */
export function readManifest(env: NodeJS.ProcessEnv = process.env): EngineManifest {
  const file = manifestPath(env);
  if (!existsSync(file))
    throw new Error(
      `no engine at ${file}: run 'npm run setup:engine' first (builds OpenTofu, the providers, the ` +
        `local Kubernetes control plane and moto; 25-30 min the first time)`,
    );
  const m = JSON.parse(readFileSync(file, "utf8")) as EngineManifest;
  for (const p of [m.tofu, m.cliConfig, m.motoServer])
    if (!existsSync(p)) throw new Error(`engine manifest names ${p}, which is missing: run 'npm run setup:engine'`);
  return m;
}

/** The control plane's binaries from the manifest, or an error telling how to build them. */
export function controlPlaneBinaries(m: EngineManifest): ControlPlaneBinaries {
  const cp = m.controlPlane;
  if (!cp)
    throw new Error(
      "the engine predates the local Kubernetes control plane: run 'npm run setup:engine' (builds " +
        "etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok; 9-12 min)",
    );
  for (const p of [cp.etcd, cp.kubeApiserver, cp.kubeControllerManager, cp.kubeScheduler, cp.kwok])
    if (!existsSync(p)) throw new Error(`engine manifest names ${p}, which is missing: run 'npm run setup:engine'`);
  return cp;
}

/** Environment variables that make cdktf (and envctl) drive the cached OpenTofu offline. */
export function engineEnv(m: EngineManifest, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    PATH: [dirname(m.tofu), base.PATH ?? ""].join(delimiter),
    TERRAFORM_BINARY_NAME: "tofu",
    TF_CLI_CONFIG_FILE: m.cliConfig,
    // envctl's deployer reads which AWS types the engine's provider serves from it (lib/engine/provider-types.ts).
    ENVSTACK_ENGINE_MANIFEST: manifestPath(base),
    CHECKPOINT_DISABLE: "1",
    // Providers come from the filesystem mirror: cdktf must not run `providers lock` against a registry.
    ENVSTACK_SKIP_PROVIDER_LOCK: "1",
    // No shared plugin cache (cdktf sets TF_PLUGIN_CACHE_DIR=~/.terraform.d/plugin-cache otherwise):
    // the mirror is local already, and concurrent inits re-installing into one cache entry made a
    // parallel run's provider vanish under it ("fork/exec ... no such file or directory").
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: "1",
    CDKTF_DISABLE_TELEMETRY: "true",
    DISABLE_VERSION_CHECK: "true",
  };
}

export interface Emulator {
  /** The endpoint every client uses: the proxy in front of moto (lib/engine/emulator-proxy.ts). */
  readonly endpoint: string;
  readonly port: number;
  /** moto itself, behind the proxy. */
  readonly motoEndpoint: string;
  /** Makes the proxy reset the connections of these AWS signing names (`monitoring`, ...): "service unreachable". */
  unreachable(services: readonly string[]): Promise<void>;
  /**
   * Makes every EKS cluster of the emulator report this API server and CA (PEM) as its endpoint and
   * certificate authority (lib/engine/moto/eks_api.py): the local control plane stands for them.
   */
  serveKubernetesApi(api: { readonly server: string; readonly caPem: string }): void;
  /** CloudWatch operations the proxy translated from CBOR, by name. */
  translated(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** A free loopback TCP port (the kernel picks it). */
export function freePort(): Promise<number> {
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

/**
 * Starts moto on 127.0.0.1 on a free port (through lib/engine/moto/envstack_moto.py, which adds
 * what moto 5.2.5 lacks for the engine's destroys), waits until it answers, and puts the CBOR-translating proxy in
 * front of it. Its log goes to a file, never a pipe: a caller blocked in spawnSync would stop
 * draining a pipe, and moto would hang writing to it.
 */
export async function startEmulator(
  m: EngineManifest,
  logFile = join(mkdtempSync(join(tmpdir(), "envstack-moto-")), "moto.log"),
): Promise<Emulator> {
  const port = await freePort();
  const motoEndpoint = `http://127.0.0.1:${port}`;
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, "a");
  const python = join(dirname(m.motoServer), "python");
  const eksApiFile = join(mkdtempSync(join(tmpdir(), "envstack-eks-api-")), "eks-api.json");
  const child: ChildProcess = spawn(python, [MOTO_WRAPPER, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", log, log],
    // AWS-managed IAM policies (e.g. AmazonSSMManagedInstanceCore) exist on AWS; moto loads them on request.
    env: {
      ...process.env,
      MOTO_ALLOW_NONEXISTENT_REGION: "false",
      MOTO_IAM_LOAD_MANAGED_POLICIES: "true",
      ENVSTACK_EKS_API_FILE: eksApiFile,
    },
  });
  closeSync(log);
  const tail = () => readFileSync(logFile, "utf8").slice(-4000);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}): ${tail()}`);
    try {
      const r = await fetch(`${motoEndpoint}/moto-api/`);
      if (r.ok || r.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto did not answer on ${motoEndpoint} within 60 s: ${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const proxy = await startProxyProcess(motoEndpoint, m.motoServer, logFile);
  const stopChild = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null) return resolve();
      c.once("exit", () => resolve());
      c.kill("SIGTERM");
      setTimeout(() => c.kill("SIGKILL"), 5000).unref();
    });
  const controlUrl = (path: string) => `${proxy.endpoint}/__envstack/${path}`;
  return {
    endpoint: proxy.endpoint,
    port: Number(new URL(proxy.endpoint).port),
    motoEndpoint,
    unreachable: async (services) => {
      const r = await fetch(controlUrl("faults"), { method: "POST", body: JSON.stringify({ unreachable: services }) });
      if (!r.ok) throw new Error(`emulator proxy refused the faults: ${await r.text()}`);
    },
    serveKubernetesApi: (api) =>
      writeFileSync(
        eksApiFile,
        JSON.stringify({ endpoint: api.server, certificateAuthority: Buffer.from(api.caPem).toString("base64") }),
      ),
    translated: async () =>
      ((await (await fetch(controlUrl("stats"))).json()) as { translated: Record<string, number> }).translated,
    stop: async () => {
      await stopChild(proxy.child);
      await stopChild(child);
    },
  };
}

/** Starts lib/engine/emulator-proxy.ts in its own process and waits for its endpoint. */
async function startProxyProcess(
  target: string,
  motoServer: string,
  logFile: string,
): Promise<{ endpoint: string; child: ChildProcess }> {
  const tsx = join(REPO, "node_modules", "tsx", "dist", "cli.mjs");
  const child = spawn(
    process.execPath,
    [tsx, join(import.meta.dirname, "emulator-proxy-main.ts"), "--target", target, "--model", motoServer],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let errors = "";
  child.stderr!.on("data", (d) => {
    errors += d;
    appendFileSync(logFile, d);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the emulator proxy did not start within 30 s: ${errors}`));
    }, 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^listening (\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ endpoint: m[1]!, child });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator proxy exited (${code}): ${errors}`));
    });
  });
}

const REPO = resolve(import.meta.dirname, "../..");

/** moto's server with the project's additions (percentile statistics). */
export const MOTO_WRAPPER = join(import.meta.dirname, "moto", "envstack_moto.py");

/** The `local` target: stacks, SDK clients and the S3 backend all on the emulator. */
export function localTargetEnv(endpoint: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...base,
    ENVSTACK_TARGET: "local",
    ENVSTACK_AWS_ENDPOINT: endpoint,
    // The AWS provider of the local target's stacks reaches the emulator through this (lib/stacks/base-stack.ts).
    AWS_ENDPOINT_URL: endpoint,
    // S3 Control's host carries the account (`<account>.127.0.0.1`): Go reaches it through the
    // emulator proxy as an HTTP proxy (it never proxies loopback addresses: nothing else goes there).
    HTTP_PROXY: endpoint,
    http_proxy: endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
  };
}
