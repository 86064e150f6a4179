/**
 * Discovers `environments/*.ts` (files starting with `_` are shared defaults, not environments),
 * validates each, checks the cross-environment rules and reads each release file. Every problem
 * is collected into ONE {@link ConfigError}.
 *
 * Focused loading (`{ focus: ["production"] }`): a command acting on some environments must not
 * depend on the others' files (an emergency rollback of production must work while staging's
 * file is broken). Problems of the environments outside the focus become warnings, and those
 * environments are left out of the project; problems of the focus still fail the load.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { type Release, ReleaseSchema } from "../release/model/release.ts";
import { stillValidated, UNNAMED } from "./define.ts";
import { ConfigError, type Problem, zodProblems } from "./errors.ts";
import { importEnvironment, loadTimeoutSeconds } from "./import-environment.ts";
import { readJsonFile } from "./json.ts";
import { loadCacheDir, plainDataKey, readCachedConfig, writeCachedConfig } from "./load-cache.ts";
import { loadPreviews, PREVIEWS_SUBJECT } from "./previews.ts";
import { checkEnvironments } from "./rules.ts";
import { type Environment, EnvironmentSchema } from "./schema.ts";

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
  /**
   * Problems of environments outside the focus of a focused load (those environments are left
   * out of `environments`); always empty for a full load, where every problem is an error.
   */
  readonly warnings?: readonly Problem[];
  /** Stores the configurations this load validated for the next loads (lib/config/load-cache.ts); synthesis calls it once it succeeded. */
  readonly storeLoadCache?: () => void;
}

export interface LoadOptions {
  /**
   * Environments the caller acts on. Problems of other environments (their files, their release
   * files, previews.json when no preview is in focus) become {@link Project.warnings}.
   * @default every environment: any problem fails the load
   */
  readonly focus?: readonly string[];
  /**
   * Seconds each environment file may take to load (lib/config/import-environment.ts).
   * @default `ENVSTACK_LOAD_TIMEOUT_SECONDS`, else 30
   */
  readonly timeoutSeconds?: number;
  /**
   * Where validated configurations of plain-data environment files are kept (lib/config/load-cache.ts),
   * or false to import and validate every file. @default `<synthesis cache>/load`
   */
  readonly cache?: string | false;
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

/** The first 16 hex digits of the SHA-256 of the file's content: what an environment module is keyed by. */
function contentKey(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 16);
}

/** A problem and the environment it belongs to (`undefined`: the previews file as a whole). */
interface Owned {
  readonly owner: string | undefined;
  readonly problem: Problem;
}

/** Text of anything a module may throw: an Error's message, a string, else an inspection (never "undefined"). */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message.trim() || err.name;
  if (typeof err === "string") return err.trim() || "(an empty string was thrown)";
  return `${inspect(err, { depth: 2, breakLength: Infinity })} was thrown`;
}

export async function loadProject(root: string, options: LoadOptions = {}): Promise<Project> {
  const dir = environmentsDirOf(root);
  const owned: Owned[] = [];
  const add = (owner: string | undefined, ...problems: Problem[]) =>
    owned.push(...problems.map((problem) => ({ owner, problem })));
  const configs: Environment[] = [];
  const files = environmentFiles(dir);
  const timeoutSeconds = options.timeoutSeconds ?? loadTimeoutSeconds();
  if (typeof timeoutSeconds !== "number") throw new ConfigError([timeoutSeconds]);

  const cacheDir = options.cache === false ? undefined : (options.cache ?? loadCacheDir(root, process.env));
  const memo = new Map<string, string | null>();
  const validated: { key: string; config: Environment }[] = [];
  // Stored only when the caller says its work succeeded: a refused command or a failed synthesis writes nothing.
  const storeLoadCache = () => {
    for (const v of validated) writeCachedConfig(cacheDir!, v.key, v.config);
  };
  for (const file of files) {
    const fileName = basename(file, ".ts");
    const shown = `environments/${fileName}.ts`;
    const key = cacheDir ? plainDataKey(file, root, memo) : undefined;
    const cached = key ? readCachedConfig(cacheDir!, key) : undefined;
    let exported: unknown = cached;
    if (!cached)
      try {
        // A long-lived process (tests, a console) imports each version of the file once: the module is
        // keyed by the hash of its content, so an edit is seen even when it keeps the size and the
        // modification time. The query is not named `v`: vitest's module runner drops `?v=<word
        // characters>` (Vite's version query) from module ids.
        const url = `${pathToFileURL(file).href}?content=${contentKey(file)}`;
        const imported = await importEnvironment({ root, file, url, subject: fileName, shown, timeoutSeconds });
        if ("stuck" in imported) {
          add(fileName, { subject: fileName, path: "", message: imported.stuck });
          continue;
        }
        if ("thrown" in imported) throw imported.thrown;
        const mod = imported.module;
        if (!("default" in mod) || mod.default === undefined) {
          add(fileName, {
            subject: fileName,
            path: "",
            message: `has no default export: ${shown} must end with export default defineEnvironment({ ... })`,
          });
          continue;
        }
        exported = mod.default;
      } catch (err) {
        if (err instanceof ConfigError) {
          // defineEnvironment names problems after the environment; without a valid name, after the file.
          add(
            fileName,
            ...err.problems.map((p) => (p.subject === UNNAMED ? { ...p, subject: `${fileName} (${shown})` } : p)),
          );
        } else {
          add(fileName, {
            subject: fileName,
            path: "",
            message: `cannot be loaded (${shown}): ${describeThrown(err)}`,
          });
        }
        continue;
      }
    // Validated by defineEnvironment and untouched since: validating again would cost as much (half a load).
    const data = cached ?? stillValidated(exported);
    const parsed = data ? ({ success: true, data } as const) : EnvironmentSchema.safeParse(exported);
    if (!parsed.success) {
      add(fileName, ...zodProblems(fileName, parsed.error));
      continue;
    }
    if (parsed.data.name !== fileName) {
      add(fileName, {
        subject: fileName,
        path: "name",
        message: `must match its file name (${shown} defines ${parsed.data.name})`,
      });
      continue;
    }
    if (parsed.data.expiresAt !== undefined) {
      add(fileName, {
        subject: fileName,
        path: "expiresAt",
        message: "is only for preview environments (environments/previews.json): a permanent environment never expires",
      });
      continue;
    }
    if (key && !cached) validated.push({ key, config: parsed.data });
    configs.push(parsed.data);
  }

  const previews = loadPreviews(root, configs);
  for (const p of previews.problems) add(p.subject === PREVIEWS_SUBJECT ? undefined : p.subject, p);
  configs.push(...previews.environments);

  // Names that exist even when their file is broken: a reference to them is not "unknown".
  const known = [...files.map((f) => basename(f, ".ts")), ...previews.names];
  for (const p of checkEnvironments(configs, known)) add(p.subject, p);

  const environments: LoadedEnvironment[] = [];
  for (const config of configs) {
    const releaseFile = releaseFileOf(root, config.name);
    const result = readRelease(releaseFile, config.name, root);
    if ("problems" in result) add(config.name, ...result.problems);
    else environments.push({ config, release: result.release, releaseFile });
  }

  if (options.focus === undefined) {
    if (owned.length > 0) throw new ConfigError(owned.map((o) => o.problem));
    return { root, environmentsDir: dir, environments, warnings: [], storeLoadCache };
  }
  const focus = new Set(options.focus);
  const previewInFocus =
    previews.names.some((n) => focus.has(n)) || [...focus].some((n) => !files.some((f) => basename(f, ".ts") === n));
  const inFocus = (o: Owned) => (o.owner === undefined ? previewInFocus : focus.has(o.owner));
  const errors = owned.filter(inFocus);
  if (errors.length > 0) throw new ConfigError(errors.map((o) => o.problem));
  const broken = new Set(owned.map((o) => o.owner));
  return {
    root,
    environmentsDir: dir,
    environments: environments.filter((e) => !broken.has(e.config.name)),
    warnings: owned.map((o) => o.problem),
    storeLoadCache,
  };
}

/** Reads and validates one release file; problems name the file and the field. */
export function readRelease(file: string, env: string, root: string): { release: Release } | { problems: Problem[] } {
  const subject = relative(root, file) || file;
  if (!existsSync(file))
    return {
      problems: [
        { subject, path: "", message: `is missing: every environment needs a release file (environment ${env})` },
      ],
    };
  const json = readJsonFile(file);
  if ("error" in json) return { problems: [{ subject, path: "", message: json.error }] };
  const parsed = ReleaseSchema.safeParse(json.value);
  if (!parsed.success) return { problems: zodProblems(subject, parsed.error) };
  if (parsed.data.environment !== env) {
    return {
      problems: [{ subject, path: "environment", message: `must be ${env} (found ${parsed.data.environment})` }],
    };
  }
  return { release: parsed.data };
}
