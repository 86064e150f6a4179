/**
 * cdktf entry point: load and validate every environment (environments/*.ts and their release
 * files), build the stacks (lib/stacks), run the policy rules (lib/policy), and only then
 * synthesize. Any problem is reported once, nothing is written, exit 1. `npm run synth` runs
 * this file directly (no cdktf CLI: no telemetry, no spinner); `cdktf synth` runs it too.
 */
import { readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { runOrReport } from "./lib/cli/report.ts";
import { synthesizeProject } from "./lib/stacks/synth.ts";

await runOrReport(async () => {
  const started = performance.now();
  const root = process.cwd();
  await synthesizeProject(root, process.env);
  const outdir = resolve(root, process.env.CDKTF_OUTDIR ?? "cdktf.out");
  const stacks = readdirSync(join(outdir, "stacks")).sort();
  process.stdout.write(
    `synthesized ${stacks.length} stacks into ${relative(root, outdir) || "."}/ in ${((performance.now() - started) / 1000).toFixed(1)} s: ${stacks.join(", ")}\n`,
  );
});
