/**
 * `npm run bench:deploy`: against the emulator, in one run, the wall time of full
 * `cdktf deploy dev` runs of the infrastructure stack (first deploy, a version change, no
 * changes) versus `envctl shift` (traffic stack only, synthesis included); the shift should be
 * ≥ 5× faster than a full deploy. Also prints the engine's recorded build times. Prints figures,
 * asserts nothing.
 */
import { join } from "node:path";
import { playground, run } from "../../lib/engine/demo.ts";
import { engineEnv, localTargetEnv, readManifest, startEmulator } from "../../lib/engine/local.ts";
import { REPO } from "../support/project.ts";

const manifest = readManifest();
for (const [name, b] of Object.entries(manifest.build ?? {})) {
  console.log(`engine build ${name}: ${b.seconds ?? "?"} s, peak RSS ${b.maxRssMb ?? "?"} MB`);
}
const emulator = await startEmulator(manifest);
const dir = playground();
const env = localTargetEnv(emulator.endpoint, engineEnv(manifest, { ...process.env, CI: "1" }));
const cdktf = join(REPO, "node_modules/.bin/cdktf");
const envctl = join(REPO, "lib/cli/envctl.js");
const timed = async (label: string, cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => {
  const t0 = performance.now();
  const code = await run(cmd, args, dir, { ...env, ...extra });
  const s = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${label} failed (${code})`);
  return s;
};
try {
  await timed("bootstrap", cdktf, ["deploy", "bootstrap", "--auto-approve", "--skip-provider-lock"], { ENVSTACK_BACKEND: "local" });
  const deployDev = ["deploy", "dev", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"];
  const create = await timed("cdktf deploy dev (create)", cdktf, deployDev);
  await timed("cdktf deploy dev-traffic", cdktf, ["deploy", "dev-traffic", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"]);
  await timed("stage", process.execPath, [envctl, "stage", "dev", "--version", "1.6.0"]);
  const update = await timed("cdktf deploy dev (new green version)", cdktf, deployDev);
  const shift = await timed("envctl shift", process.execPath, [envctl, "shift", "dev", "--to", "green", "--percent", "25"]);
  const noop = await timed("cdktf deploy dev (no changes)", cdktf, deployDev);
  const row = (label: string, s: number) => `${label.padEnd(62)} ${s.toFixed(1).padStart(6)} s${label.startsWith("envctl") ? "" : `   ${(s / shift).toFixed(1)}× the shift`}`;
  console.log("\nagainst the emulator (moto), OpenTofu + the real AWS provider:");
  console.log(row("cdktf deploy dev, first deploy (all infrastructure)", create));
  console.log(row("cdktf deploy dev, new version in the idle slot", update));
  console.log(row("cdktf deploy dev, no changes (refresh + plan only)", noop));
  console.log(row("envctl shift dev --to green --percent 25 (dev-traffic)", shift));
  console.log(`target: the shift ≥ 5× faster than a full deploy of dev: ${create / shift >= 5 ? "met" : "NOT met"} (${(create / shift).toFixed(1)}×)`);
} finally {
  for (const stack of ["dev-traffic", "dev"]) await run(cdktf, ["destroy", stack, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"], dir, env);
  await emulator.stop();
}
