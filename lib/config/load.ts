/**
 * Discovers `environments/*.ts` (files starting with `_` are shared defaults, not environments),
 * validates each, checks the cross-environment rules and reads each release file. Every problem
 * is collected into ONE {@link ConfigError}.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, zodProblems, type Problem } from "./errors.ts";
import { ReleaseSchema, type Release } from "./release.ts";
import { checkEnvironments } from "./rules.ts";
import { EnvironmentSchema, type Environment } from "./schema.ts";
import { loadPreviews } from "./previews.ts";

export interface LoadedEnvironment {
  readonly config: Environment;
  readonly release: Release;
  /** Absolute path of the release file. */
  readonly releaseFile: string;
}

export interface Project {
  readonly root: string;
  readonly environmentsDir: string;
  readonly environments: readonly LoadedEnvironment[];
}

export function environmentsDirOf(root: string): string {
  return join(root, "environments");
}

export function releaseFileOf(root: string, env: string): string {
  return join(environmentsDirOf(root), "releases", `${env}.json`);
}

/** Environment definition files, sorted; `_*.ts` files hold shared defaults and are skipped. */
export function environmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.startsWith("_") && !f.endsWith(".d.ts"))
    .sort()
    .map((f) => join(dir, f));
}

export async function loadProject(root: string): Promise<Project> {
  const dir = environmentsDirOf(root);
  const problems: Problem[] = [];
  const configs: Environment[] = [];

  for (const file of environmentFiles(dir)) {
    const fileName = basename(file, ".ts");
    try {
      // The query makes a long-lived process (tests, envctl) see edits to the file.
      const { mtimeMs, size } = statSync(file);
      const mod = (await import(`${pathToFileURL(file).href}?v=${mtimeMs}-${size}`)) as { default?: unknown };
      const parsed = EnvironmentSchema.safeParse(mod.default);
      if (!parsed.success) {
        problems.push(...zodProblems(fileName, parsed.error));
        continue;
      }
      if (parsed.data.name !== fileName) {
        problems.push({ subject: fileName, path: "name", message: `must match its file name (environments/${fileName}.ts defines ${parsed.data.name})` });
        continue;
      }
      configs.push(parsed.data);
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else problems.push({ subject: fileName, path: "", message: `cannot be loaded: ${(err as Error).message}` });
    }
  }

  const previews = loadPreviews(root, configs);
  problems.push(...previews.problems);
  configs.push(...previews.environments);

  problems.push(...checkEnvironments(configs));

  const environments: LoadedEnvironment[] = [];
  for (const config of configs) {
    const releaseFile = releaseFileOf(root, config.name);
    const result = readRelease(releaseFile, config.name, root);
    if ("problems" in result) problems.push(...result.problems);
    else environments.push({ config, release: result.release, releaseFile });
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { root, environmentsDir: dir, environments };
}

/** Reads and validates one release file; problems name the file and the field. */
export function readRelease(file: string, env: string, root: string): { release: Release } | { problems: Problem[] } {
  const subject = relative(root, file) || file;
  if (!existsSync(file)) return { problems: [{ subject, path: "", message: `is missing: every environment needs a release file (environment ${env})` }] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    return { problems: [{ subject, path: "", message: `is not valid JSON: ${(err as Error).message}` }] };
  }
  const parsed = ReleaseSchema.safeParse(json);
  if (!parsed.success) return { problems: zodProblems(subject, parsed.error) };
  if (parsed.data.environment !== env) {
    return { problems: [{ subject, path: "environment", message: `must be ${env} (found ${parsed.data.environment})` }] };
  }
  return { release: parsed.data };
}
