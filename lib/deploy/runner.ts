/**
 * The deploy runner: what `cdktf deploy <stack> --auto-approve` does, without the cdktf CLI in
 * between. It synthesizes the stacks it deploys (and nothing else) once, in this process, then runs the Terraform engine in each stack's
 * synthesized directory: `init`, then `apply -auto-approve` (or `destroy -auto-approve`). The
 * engine is the one cdktf would use: `TERRAFORM_BINARY_NAME` (default `terraform`; `tofu` for
 * OpenTofu). Starting the cdktf CLI only to have it run those two commands cost ~2 s of Node start
 * per stack, a third of a traffic shift.
 *
 * `init` runs only when needed: each stack keeps its engine data directory (`TF_DATA_DIR`) and
 * dependency lock file under `.envstack/tf/<stack>/`, outside `cdktf.out` (which every synthesis
 * replaces), with the key of what init depends on (backend, required providers, engine, CLI
 * config, the local engine's manifest). Same key: the lock file is put back and init is skipped.
 *
 * Output: the engine's full output goes to a log file per stack (`.envstack/logs/<stack>.log`
 * under the project, appended, one header per run; `ENVSTACK_LOG_DIR` moves it); the caller's `log`
 * receives the story only: what the plan changes, what was applied, the timing, and on failure the
 * engine's errors and the log's path.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { stackDir } from "../engine/engine.ts";
import { type ServedTypes, unservedMessage, unservedTypes } from "../engine/provider-types.ts";
import type { Deployer as ReleaseDeployer } from "../release/ports/index.ts";

/** Where the time of one stack's deploy went, milliseconds. */
export interface DeployTiming {
  readonly stack: string;
  /** The in-process synthesis before the first stack (0 for the others). */
  readonly synth: number;
  /** `init` of the stack's working directory. */
  readonly init: number;
  /** Refresh and plan, until the plan is shown. */
  readonly plan: number;
  /** Applying the plan, until the engine is done. */
  readonly apply: number;
  readonly total: number;
}

export function formatTiming(t: DeployTiming): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `${t.stack}: ${t.synth ? `synth ${s(t.synth)}, ` : ""}init ${s(t.init)}, plan ${s(t.plan)}, apply ${s(t.apply)} (${s(t.total)})`;
}

/** The release's Deployer port, and the destroy the preview commands need. */
export interface Deployer extends ReleaseDeployer {
  /** Deploys the stacks; rejects with {@link DeployError} when the engine fails. Resolves with each stack's timing where known. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a deployer that times nothing (tests' fakes) returns nothing
  deploy(stacks: readonly string[], log: (line: string) => void): Promise<DeployTiming[] | void>;
  /** Destroys the stacks (previews); rejects with {@link DeployError} on failure. */
  destroy?(stacks: readonly string[], log: (line: string) => void): Promise<void>;
}

export class DeployError extends Error {
  constructor(
    readonly stacks: readonly string[],
    readonly exitCode: number | null,
    readonly tail: readonly string[],
    verb = "deploy",
  ) {
    super(
      `${verb} of ${stacks.join(" ")} failed (exit ${exitCode ?? "signal"})${tail.length ? `:\n    ${tail.join("\n    ")}` : ""}`,
    );
    this.name = "DeployError";
  }
}

type Verb = "deploy" | "destroy";

const LOCK_FILE = ".terraform.lock.hcl";

/** Lines of the engine's output that tell the story (the rest goes to the log file only). */
const STORY = /^(Plan: \d+ to add|No changes\.|Apply complete!|Destroy complete!|Changes to Outputs)/;

export class EngineDeployer implements Deployer {
  private readonly engine: string;
  private readonly logDir: string;
  private readonly dataRoot: string;
  private manifestRead: { text: string; awsProvider?: ServedTypes } | null | undefined;

  /**
   * @param root project root (where cdktf.json is)
   * @param env process environment; the engine (`TERRAFORM_BINARY_NAME`) is looked up on its PATH
   * @param synthesize writes the given stacks into `cdktf.out/` for exactly the files on disk now
   *   @default the project's own synthesis of those stacks alone (lib/stacks/synth.ts: the units
   *   owning them, reused when unchanged; every environment's configuration is still loaded and
   *   checked), policy checks included
   */
  constructor(
    private readonly root: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    // Loaded on first use: synthesis pulls in every construct and provider class.
    private readonly synthesize: (stacks: readonly string[]) => Promise<unknown> = async (stacks) =>
      (await import("../stacks/synth.ts")).synthesizeStacks(root, env, stacks),
  ) {
    this.engine = env.TERRAFORM_BINARY_NAME || "terraform";
    this.logDir = resolve(root, env.ENVSTACK_LOG_DIR ?? join(".envstack", "logs"));
    this.dataRoot = resolve(root, ".envstack", "tf");
  }

  deploy(stacks: readonly string[], log: (line: string) => void): Promise<DeployTiming[]> {
    return this.each("deploy", stacks, log);
  }

  async destroy(stacks: readonly string[], log: (line: string) => void): Promise<void> {
    await this.each("destroy", stacks, log);
  }

  /** Synthesizes once, then the stacks one after the other, in the given order. */
  private async each(verb: Verb, stacks: readonly string[], log: (line: string) => void): Promise<DeployTiming[]> {
    const t0 = performance.now();
    try {
      await this.synthesize(stacks);
    } catch (err) {
      throw new Error(
        `synthesis before '${verb} ${stacks.join(" ")}' failed, nothing was ${verb}ed:\n${(err as Error).message}`,
      );
    }
    const synth = performance.now() - t0;
    const timings: DeployTiming[] = [];
    for (const [i, stack] of stacks.entries()) {
      const t = await this.stack(verb, stack, log, i === 0 ? synth : 0);
      timings.push(t);
      log(formatTiming(t));
    }
    return timings;
  }

  private async stack(verb: Verb, stack: string, log: (line: string) => void, synth: number): Promise<DeployTiming> {
    const dir = stackDir(this.root, stack, this.env.CDKTF_OUTDIR ?? "cdktf.out");
    const file = join(dir, "cdk.tf.json");
    if (!existsSync(file)) throw new DeployError([stack], null, [`no synthesized stack '${stack}' (${file})`], verb);
    const json = JSON.parse(readFileSync(file, "utf8"));
    const unserved = unservedTypes(json, this.servedTypes());
    if (unserved.length > 0) throw new DeployError([stack], null, [unservedMessage(stack, unserved)], verb);

    mkdirSync(this.logDir, { recursive: true });
    const logFile = join(this.logDir, `${stack}.log`);
    appendFileSync(logFile, `\n=== ${new Date().toISOString()} ${verb} ${stack} (${this.engine}, in ${dir})\n`);
    const started = performance.now();
    const data = join(this.dataRoot, stack);
    const key = this.initKey(json);
    const keyFile = join(data, "init-key");
    const lockCopy = join(data, LOCK_FILE);
    if (existsSync(keyFile) && readFileSync(keyFile, "utf8") === key && existsSync(lockCopy)) {
      copyFileSync(lockCopy, join(dir, LOCK_FILE));
      appendFileSync(
        logFile,
        `(init skipped: ${data} is initialized for this backend, these providers and this engine)\n`,
      );
    } else {
      // Anything else: a fresh data directory (it holds no state: only the backend's settings and
      // the providers), so a changed backend is initialized, never migrated.
      rmSync(data, { recursive: true, force: true });
      mkdirSync(data, { recursive: true });
      await this.run(verb, stack, dir, ["init", "-input=false", "-no-color"], logFile, () => undefined, data);
      if (existsSync(join(dir, LOCK_FILE))) {
        copyFileSync(join(dir, LOCK_FILE), lockCopy);
        writeFileSync(keyFile, key);
      }
    }
    const initialized = performance.now();
    let planned: number | undefined;
    const action = verb === "deploy" ? "apply" : "destroy";
    await this.run(
      verb,
      stack,
      dir,
      [action, "-auto-approve", "-input=false", "-no-color"],
      logFile,
      (line) => {
        if (/^(Plan: \d+ to add|No changes\.)/.test(line)) planned ??= performance.now();
        if (STORY.test(line)) log(`${stack}: ${line}`);
      },
      data,
    );
    const end = performance.now();
    const plan = (planned ?? end) - initialized;
    return {
      stack,
      synth,
      init: initialized - started,
      plan,
      apply: end - initialized - plan,
      total: end - started + synth,
    };
  }

  /** Runs the engine in `dir`, every line to the log file; rejects with the errors and the log's path. */
  private run(
    verb: Verb,
    stack: string,
    dir: string,
    args: string[],
    logFile: string,
    onLine: (line: string) => void,
    dataDir: string,
  ): Promise<void> {
    appendFileSync(logFile, `$ ${this.engine} ${args.join(" ")}\n`);
    const child = spawn(this.engine, args, {
      cwd: dir,
      env: { ...this.env, TF_DATA_DIR: dataDir, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const errors: string[] = [];
    let inError = false;
    const line = (raw: string) => {
      appendFileSync(logFile, `${raw}\n`);
      const clean = raw
        // biome-ignore lint/suspicious/noControlCharactersInRegex: removes terminal escape sequences
        .replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")
        .replace(/^[│╷╵]\s?/, "")
        .trimEnd();
      if (/^Error: /.test(clean)) inError = true;
      if (inError && clean.trim() !== "" && errors.length < 12) errors.push(clean);
      if (clean === "") inError = false;
      onLine(clean);
    };
    createInterface({ input: child.stdout }).on("line", line);
    createInterface({ input: child.stderr }).on("line", line);
    return new Promise((resolve, reject) => {
      child.on("error", (err) =>
        reject(
          new DeployError(
            [stack],
            null,
            [`cannot run '${this.engine}': ${err.message} (set TERRAFORM_BINARY_NAME, or put the engine on PATH)`],
            verb,
          ),
        ),
      );
      child.on("close", (code) => {
        if (code === 0) return resolve();
        reject(
          new DeployError(
            [stack],
            code,
            [`${this.engine} ${args[0]} failed`, ...errors, `full output: ${logFile}`],
            verb,
          ),
        );
      });
    });
  }

  /** What `init` depends on: when it is unchanged, the stack's data directory is still initialized. */
  private initKey(json: { terraform?: { backend?: unknown; required_providers?: unknown } }): string {
    return createHash("sha256")
      .update(
        JSON.stringify({
          backend: json.terraform?.backend ?? null,
          providers: json.terraform?.required_providers ?? null,
          engine: this.engine,
          cliConfig: this.env.TF_CLI_CONFIG_FILE ?? null,
          manifest: this.manifest()?.text ?? null,
        }),
      )
      .digest("hex");
  }

  /** What the local engine's AWS provider serves (the manifest setup-engine.sh writes), when known. */
  private servedTypes(): ServedTypes | undefined {
    return this.manifest()?.awsProvider;
  }

  /** The local engine's manifest (`ENVSTACK_ENGINE_MANIFEST`), read once per deployer; undefined on other engines. */
  private manifest(): { text: string; awsProvider?: ServedTypes } | undefined {
    if (this.manifestRead === undefined) {
      const file = this.env.ENVSTACK_ENGINE_MANIFEST;
      const text = file && existsSync(file) ? readFileSync(file, "utf8") : undefined;
      this.manifestRead = text
        ? { text, awsProvider: (JSON.parse(text) as { awsProvider?: ServedTypes }).awsProvider }
        : null;
    }
    return this.manifestRead ?? undefined;
  }
}
