/**
 * `npm run bench:deploy`: against the emulator, in one run, the wall time of a full
 * `cdktf deploy dev` (infrastructure stack) versus `envctl shift` (traffic stack only); the
 * shift should be ≥ 5× faster. Also prints the engine's recorded build times. Prints figures,
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
  await timed("first deploy", cdktf, ["deploy", "dev", "dev-traffic", "--auto-approve", "--skip-provider-lock"]);
  await timed("stage", process.execPath, [envctl, "stage", "dev", "--version", "1.6.0"]);
  const full = await timed("cdktf deploy dev", cdktf, ["deploy", "dev", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"]);
  const shift = await timed("envctl shift", process.execPath, [envctl, "shift", "dev", "--to", "green", "--percent", "25"]);
  console.log(`\nfull 'cdktf deploy dev' (no changes, ${"≈"}100 resources refreshed): ${full.toFixed(1)} s`);
  console.log(`'envctl shift dev --to green --percent 25' (dev-traffic, 1 resource): ${shift.toFixed(1)} s`);
  console.log(`ratio: ${(full / shift).toFixed(1)}× (target ≥ 5×)`);
} finally {
  for (const stack of ["dev-traffic", "dev"]) await run(cdktf, ["destroy", stack, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"], dir, env);
  await emulator.stop();
}
