/**
 * cdktf entry point: load and validate every environment (environments/*.ts and their release
 * files), build the stacks (lib/stacks), run the policy rules (lib/policy), and only then
 * synthesize. Any problem is reported at once, nothing is written, exit 1.
 */
import { runOrReport } from "./lib/cli/report.ts";
import { synthesizeProject } from "./lib/stacks/synth.ts";

await runOrReport(async () => {
  await synthesizeProject(process.cwd(), process.env);
});
