/**
 * The local loop: the engine built by `npm run setup:engine` (OpenTofu + providers in a
 * filesystem mirror, cached under ~/.cache/envstack) and the moto emulator, started on a free
 * loopback port and stopped after. Used by `npm run demo` and the end-to-end tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { SLOTS } from "../config/schema.ts";
import { slotAlarmNames } from "../constructs/monitoring.ts";
import { awsClientConfig } from "../release/gate.ts";

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
    // Providers come from the filesystem mirror: cdktf must not run `providers lock` against a registry.
    ENVSTACK_SKIP_PROVIDER_LOCK: "1",
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

/**
 * Starts moto on 127.0.0.1 on a free port and waits until it answers. Its log goes to a file,
 * never a pipe: a caller blocked in spawnSync would stop draining a pipe, and moto would hang
 * writing to it.
 */
export async function startEmulator(m: EngineManifest, logFile = join(mkdtempSync(join(tmpdir(), "envstack-moto-")), "moto.log")): Promise<Emulator> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, "a");
  const child: ChildProcess = spawn(m.motoServer, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", log, log],
    // AWS-managed IAM policies (e.g. AmazonSSMManagedInstanceCore) exist on AWS; moto loads them on request.
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "false", MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
  });
  closeSync(log);
  const tail = () => readFileSync(logFile, "utf8").slice(-4000);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}): ${tail()}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`);
      if (r.ok || r.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto did not answer on ${endpoint} within 60 s: ${tail()}`);
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

/**
 * The provider cannot create CloudWatch alarms on moto (RPCv2-CBOR, see lib/stacks/local-gaps.ts),
 * so the local loop registers the canary gate's alarms through the SDK's JSON protocol, under
 * the names the monitoring construct gives them. They start OK, as a healthy slot's would.
 */
export async function registerGateAlarms(endpoint: string, env: string, region = "eu-west-1"): Promise<string[]> {
  const cw = new CloudWatchClient(awsClientConfig({ region, endpoint }));
  const names: string[] = [];
  for (const slot of SLOTS) {
    for (const name of slotAlarmNames(env, slot)) {
      await cw.send(new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: "AWS/ApplicationELB",
        MetricName: "HTTPCode_Target_5XX_Count",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 3,
        Threshold: 1,
        ComparisonOperator: "GreaterThanThreshold",
      }));
      await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: "OK", StateReason: "registered by the local loop" }));
      names.push(name);
    }
  }
  return names;
}
