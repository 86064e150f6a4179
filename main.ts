/**
 * cdktf entry point: load and validate every environment, build the stacks, run the policy
 * rules, and only then synthesize. Any problem is reported at once, nothing is written, exit 1.
 */
import { loadProject } from "./lib/config/load.ts";
import { buildApp } from "./lib/stacks/app.ts";
import { readTarget } from "./lib/stacks/target.ts";
import { checkApp } from "./lib/policy/check.ts";
import { runOrReport } from "./lib/cli/report.ts";
import { PolicyError } from "./lib/policy/errors.ts";

await runOrReport(async () => {
  const root = process.cwd();
  const project = await loadProject(root);
  const app = buildApp(project, readTarget(process.env, root));
  const findings = checkApp(app);
  if (findings.length > 0) throw new PolicyError(findings);
  app.synth();
});
