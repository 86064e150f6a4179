/** Test helpers: temporary project copies and in-process synthesis. */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defineEnvironment } from "../../lib/config/define.ts";
import { ConfigError } from "../../lib/config/errors.ts";
import { loadProject, type Project } from "../../lib/config/load.ts";
import type { Environment, EnvironmentInput } from "../../lib/config/schema.ts";
import type { Release } from "../../lib/release/model/release.ts";
import { buildApp } from "../../lib/stacks/app.ts";
import { readTarget, type Target } from "../../lib/stacks/target.ts";

export const REPO = resolve(import.meta.dirname, "../..");

/**
 * A throw-away copy of the project: `environments/` copied (so tests may edit it), `lib/`,
 * `node_modules/` and the entry files linked.
 */
export function tempProject(edit?: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "envstack-"));
  cpSync(join(REPO, "environments"), join(dir, "environments"), { recursive: true });
  for (const f of ["lib", "node_modules", "main.ts", "cdktf.json", "package.json", "tsconfig.json"]) {
    symlinkSync(join(REPO, f), join(dir, f));
  }
  edit?.(dir);
  return dir;
}

export function writeEnvFile(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, "environments", `${name}.ts`), body);
}

export function readJson<T = any>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

export const localBackend = (root: string): Target => readTarget({ ENVSTACK_BACKEND: "local" }, root);
export const s3Backend = (root: string): Target => readTarget({}, root);

/** Synthesizes into `outdir`; returns each stack's Terraform JSON text. */
export function synthTo(project: Project, target: Target, outdir: string): Record<string, string> {
  buildApp(project, target, { outdir }).synth();
  const stacksDir = join(outdir, "stacks");
  return Object.fromEntries(
    readdirSync(stacksDir).map((s) => [s, readFileSync(join(stacksDir, s, "cdk.tf.json"), "utf8")]),
  );
}

export interface Synthesized {
  project: Project;
  /** cdktf output directory (stacks/<name>/cdk.tf.json). */
  outdir: string;
  text: Record<string, string>;
  stack(name: string): any;
}

export async function synthRepo(
  options: {
    target?: (root: string) => Target;
    releases?: Record<string, Partial<Release>>;
    /** Edits of environment definitions (already validated: the edit must keep them valid). */
    configs?: Record<string, (config: Environment) => Environment>;
  } = {},
): Promise<Synthesized> {
  const loaded = await loadProject(REPO);
  const project: Project = {
    ...loaded,
    environments: loaded.environments.map((e) => ({
      ...e,
      config: options.configs?.[e.config.name]?.(e.config) ?? e.config,
      release: { ...e.release, ...(options.releases?.[e.config.name] ?? {}) },
    })),
  };
  const outdir = mkdtempSync(join(tmpdir(), "envstack-synth-"));
  const text = synthTo(project, (options.target ?? s3Backend)(REPO), outdir);
  return { project, outdir, text, stack: (name) => JSON.parse(text[name] ?? "null") };
}

/** Resources of one type in a synthesized stack, as a list of configs. */
export function resources(stack: any, type: string): any[] {
  return Object.values(stack.resource?.[type] ?? {});
}

export function onlyResource(stack: any, type: string): any {
  const all = resources(stack, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

export { existsSync };

/** The problems a ConfigError lists, one line each ("qa: path rule"); anything else is rethrown. */
function problemLines(err: unknown): string[] {
  if (err instanceof ConfigError)
    return err.message
      .split("\n")
      .slice(1)
      .map((l) => l.replace(/^ {2}- /, ""));
  throw err;
}

/** The problems defineEnvironment reports for `input` (none: it is valid). */
export function problemsOf(input: unknown): string[] {
  try {
    defineEnvironment(input as EnvironmentInput);
    return [];
  } catch (err) {
    return problemLines(err);
  }
}

/** The problems loading the project at `dir` reports (none: it loads). */
export async function loadProblems(dir: string): Promise<string[]> {
  try {
    await loadProject(dir);
    return [];
  } catch (err) {
    return problemLines(err);
  }
}
