/**
 * `npm run bench:deploy`: against the emulator, in one run, prints
 * - full `cdktf deploy dev` runs of the infrastructure stack (first deploy, a version change, no changes);
 * - `envctl shift` end to end and its phases (envctl itself, synth, init, plan, apply);
 * - time to mitigate: how long after the gate fails (a canary returning 5xx) the ALB reads back
 *   100/0, and the same for a manual `envctl rollback` (from the command's start);
 * - the engine's recorded build times.
 * Targets (printed as met / NOT met, asserted nowhere): weights back ≤ 2 s after the gate fails;
 * `envctl shift` ≤ 6 s end to end. Prints figures, asserts nothing.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { playground, readWeights, run, USERS_RPS, users, useShortWindows } from "../../lib/demo/demo.ts";
import { SyntheticAlbTraffic } from "../../lib/demo/synthetic-traffic.ts";
import { engineEnv, localTargetEnv, readManifest, startEmulator } from "../../lib/engine/local.ts";
import { REPO } from "../support/project.ts";

const manifest = readManifest();
for (const [name, b] of Object.entries(manifest.build ?? {})) {
  console.log(`engine build ${name}: ${b.seconds ?? "?"} s, peak RSS ${b.maxRssMb ?? "?"} MB`);
}
const smoke = createServer((_req, res) => res.end("ok"));
await new Promise<void>((r) => smoke.listen(0, "127.0.0.1", r));
const emulator = await startEmulator(manifest);
const dir = playground();
useShortWindows(dir, `http://127.0.0.1:${(smoke.address() as { port: number }).port}`);
const env = localTargetEnv(emulator.endpoint, engineEnv(manifest, { ...process.env, CI: "1" }));
const cdktf = join(REPO, "node_modules/.bin/cdktf");
const envctl = join(REPO, "lib/cli/envctl.js");
const logFile = join(dir, "bench-engine.log");
const log = createWriteStream(logFile);
console.log(`the engine's output: ${logFile} (cdktf) and ${join(dir, ".envstack/logs")} (envctl)`);
const timed = async (label: string, cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => {
  const t0 = performance.now();
  const code = await run(cmd, args, dir, { ...env, ...extra }, log);
  const s = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${label} failed (${code})`);
  return s;
};
/** Runs envctl, streaming its lines to `onLine` (with the time each arrived); resolves with the exit code and the lines. */
const envctlStreaming = (args: string[], onLine: (line: string, at: number) => void = () => undefined) =>
  new Promise<{ code: number; lines: string[]; ms: number }>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [envctl, ...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    for (const s of [child.stdout, child.stderr])
      createInterface({ input: s }).on("line", (l) => {
        lines.push(l);
        onLine(l, performance.now());
      });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, lines, ms: performance.now() - t0 }));
  });
/** Polls the ALB until it serves `want`; resolves with the time it first did. */
const until = async (want: Record<string, number>, from: number) => {
  for (;;) {
    const w = await readWeights(emulator.endpoint, "dev");
    if (w.blue === want.blue && w.green === want.green) return performance.now() - from;
    if (performance.now() - from > 120_000) throw new Error(`the ALB never served ${JSON.stringify(want)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
try {
  await timed("bootstrap", cdktf, ["deploy", "bootstrap-123456789012", "--auto-approve", "--skip-provider-lock"], {
    ENVSTACK_BACKEND: "local",
  });
  const deployDev = ["deploy", "dev", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"];
  const create = await timed("cdktf deploy dev (create)", cdktf, deployDev);
  await timed("cdktf deploy dev-traffic", cdktf, [
    "deploy",
    "dev-traffic",
    "--auto-approve",
    "--skip-provider-lock",
    "--ignore-missing-stack-dependencies",
  ]);
  await timed("stage", process.execPath, [envctl, "stage", "dev", "--version", "1.6.0"]);
  const update = await timed("cdktf deploy dev (new green version)", cdktf, deployDev);
  const noop = await timed("cdktf deploy dev (no changes)", cdktf, deployDev);

  // envctl shift, end to end, with the runner's phases
  const shifts: { ms: number; phases: string }[] = [];
  for (const percent of [25, 50, 0]) {
    const r = await envctlStreaming(["shift", "dev", "--to", "green", "--percent", String(percent)]);
    if (r.code !== 0) throw new Error(`shift failed:\n${r.lines.join("\n")}`);
    shifts.push({
      ms: r.ms,
      phases: r.lines.find((l) => /dev-traffic: synth/.test(l))?.replace(/^.*│ /, "") ?? "(no timing line)",
    });
  }

  // manual rollback: from the command's start to the ALB serving 100/0
  await envctlStreaming(["shift", "dev", "--to", "green", "--percent", "50"]);
  const rollbackStart = performance.now();
  const rollback = envctlStreaming(["rollback", "dev"]);
  const rollbackWeights = await until({ blue: 100, green: 0 }, rollbackStart);
  const rolledBack = await rollback;

  // a canary returning 5xx: from the gate's verdict to the ALB serving 100/0
  const traffic = new SyntheticAlbTraffic(emulator.endpoint, "dev");
  const bad = traffic.run((w) => users(w, { canary: "green", canaryErrorRate: 0.05 }));
  let gateFailedAt = 0;
  let mitigated: Promise<number> | undefined;
  const gate = await envctlStreaming(
    ["rollout", "dev", "--rps", String(USERS_RPS), "--error-rate", "0.5"],
    (line, at) => {
      if (!gateFailedAt && /gate failed/.test(line)) {
        gateFailedAt = at;
        mitigated = until({ blue: 100, green: 0 }, at);
      }
    },
  );
  await bad.stop();
  const toMitigate = mitigated !== undefined ? await mitigated : NaN;

  const row = (label: string, value: string) => `${label.padEnd(66)} ${value}`;
  console.log("\nagainst the emulator (moto), OpenTofu + the real AWS provider:");
  console.log(row("cdktf deploy dev, first deploy (all infrastructure)", s1(create * 1000)));
  console.log(row("cdktf deploy dev, new version in the idle slot", s1(update * 1000)));
  console.log(row("cdktf deploy dev, no changes (refresh + plan only)", s1(noop * 1000)));
  for (const [i, s] of shifts.entries()) {
    // what the runner did not time: node and tsx start, the CLI, the release file, its lock and records
    const runner = Number(/\(([\d.]+) s\)$/.exec(s.phases)?.[1] ?? NaN) * 1000;
    console.log(
      row(`envctl shift dev (run ${i + 1}), end to end`, `${s1(s.ms)}   envctl ${s1(s.ms - runner)}, ${s.phases}`),
    );
  }
  const best = Math.min(...shifts.map((s) => s.ms));
  console.log(
    row(
      "envctl rollback dev: command start → ALB serves 100/0",
      `${s1(rollbackWeights)} (command done in ${s1(rolledBack.ms)}, exit ${rolledBack.code})`,
    ),
  );
  console.log(
    row(
      "gate fails (5xx canary) → ALB serves 100/0",
      `${Number.isNaN(toMitigate) ? "gate never failed" : `${(toMitigate / 1000).toFixed(2)} s`} (rollout exit ${gate.code})`,
    ),
  );
  console.log(
    `\ntargets: weights back ≤ 2 s after the gate fails: ${toMitigate <= 2000 ? "met" : "NOT met"}; envctl shift ≤ 6 s end to end: ${best <= 6000 ? "met" : "NOT met"} (best ${s1(best)}); shift ${((create * 1000) / best).toFixed(1)}× faster than a full first deploy`,
  );
} finally {
  for (const stack of ["dev-traffic", "dev"])
    await run(
      cdktf,
      ["destroy", stack, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"],
      dir,
      env,
      log,
    );
  log.end();
  await emulator.stop();
  smoke.close();
}
