/**
 * Synthesis as main.ts runs it: load, build, check policies, and only then write. The app is
 * synthesized into a staging directory that replaces the output directory only on success, so
 * a failure leaves `cdktf.out/` exactly as it was.
 */
import { existsSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { type LoadOptions, loadProject, type Project } from "../config/load.ts";
import { checkApp } from "../policy/check.ts";
import { PolicyError } from "../policy/errors.ts";
import { buildApp } from "./app.ts";
import { readTarget } from "./target.ts";

/**
 * `load.focus`: synthesize for a command acting on those environments only: the others' problems
 * become `project.warnings` and their stacks are left out (lib/config/load.ts).
 */
export async function synthesizeProject(
  root: string,
  env: NodeJS.ProcessEnv,
  outdir?: string,
  load: LoadOptions = {},
): Promise<Project> {
  const project = await loadProject(root, load);
  const target = readTarget(env, root);
  const finalDir = resolve(root, outdir ?? env.CDKTF_OUTDIR ?? "cdktf.out");
  const staging = `${finalDir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const app = buildApp(project, target, { outdir: staging });
    const findings = checkApp(app);
    if (findings.length > 0) throw new PolicyError(findings);
    app.synth();
    if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true });
    renameSync(staging, finalDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return project;
}
