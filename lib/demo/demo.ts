/**
 * `npm run demo`: the whole loop against the emulator, no AWS account needed, told as a story.
 * On a throw-away copy of the project (your release files stay untouched): start moto → deploy the
 * state backend, dev and dev-traffic through `cdktf deploy` with OpenTofu (the CloudWatch alarms the
 * gate reads included) → stage 1.6.0 and roll it out while synthetic users hit the ALB: a healthy
 * canary goes 50 % → 100 % → stage 1.7.0, whose canary returns 5xx: the analysis rolls it back at
 * its first step → read the weights back at every turn → destroy → stop moto.
 *
 * The engine's output goes to a log file the demo names; the terminal shows envctl's own story
 * (each step, every analysis poll, the verdicts) and the times. `--ui` (or ENVSTACK_DEMO_UI=1):
 * `envctl ui` opens beside it (its URL printed) and the rollouts run in the console, live in its pages.
 */
import { spawn } from "node:child_process";
import { cpSync, createWriteStream, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsClientConfig } from "../aws/clients.ts";
import { loadProject } from "../config/load.ts";
import { loadBalancerName, slotOfTargetGroupArn, WEIGHTED_RULE_PRIORITY } from "../constructs/naming.ts";
import type { Slot } from "../core/primitives.ts";
import { engineEnv, localTargetEnv, readManifest, startEmulator } from "../engine/local.ts";
import { bootstrapStackName } from "../stacks/bootstrap-stack.ts";
import { type ConsoleProcess, startConsoleProcess } from "./console.ts";
import { SyntheticAlbTraffic, split, type Traffic } from "./synthetic-traffic.ts";

const REPO = resolve(import.meta.dirname, "../..");

/** A copy of the project to play in: environments copied, code linked. */
export function playground(): string {
  const dir = mkdtempSync(join(tmpdir(), "envstack-demo-"));
  cpSync(join(REPO, "environments"), join(dir, "environments"), { recursive: true });
  for (const f of ["lib", "node_modules", "main.ts", "cdktf.json", "package.json", "tsconfig.json"])
    symlinkSync(join(REPO, f), join(dir, f));
  return dir;
}

/** Runs a command; its output goes to `log` (a file stream) or, without one, to the terminal. */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  log?: NodeJS.WritableStream,
): Promise<number> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd, env, stdio: log ? ["ignore", "pipe", "pipe"] : "inherit" });
    if (log) {
      log.write(`\n$ ${[cmd, ...args].join(" ")}\n`);
      child.stdout!.pipe(log, { end: false });
      child.stderr!.pipe(log, { end: false });
    }
    child.on("error", rej);
    child.on("close", (code) => res(code ?? 1));
  });
}

/** Weights of the weighted rule of `<env>-alb`, read from the emulator (in `account`, default the emulator's default account). */
export async function readWeights(endpoint: string, env: string, account?: string): Promise<Record<string, number>> {
  const elb = new ElasticLoadBalancingV2Client(
    awsClientConfig({ region: "eu-west-1", endpoint, ...(account ? { emulatorAccount: account } : {}) }, 3),
  );
  const lbs = await elb.send(new DescribeLoadBalancersCommand({ Names: [loadBalancerName(env)] }));
  const listeners = await elb.send(
    new DescribeListenersCommand({ LoadBalancerArn: lbs.LoadBalancers![0]!.LoadBalancerArn }),
  );
  for (const l of listeners.Listeners ?? []) {
    const rules = await elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }));
    const weighted = rules.Rules?.find((r) => r.Priority === String(WEIGHTED_RULE_PRIORITY));
    const groups = weighted?.Actions?.[0]?.ForwardConfig?.TargetGroups;
    if (groups) {
      return Object.fromEntries(
        groups.map((g) => [slotOfTargetGroupArn(g.TargetGroupArn ?? "") ?? g.TargetGroupArn!, g.Weight ?? 0]),
      );
    }
  }
  throw new Error(`no weighted rule on ${env}-alb`);
}

/**
 * Gives the playground's `env` (dev by default) short analysis windows (10 s periods, no publishing delay, polls every
 * 2 s, 12 s and 10 s bakes) and smoke checks against `smokeUrl`: the emulator publishes metrics at
 * once, so a rollout takes seconds instead of minutes. Used by the demo, the rollout end-to-end tests
 * and the deploy benchmark; their synthetic users ({@link users}) bring the evidence a pass needs.
 */
/**
 * The synthetic users of the short windows: `USERS_RPS` requests a second split by the ALB's
 * weights, 0.5 % of them 5xx on both slots (a healthy service has a few), `canaryErrorRate` on the
 * canary slot when given. At that rate a 12 s step at 50 % has the evidence a pass needs (2× of
 * 0.5 % with 95 % power: about 18,000 canary requests).
 */
export const USERS_RPS = 5000;
export function users(
  w: Record<Slot, number>,
  o: { canary?: Slot; canaryErrorRate?: number; rps?: number; latency?: Partial<Record<Slot, number>> } = {},
): Traffic {
  const rate = (s: Slot) => (s === o.canary && o.canaryErrorRate !== undefined ? o.canaryErrorRate : 0.005);
  return split(o.rps ?? USERS_RPS, w, {
    blue: { errorRate: rate("blue"), latencySeconds: o.latency?.blue ?? 0.05 },
    green: { errorRate: rate("green"), latencySeconds: o.latency?.green ?? 0.05 },
  });
}

export function useShortWindows(
  dir: string,
  smokeUrl: string,
  env = "dev",
  promotesTo: readonly string[] = ["staging"],
): void {
  const file = join(dir, "environments", `${env}.ts`);
  const text = readFileSync(file, "utf8");
  const edited = text.replace(
    / {2}release: \{[\s\S]*?\n {2}\},\n/,
    `  release: {
    canary: [{ percent: 50, bakeSeconds: 12 }, { percent: 100, bakeSeconds: 10 }],
    analysis: { intervalSeconds: 2, metricPeriodSeconds: 10, publishDelaySeconds: 0, warmupSeconds: 0, readAttempts: 2, onInconclusive: "fail" },
    smoke: { baseUrl: "${smokeUrl}" },
    promotesTo: ${JSON.stringify(promotesTo)},
    snapshotBeforePromote: false,
  },
`,
  );
  if (edited === text) throw new Error(`${file}: no release block to replace`);
  writeFileSync(file, edited);
}

/** What every demo starts with: the clock and its story lines, the engine, a playground, its log, and a smoke target. */
export interface DemoStage {
  readonly since: () => string;
  readonly say: (s: string) => void;
  readonly manifest: ReturnType<typeof readManifest>;
  readonly dir: string;
  readonly logFile: string;
  readonly log: NodeJS.WritableStream & { end(): void };
  readonly smoke: ReturnType<typeof createServer>;
}

/**
 * Sets a demo's stage: a playground whose `env` has short windows, with smoke checks answered by a
 * local server (both slots answer their health endpoints through the header-routed test route).
 */
export async function demoStage(env = "dev", promotesTo: readonly string[] = ["staging"]): Promise<DemoStage> {
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s`;
  const say = (s: string) => process.stdout.write(`\n[${since()}] ${s}\n`);
  const manifest = readManifest();
  const dir = playground();
  const logFile = join(dir, "demo-engine.log");
  const log = createWriteStream(logFile);
  say(`playground ${dir}; the engine's full output goes to ${logFile}`);
  const smoke = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((r) => smoke.listen(0, "127.0.0.1", r));
  useShortWindows(dir, `http://127.0.0.1:${(smoke.address() as { port: number }).port}`, env, promotesTo);
  return { since, say, manifest, dir, logFile, log, smoke };
}

/** `cdktf deploy <stack>` of a demo, its output to the demo's log, its time said. */
export function demoDeploy(
  stage: DemoStage,
  base: NodeJS.ProcessEnv,
): (stack: string, env?: NodeJS.ProcessEnv) => Promise<void> {
  const cdktf = join(REPO, "node_modules/.bin/cdktf");
  return async (stack, env = base) => {
    const s = performance.now();
    if (
      await run(
        cdktf,
        ["deploy", stack, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"],
        stage.dir,
        env,
        stage.log,
      )
    )
      throw new Error(`cdktf deploy ${stack} failed: see ${stage.logFile}`);
    stage.say(`cdktf deploy ${stack}: ${((performance.now() - s) / 1000).toFixed(1)} s`);
  };
}

/** `npm run demo -- --ui` (or ENVSTACK_DEMO_UI=1): `envctl ui` beside the demo, its rollouts run through it. */
const withUi = process.argv.includes("--ui") || process.env.ENVSTACK_DEMO_UI === "1";

/** Waits for Enter when a person is watching (the console stays open until then). */
const untilEnter = () =>
  process.stdin.isTTY
    ? new Promise<void>((r) => {
        process.stdin.once("data", () => r());
        process.stdin.resume();
      }).finally(() => process.stdin.pause())
    : Promise.resolve();

async function main(): Promise<number> {
  const stage = await demoStage();
  const { since, say, manifest, dir, logFile, log, smoke } = stage;
  const emulator = await startEmulator(manifest, join(dir, "moto.log"));
  const base = localTargetEnv(emulator.endpoint, engineEnv(manifest, { ...process.env, CI: process.env.CI ?? "1" }));
  const cdktf = join(REPO, "node_modules/.bin/cdktf");
  const envctl = (...args: string[]) => run(process.execPath, [join(REPO, "lib/cli/envctl.js"), ...args], dir, base);
  const weights = async () => JSON.stringify(await readWeights(emulator.endpoint, "dev")).replace(/"/g, "");
  const deploy = demoDeploy(stage, base);
  const traffic = new SyntheticAlbTraffic(emulator.endpoint, "dev");
  // The state bucket of dev's account (one bootstrap stack per account).
  const bootstrap = bootstrapStackName(
    (await loadProject(dir, { focus: ["dev"] })).environments.find((e) => e.config.name === "dev")!.config.account.id,
  );
  let code = 0;
  let ui: ConsoleProcess | undefined;
  // With the console open, the rollouts run in it (the page shows each poll's evidence as it comes).
  const rollout = (): Promise<number> =>
    ui
      ? ui.follow("dev", "rollout", { rps: USERS_RPS, errorRate: 0.5 }, (l) => process.stdout.write(`${l}\n`))
      : envctl("rollout", "dev", "--rps", String(USERS_RPS), "--error-rate", "0.5");
  try {
    say(
      `moto on ${emulator.endpoint} (behind the project's proxy: CloudWatch over CBOR works); deploying bootstrap (local state), dev, dev-traffic`,
    );
    await deploy(bootstrap, { ...base, ENVSTACK_BACKEND: "local" });
    await deploy("dev");
    await deploy("dev-traffic");
    say(
      `the ALB serves ${await weights()}; CloudWatch operations the provider made through the proxy: ${JSON.stringify(await emulator.translated())}`,
    );

    if (withUi) {
      ui = await startConsoleProcess(dir, base);
      say(`envctl ui: open ${ui.url}/environments/dev/rollout to follow the rollouts live (they run in the console)`);
    }
    say("envctl stage dev --version 1.6.0 (into the idle slot, green, at 0 %)");
    if (await envctl("stage", "dev", "--version", "1.6.0")) throw new Error("stage failed");
    say(
      `envctl rollout dev — synthetic users send ${USERS_RPS} requests a second, split by the ALB's weights, 0.5 % 5xx on both slots; healthy`,
    );
    // Both slots as fast: synthetic latencies are one value per slot, so a canary 10 ms slower is slower on
    // every request, which the judge's response-time buckets rightly call a regression.
    const healthy = traffic.run((w) => users(w, { latency: { blue: 0.08, green: 0.08 } }));
    // The plan at the users' rate (the emulator keeps no hourly history to read it from).
    const first = await rollout();
    await healthy.stop();
    say(`rollout exit code ${first} (0: complete); the ALB serves ${await weights()}`);

    say(
      "envctl stage dev --version 1.7.0 (into the idle slot, now blue) — this build answers 2.5 % of its requests with 5xx (5× the stable slot)",
    );
    if (await envctl("stage", "dev", "--version", "1.7.0")) throw new Error("stage failed");
    const bad = traffic.run((w) =>
      users(w, { canary: "blue", canaryErrorRate: 0.025, latency: { blue: 0.4, green: 0.09 } }),
    );
    const second = await rollout();
    await bad.stop();
    say(`rollout exit code ${second} (3: the gate rolled it back); the ALB serves ${await weights()}`);
    await envctl("status", "dev");
    code = first === 0 && second === 3 ? 0 : 1;
  } finally {
    if (ui) {
      if (process.stdin.isTTY) {
        say(`the console stays open at ${ui.url}: press Enter to stop it and tear the demo down`);
        await untilEnter();
      }
      await ui.stop();
    }
    say("destroying dev-traffic, dev and bootstrap");
    for (const stack of ["dev-traffic", "dev"])
      await run(
        cdktf,
        ["destroy", stack, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"],
        dir,
        base,
        log,
      );
    await run(
      cdktf,
      ["destroy", bootstrap, "--auto-approve", "--skip-provider-lock"],
      dir,
      { ...base, ENVSTACK_BACKEND: "local" },
      log,
    );
    await emulator.stop();
    smoke.close();
    log.end();
    say(`done in ${since().trim()}; engine log: ${logFile}`);
  }
  return code;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main().catch((err: Error) => {
    process.stderr.write(`demo failed: ${err.message}\n`);
    return 1;
  });
}
