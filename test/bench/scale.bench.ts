/**
 * `npm run bench:scale`: how the cost of envctl's commands grows with the estate. Generated estates
 * of 3, 100 and 500 environments (a fifth of the generated ones previews), in temporary directories
 * (test/bench/scale-estate.ts), each a git repository. Per size, every command a separate process
 * (its wall time and peak RSS, from /usr/bin/time):
 *
 * - full synthesis cold (empty cache) and warm (nothing changed);
 * - `envctl shift dev` end to end with the stand-in engine the tests use (the engine's own plan
 *   and apply are not in it: they run on dev-traffic's directory alone, the same at every size),
 *   median of 3: this is its synthesis share (load, check, build dev's unit) and envctl's own work;
 * - `envctl changed-stacks` against the last commit after a one-file change (team-001's instance type);
 * - `envctl status` of all environments.
 *
 * Prints figures and the targets; asserts nothing (speed is not a unit test). `--sizes 3,100`
 * picks the sizes. The machine may be shared: the figures say wall time under whatever load there was.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { REPO, tempProject } from "../support/project.ts";
import { stsStandIn } from "../support/sts-stand-in.ts";
import { generatedName, writeEstate } from "./scale-estate.ts";

const TSX = join(REPO, "node_modules/tsx/dist/cli.mjs");
const ENVCTL = join(REPO, "lib/cli/envctl.js");
const STUB = `#!/bin/sh
[ "$1" = init ] && exit 0
[ "$1" = apply ] && echo "Plan: 0 to add, 1 to change, 0 to destroy."
exit 0
`;

interface Run {
  readonly ms: number;
  /** CPU time (user + system) of the process and the children it waited for: robust to a loaded machine. */
  readonly cpuMs: number;
  readonly rssMb: number;
  readonly stdout: string;
}

/** Runs a command under /usr/bin/time (its peak RSS, children included when they are waited for). */
function measure(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "MAXRSS_KB %M CPU %U %S", process.execPath, ...args], { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => {
      const ms = performance.now() - t0;
      const rss = /MAXRSS_KB (\d+) CPU ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0) return reject(new Error(`${args.join(" ")} failed (${code}):\n${stdout}\n${stderr}`));
      resolve({
        ms,
        cpuMs: rss ? (Number(rss[2]) + Number(rss[3])) * 1000 : Number.NaN,
        rssMb: rss ? Number(rss[1]) / 1024 : Number.NaN,
        stdout,
      });
    });
  });
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmt = (r: Run) => `${s(r.ms).padStart(7)}  ${s(r.cpuMs).padStart(7)}  ${r.rssMb.toFixed(0).padStart(5)} MB`;
const median = (runs: Run[]) => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)]!;

function git(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: dir, stdio: "ignore" });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git ${args.join(" ")}: ${code}`))));
  });
}

async function size(total: number, sts: string) {
  const dir = tempProject((d) => {
    if (total > 3) writeEstate(d, { total });
  });
  const bin = join(dir, ".stub");
  mkdirSync(bin);
  writeFileSync(join(bin, "stub-engine"), STUB);
  chmodSync(join(bin, "stub-engine"), 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    TERRAFORM_BINARY_NAME: "stub-engine",
    ENVSTACK_ENGINE_MANIFEST: "",
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
    AWS_ENDPOINT_URL_STS: sts,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_EC2_METADATA_DISABLED: "true",
    CI: "1",
    USER: "bench",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "bench",
    GIT_AUTHOR_EMAIL: "bench@example.com",
    GIT_COMMITTER_NAME: "bench",
    GIT_COMMITTER_EMAIL: "bench@example.com",
  };
  const synth = () => measure(dir, [TSX, "main.ts"], env);
  const envctl = (...args: string[]) => measure(dir, [ENVCTL, ...args], env);

  const cold = await synth();
  const stacks = /synthesized (\d+) stacks/.exec(cold.stdout)?.[1] ?? "?";
  const warm = await synth();
  await envctl("stage", "dev", "--version", "1.6.0");
  const shifts: Run[] = [];
  for (const percent of ["10", "20", "30"])
    shifts.push(await envctl("shift", "dev", "--to", "green", "--percent", percent));
  const shift = median(shifts);
  await git(dir, ["init", "-q"]);
  await git(dir, ["add", "-A"]);
  await git(dir, ["commit", "-qm", "estate"]);
  const changedFile = join(dir, "environments", total > 3 ? `${generatedName(1)}.ts` : "dev.ts");
  writeFileSync(
    changedFile,
    readFileSync(changedFile, "utf8")
      .replace("...dev,", '...dev,\n  logLevel: "info",')
      .replace('logLevel: "debug"', 'logLevel: "info"'),
  );
  const changed = await envctl("changed-stacks", "--base", "HEAD", "--json");
  const status = await envctl("status");
  const peak = Math.max(...[cold, warm, ...shifts, changed, status].map((r) => r.rssMb));
  rmSync(dir, { recursive: true, force: true });
  return { total, stacks, cold, warm, shift, changed, changedStacks: changed.stdout.trim(), status, peak };
}

const sizesArg = process.argv.indexOf("--sizes");
const sizes = sizesArg > 0 ? process.argv[sizesArg + 1]!.split(",").map(Number) : [3, 100, 500];
const sts = stsStandIn();
console.log(
  `bench:scale on ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} at start (a shared machine: wall times include other work)`,
);
console.log("command                      wall      CPU  peak RSS");
const results = [];
for (const n of sizes) {
  const r = await size(n, sts);
  results.push(r);
  console.log(`\n${n} environments (${r.stacks} stacks)`);
  console.log(`  full synth, cold          ${fmt(r.cold)}`);
  console.log(`  full synth, warm          ${fmt(r.warm)}`);
  console.log(`  envctl shift dev          ${fmt(r.shift)}   (median of 3; stand-in engine)`);
  console.log(`  changed-stacks, 1 file    ${fmt(r.changed)}   ${r.changedStacks}`);
  console.log(`  envctl status (all)       ${fmt(r.status)}`);
  console.log(`  peak RSS of any command   ${r.peak.toFixed(0)} MB`);
}
const small = results.find((r) => r.total === Math.min(...sizes));
const large = results.find((r) => r.total === Math.max(...sizes));
if (small && large && small !== large) {
  const ratio = large.shift.ms / small.shift.ms;
  const cpuRatio = large.shift.cpuMs / small.shift.cpuMs;
  console.log(`\ntargets at ${large.total} environments:`);
  console.log(
    `  shift within 1.2× of ${small.total}: ${ratio.toFixed(2)}× wall → ${ratio <= 1.2 ? "met" : "MISSED"} (CPU: ${cpuRatio.toFixed(2)}×)`,
  );
  console.log(`  changed-stacks ≤ 10 s: ${s(large.changed.ms)} → ${large.changed.ms <= 10_000 ? "met" : "MISSED"}`);
  console.log(`  warm full synth ≤ 10 s: ${s(large.warm.ms)} → ${large.warm.ms <= 10_000 ? "met" : "MISSED"}`);
  const peak = Math.max(...results.map((r) => r.peak));
  console.log(`  peak memory ≤ 1 GB: ${peak.toFixed(0)} MB → ${peak <= 1024 ? "met" : "MISSED"}`);
}
console.log(
  `load average at end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
process.exit(0);
