/**
 * Which stacks a change touches: synthesize the base revision (a git worktree) and the working
 * tree, and compare each stack's Terraform JSON. New stacks count as changed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function synth(dir: string, tsx: string, env: NodeJS.ProcessEnv): string {
  const outdir = mkdtempSync(join(tmpdir(), "envstack-changed-"));
  const r = spawnSync(process.execPath, [tsx, "main.ts"], { cwd: dir, env: { ...env, CDKTF_OUTDIR: outdir }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`synth of ${dir} failed:\n${r.stderr}`);
  return outdir;
}

function stackTexts(outdir: string): Map<string, string> {
  const dir = join(outdir, "stacks");
  if (!existsSync(dir)) return new Map();
  return new Map(readdirSync(dir).map((s) => [s, readFileSync(join(dir, s, "cdk.tf.json"), "utf8")]));
}

export function changedStacks(root: string, base: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const tsx = join(root, "node_modules/tsx/dist/cli.mjs");
  const worktree = mkdtempSync(join(tmpdir(), "envstack-base-"));
  execFileSync("git", ["worktree", "add", "--detach", worktree, base], { cwd: root, stdio: "ignore" });
  try {
    if (!existsSync(join(worktree, "node_modules"))) symlinkSync(join(root, "node_modules"), join(worktree, "node_modules"));
    const before = stackTexts(synth(worktree, tsx, env));
    const after = stackTexts(synth(root, tsx, env));
    return [...after.keys()].filter((s) => before.get(s) !== after.get(s)).sort();
  } finally {
    execFileSync("git", ["worktree", "remove", "--force", worktree], { cwd: root, stdio: "ignore" });
    rmSync(worktree, { recursive: true, force: true });
  }
}
