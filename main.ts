/**
 * cdktf entry point: load and validate every environment (environments/*.ts and their release
 * files), build the stacks (lib/stacks), run the policy rules (lib/policy), and only then
 * synthesize, reusing every unchanged stack (lib/stacks/synth.ts). Any problem is reported once,
 * nothing is written, exit 1. `npm run synth` runs this file directly (no cdktf CLI: no
 * telemetry, no spinner); `cdktf synth` runs it too.
 */
import { relative, resolve } from "node:path";
import { runOrReport } from "./lib/cli/report.ts";
import { synthesize } from "./lib/stacks/synth.ts";
import { formatSynthSummary } from "./lib/stacks/synth-summary.ts";

await runOrReport(async () => {
  const started = performance.now();
  const root = process.cwd();
  const { summary } = await synthesize(root, process.env);
  const outdir = relative(root, resolve(root, process.env.CDKTF_OUTDIR ?? "cdktf.out")) || ".";
  process.stdout.write(`${formatSynthSummary(summary, outdir, performance.now() - started)}\n`);
});
