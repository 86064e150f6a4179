/**
 * The deploy runner: synthesize once, then `cdktf deploy <stack> --auto-approve --skip-synth`
 * per stack, output streamed line by line. The engine is cdktf's choice: set
 * TERRAFORM_BINARY_NAME=tofu to drive OpenTofu.
 */
import { spawn } from "node:child_process";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import type { Deployer as ReleaseDeployer } from "../release/ports.ts";

/** Where the time of one stack's deploy went, milliseconds. */
export interface DeployTiming {
  readonly stack: string;
  /** The in-process synthesis before the first stack (0 for the others). */
  readonly synth: number;
  /** From starting cdktf to its first line about the stack. */
  readonly cdktfStart: number;
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
  return `${t.stack}: ${t.synth ? `synth ${s(t.synth)}, ` : ""}cdktf start ${s(t.cdktfStart)}, init ${s(t.init)}, plan ${s(t.plan)}, apply ${s(t.apply)} (${s(t.total)})`;
}

/** The release's Deployer port, and the destroy the preview commands need. */
export interface Deployer extends ReleaseDeployer {
  /** Deploys the stacks; rejects with {@link DeployError} when the engine fails. Resolves with each stack's timing where known. */
  deploy(stacks: readonly string[], log: (line: string) => void): Promise<DeployTiming[] | void>;
  /** Destroys the stacks (previews); rejects with {@link DeployError} on failure. */
  destroy?(stacks: readonly string[], log: (line: string) => void): Promise<void>;
}

export class DeployError extends Error {
  constructor(readonly stacks: readonly string[], readonly exitCode: number | null, readonly tail: readonly string[], verb = "deploy") {
    super(`cdktf ${verb} ${stacks.join(" ")} failed (exit ${exitCode ?? "signal"})${tail.length ? `:\n    ${tail.join("\n    ")}` : ""}`);
    this.name = "DeployError";
  }
}

export class CdktfDeployer implements Deployer {
  /**
   * @param root project root (where cdktf.json is)
   * @param env process environment; `cdktf` is looked up on its PATH, then in node_modules/.bin
   * @param synthesize writes `cdktf.out/` for exactly the files on disk now
   *   @default the project's own synthesis (lib/stacks/synth.ts), policy checks included
   */
  constructor(
    private readonly root: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    // Loaded on first use: synthesis pulls in every construct and provider class.
    private readonly synthesize: () => Promise<unknown> = async () => (await import("../stacks/synth.ts")).synthesizeProject(root, env),
  ) {}

  deploy(stacks: readonly string[], log: (line: string) => void): Promise<DeployTiming[]> {
    return this.each("deploy", stacks, log);
  }

  async destroy(stacks: readonly string[], log: (line: string) => void): Promise<void> {
    await this.each("destroy", stacks, log);
  }

  /**
   * Synthesizes once, in this process, then one cdktf invocation per stack, in the given order,
   * with `--skip-synth`: cdktf would otherwise start the app again for every stack (≈3 s each,
   * a third of a traffic shift). Stacks a stack depends on (`dev` for `dev-traffic`) are
   * already deployed, so missing dependencies are allowed; but then cdktf no longer orders
   * several stacks, and may even start one twice (its scheduler picks a pending stack before the
   * first start marks it running), so never more than one per call.
   */
  private async each(verb: "deploy" | "destroy", stacks: readonly string[], log: (line: string) => void): Promise<DeployTiming[]> {
    const t0 = performance.now();
    try {
      await this.synthesize();
    } catch (err) {
      throw new Error(`synthesis before '${verb} ${stacks.join(" ")}' failed, nothing was ${verb}ed:\n${(err as Error).message}`);
    }
    const synth = performance.now() - t0;
    log(`synthesized cdktf.out (${(synth / 1000).toFixed(1)} s)`);
    const timings: DeployTiming[] = [];
    for (const [i, stack] of stacks.entries()) {
      const t = await this.run([verb, stack, ...this.flags()], [stack], log, i === 0 ? synth : 0);
      timings.push(t);
      log(formatTiming(t));
    }
    return timings;
  }

  /** With providers from a local mirror (ENVSTACK_SKIP_PROVIDER_LOCK=1) there is no registry to lock against. */
  private flags(): string[] {
    return ["--auto-approve", "--ignore-missing-stack-dependencies", "--skip-synth", ...(this.env.ENVSTACK_SKIP_PROVIDER_LOCK === "1" ? ["--skip-provider-lock"] : [])];
  }

  private run(args: string[], stacks: readonly string[], log: (line: string) => void, synth: number): Promise<DeployTiming> {
    const PATH = [this.env.PATH ?? "", join(this.root, "node_modules", ".bin")].join(delimiter);
    const started = performance.now();
    const marks: { first?: number; initialized?: number; planned?: number } = {};
    const child = spawn("cdktf", args, { cwd: this.root, env: { ...this.env, PATH, CI: this.env.CI ?? "1", FORCE_COLOR: "0", CHECKPOINT_DISABLE: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const onLine = (line: string) => {
      const clean = line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
      if (clean.trim() === "") return;
      const now = performance.now();
      marks.first ??= now;
      if (/has been successfully initialized/.test(clean)) marks.initialized ??= now;
      if (/\bPlan: \d+ to add|No changes\.|Objects have changed outside/.test(clean)) marks.planned ??= now;
      tail.push(clean);
      if (tail.length > 15) tail.shift();
      log(clean);
    };
    createInterface({ input: child.stdout }).on("line", onLine);
    createInterface({ input: child.stderr }).on("line", onLine);
    return new Promise((resolve, reject) => {
      child.on("error", (err) => reject(new DeployError(stacks, null, [err.message])));
      child.on("close", (code) => {
        if (code !== 0) return reject(new DeployError(stacks, code, tail, args[0]));
        const end = performance.now();
        const first = marks.first ?? end;
        const initialized = marks.initialized ?? first;
        const planned = marks.planned ?? initialized;
        resolve({ stack: stacks[0]!, synth, cdktfStart: first - started, init: initialized - first, plan: planned - initialized, apply: end - planned, total: end - started + synth });
      });
    });
  }
}
