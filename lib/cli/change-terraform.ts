/**
 * A digest of the synthesized Terraform of the stacks a change deploys (the environment's own
 * stacks, synthesized from the working tree): the change's id binds it, so code or configuration
 * behind those stacks that changes after an approval makes another change. Paths of this machine
 * are left out. Synthesis is deterministic in its inputs (envctl's code, the environment files,
 * the release file, the lock file, the target), so its digest is kept per digest of those inputs
 * in the user's cache (~/.cache/envstack/change-digests, private): the author's command, its
 * recomputation by `envctl approve` and its rerun synthesize once.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Project } from "../config/load.ts";
import type { Target } from "../stacks/target.ts";

const LIB = join(dirname(fileURLToPath(import.meta.url)), "..");

function addTree(hash: ReturnType<typeof createHash>, dir: string, label: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules" && e.name !== "releases" && !e.name.startsWith("."))
        addTree(hash, p, `${label}/${e.name}`);
    } else if (e.isFile()) hash.update(`${label}/${e.name}\n`).update(readFileSync(p)).update("\n");
  }
}

/** What the synthesis of `env`'s stacks is a function of. */
function inputsDigest(project: Project, target: Target, env: string, stacks: readonly string[]): string {
  const hash = createHash("sha256").update(JSON.stringify([env, [...stacks].sort(), target]));
  addTree(hash, LIB, "lib");
  addTree(hash, join(project.root, "environments"), "environments");
  for (const f of [`environments/releases/${env}.json`, "package-lock.json", "cdktf.json"]) {
    const p = join(project.root, f);
    hash
      .update(`${f}\n`)
      .update(existsSync(p) ? readFileSync(p) : "absent")
      .update("\n");
  }
  return hash.digest("hex");
}

export async function terraformDigest(
  project: Project,
  target: Target,
  env: string,
  stacks: readonly string[],
): Promise<string> {
  if (stacks.length === 0) return "";
  const cacheDir = join(homedir(), ".cache", "envstack", "change-digests");
  const cached = join(cacheDir, inputsDigest(project, target, env, stacks));
  try {
    const known = readFileSync(cached, "utf8").trim();
    if (/^[0-9a-f]{64}$/.test(known)) return known;
  } catch {
    // not synthesized yet
  }
  const { buildApp } = await import("../stacks/app.ts");
  const outdir = mkdtempSync(join(tmpdir(), "envctl-change-"));
  let digest: string;
  try {
    buildApp(project, target, { outdir, only: [env] }).synth();
    const hash = createHash("sha256");
    for (const stack of [...stacks].sort()) {
      let text = "absent";
      try {
        text = readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8")
          .split(outdir)
          .join("<out>")
          .split(project.root)
          .join("<root>");
      } catch {
        // a stack this environment does not synthesize (another's): its name is in the change already
      }
      hash.update(`${stack}\n${text}\n`);
    }
    digest = hash.digest("hex");
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    writeFileSync(cached, `${digest}\n`, { mode: 0o600 });
  } catch {
    // no cache: the next command synthesizes again
  }
  return digest;
}
