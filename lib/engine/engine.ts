/**
 * The Terraform engine as envctl and the tests drive it directly (plan, show, drift): the
 * binary cdktf would use (`TERRAFORM_BINARY_NAME`, default `terraform`), run in a synthesized
 * stack's directory.
 */
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

export interface EngineResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class EngineError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: EngineResult,
  ) {
    super(
      `${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim().split("\n").slice(-8).join("\n    ")}`,
    );
    this.name = "EngineError";
  }
}

export class Engine {
  constructor(
    readonly binary: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): Engine {
    return new Engine(env.TERRAFORM_BINARY_NAME || "terraform", env);
  }

  /** Full path of the binary (absolute, or found on the environment's PATH); undefined when missing. */
  locate(): string | undefined {
    const candidates =
      isAbsolute(this.binary) || this.binary.includes("/")
        ? [this.binary]
        : (this.env.PATH ?? "")
            .split(delimiter)
            .filter(Boolean)
            .map((d) => join(d, this.binary));
    return candidates.find((p) => {
      try {
        accessSync(p, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Runs the engine; resolves whatever the exit code (callers decide what it means). */
  run(cwd: string, args: readonly string[]): Promise<EngineResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, [...args], {
        cwd,
        env: { ...this.env, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      child.on("error", (err) =>
        reject(new EngineError([this.binary, ...args], { code: null, stdout, stderr: err.message })),
      );
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  async ok(cwd: string, args: readonly string[]): Promise<EngineResult> {
    const r = await this.run(cwd, args);
    if (r.code !== 0) throw new EngineError([this.binary, ...args], r);
    return r;
  }

  init(stackDir: string): Promise<EngineResult> {
    return this.ok(stackDir, ["init", "-input=false", "-no-color"]);
  }

  /** `plan` (extra flags allowed) into `planFile`, then its JSON; exit 0/2 are both success with -detailed-exitcode. */
  async planJson(
    stackDir: string,
    planFile: string,
    flags: readonly string[] = [],
    // biome-ignore lint/suspicious/noExplicitAny: the engine's JSON, untyped
  ): Promise<{ changed: boolean; json: any }> {
    const args = ["plan", "-input=false", "-no-color", "-detailed-exitcode", `-out=${planFile}`, ...flags];
    const r = await this.run(stackDir, args);
    if (r.code !== 0 && r.code !== 2) throw new EngineError([this.binary, ...args], r);
    const shown = await this.ok(stackDir, ["show", "-json", "-no-color", planFile]);
    return { changed: r.code === 2, json: JSON.parse(shown.stdout) };
  }
}

export function stackDir(root: string, stack: string, outdir = "cdktf.out"): string {
  return join(root, outdir, "stacks", stack);
}
