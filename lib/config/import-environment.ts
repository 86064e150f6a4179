/**
 * Imports one environment file with a time limit. An environment file is data, but it is code:
 * a top-level `await` that never settles would end the process with Node's exit code 13 and no
 * message, a slow one would hang it, and an endless synchronous loop cannot be interrupted in the
 * process that runs it. So:
 *
 * - a file whose source (or a local module it imports, outside lib/ and node_modules/) holds code
 *   that can loop or wait — loops, `await`, functions, `new`, regular expressions, package imports:
 *   {@link mayRunCode} — is first imported in a child process with the time limit (only where
 *   needed: the shipped files are plain data and never pay for it);
 * - every file is then imported here, raced against the same limit, with an exit guard that names
 *   the file if the process ends on an unsettled top-level await (exit code 13).
 *
 * The limit is `ENVSTACK_LOAD_TIMEOUT_SECONDS` (default {@link DEFAULT_LOAD_TIMEOUT_SECONDS}).
 */

import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formatProblems, type Problem } from "./errors.ts";
import { codeOf, inside } from "./source-text.ts";

/** Seconds an environment file may take to load, unless `ENVSTACK_LOAD_TIMEOUT_SECONDS` says otherwise. */
export const DEFAULT_LOAD_TIMEOUT_SECONDS = 30;
export const LOAD_TIMEOUT_VARIABLE = "ENVSTACK_LOAD_TIMEOUT_SECONDS";

/** The limit from the environment: a whole number of seconds 1-600, or the problem with the variable. */
export function loadTimeoutSeconds(env: NodeJS.ProcessEnv = process.env): number | Problem {
  const text = env[LOAD_TIMEOUT_VARIABLE];
  if (text === undefined || text === "") return DEFAULT_LOAD_TIMEOUT_SECONDS;
  const n = /^[1-9][0-9]{0,2}$/.test(text) ? Number(text) : NaN;
  if (n >= 1 && n <= 600) return n;
  return {
    subject: LOAD_TIMEOUT_VARIABLE,
    path: "",
    message: `must be 1-600 seconds (a whole number in decimal digits), not ${JSON.stringify(text)}`,
  };
}

/** What importing a file gave: its module, what it threw, or why it never finished (a sentence). */
export type Imported =
  | { readonly module: Record<string, unknown> }
  | { readonly thrown: unknown }
  | { readonly stuck: string };

export interface ImportRequest {
  /** The project root (lib/ and node_modules/ under it are the project's own code, not screened). */
  readonly root: string;
  readonly file: string;
  /** The URL imported in-process (its query, the hash of the file's content, makes a long-lived process see edits). */
  readonly url: string;
  /** The environment the file is named after, and the file as messages show it. */
  readonly subject: string;
  readonly shown: string;
  readonly timeoutSeconds: number;
}

const stuckMessage = (shown: string, seconds: number) =>
  `cannot be loaded (${shown}): it did not finish loading within ` +
  `${seconds} s (an endless loop, or a top-level await still waiting); the limit is ${LOAD_TIMEOUT_VARIABLE}`;
const unsettledMessage = (shown: string) =>
  `cannot be loaded (${shown}): its top-level await never settled (nothing was left that could settle it)`;

/** Node's exit code for a process that ended with a top-level await unsettled. */
const UNSETTLED_TOP_LEVEL_AWAIT = 13;

export async function importEnvironment(req: ImportRequest): Promise<Imported> {
  if (mayRunCode(req.file, req.root)) {
    const checked = await importInChild(req);
    if (checked !== undefined) return { stuck: checked };
  }
  return importHere(req);
}

/** The in-process import, raced against the limit; an exit on an unsettled top-level await names the file. */
async function importHere(req: ImportRequest): Promise<Imported> {
  // The process ends while the import is in flight: its event loop ran dry with the file's top-level
  // await unsettled (Node would exit 13, or 0 when something set process.exitCode before).
  const guard = () => {
    writeSync(
      2,
      `error: invalid configuration:\n${formatProblems([{ subject: req.subject, path: "", message: unsettledMessage(req.shown) }])}\n`,
    );
    process.exitCode = 1;
  };
  let timer: NodeJS.Timeout | undefined;
  // Unreferenced: a file whose await waits on nothing lets the process end (exit 13, the guard speaks).
  const limit = new Promise<Imported>((done) => {
    timer = setTimeout(() => done({ stuck: stuckMessage(req.shown, req.timeoutSeconds) }), req.timeoutSeconds * 1000);
    timer.unref();
  });
  process.on("exit", guard);
  try {
    return await Promise.race([
      import(req.url).then(
        (module: Record<string, unknown>): Imported => ({ module }),
        (thrown: unknown): Imported => ({ thrown }),
      ),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
    process.off("exit", guard);
  }
}

const CHECK = `
import { pathToFileURL } from "node:url";
const [file, warm] = process.argv.slice(1);
if (warm) await import(pathToFileURL(warm).href);
process.stdout.write("ready\\n");
await import(pathToFileURL(file).href);
process.exit(0);
`;

/** How long the child may take to start (Node, tsx and the project's lib/ imported) before the file's clock starts. */
const CHILD_START_SECONDS = 120;

/**
 * Imports the file in a child process (the same Node, TypeScript through tsx) and waits at most
 * the limit. The clock starts once the child is up and has imported the project's own lib/ (so a
 * loaded machine's slow start is not the file's time). Returns why it never finished, or
 * undefined when it finished (or threw: the in-process import then reports what it throws).
 */
async function importInChild(req: ImportRequest): Promise<string | undefined> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const warm = join(req.root, "lib", "index.ts");
  const args = ["--import", tsx, "--input-type=module", "--eval", CHECK, req.file, ...(existsSync(warm) ? [warm] : [])];
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: req.root, stdio: ["ignore", "pipe", "ignore"] });
    const stuck = () => {
      child.kill("SIGKILL");
      done(stuckMessage(req.shown, req.timeoutSeconds));
    };
    let timer = setTimeout(stuck, CHILD_START_SECONDS * 1000);
    child.stdout.once("data", () => {
      clearTimeout(timer);
      timer = setTimeout(stuck, req.timeoutSeconds * 1000);
    });
    child.stdout.resume();
    child.on("error", () => {
      clearTimeout(timer);
      done(undefined);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      done(code === UNSETTLED_TOP_LEVEL_AWAIT ? unsettledMessage(req.shown) : undefined);
    });
  });
}

/**
 * Whether importing `file` may run code that loops or waits: after comments and string literals
 * are removed, any loop or `await`, function (`function`, `=>`, a method body `) {`), `new`, `class`,
 * `yield`, `eval`/`Function`, `Atomics`, dynamic `import(`/`require`, a `/` (a regular expression
 * can backtrack without end), a template with `${…}`, or an import of a package or of a local
 * module that itself may. lib/ and node_modules/ of the project are its own code and trusted.
 * Conservative: a false "yes" only costs the child-process check.
 */
export function mayRunCode(file: string, root: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch {
    return true;
  }
  const code = codeOf(source);
  if (code === undefined || CODE.test(code)) return true;
  for (const [, spec] of source.matchAll(/\b(?:from|import)\s*["']([^"']+)["']/g)) {
    if (!spec!.startsWith(".")) return true; // a package (or node: builtin) may do anything
    const target = resolve(dirname(file), spec!);
    if ([join(root, "lib"), join(root, "node_modules")].some((trusted) => inside(trusted, target))) continue;
    const found = [target, `${target}.ts`, `${target}.js`, `${target}.mjs`].find((f) => existsSync(f));
    if (found === undefined || mayRunCode(found, root, seen)) return true;
  }
  return false;
}

const CODE =
  /\b(?:while|for|do|await|async|function|class|new|yield|eval|Function|Atomics|require)\b|\bimport\s*\(|=>|\)\s*\{/;
