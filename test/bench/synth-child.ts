/** One measured synthesis in a fresh process: prints {ms, maxRssMb, stacks} as JSON. */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const started = performance.now();
const root = process.argv[2] ?? process.cwd();
const { loadProject } = await import("../../lib/config/load.ts");
const { buildApp } = await import("../../lib/stacks/app.ts");
const { readTarget } = await import("../../lib/stacks/target.ts");
const { checkApp } = await import("../../lib/policy/check.ts");
const project = await loadProject(root);
const outdir = mkdtempSync(join(tmpdir(), "envstack-bench-"));
const app = buildApp(project, readTarget({}, root), { outdir });
const findings = checkApp(app);
if (findings.length) throw new Error(`policy findings: ${findings.length}`);
app.synth();
process.stdout.write(
  JSON.stringify({
    ms: performance.now() - started,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    stacks: readdirSync(join(outdir, "stacks")).length,
  }),
);
