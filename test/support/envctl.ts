/** Runs envctl as a real subprocess against a temporary project with a stand-in cdktf on PATH. */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, tempProject } from "./project.ts";

export interface Sandbox {
  dir: string;
  /** Arguments of every stand-in cdktf call, one line each. */
  calls(): string[];
  release(env: string): any;
  releaseText(env: string): string;
  audit(env: string): any[];
  run(args: string[], env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  spawn(args: string[], env?: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/**
 * The stand-in records its arguments; `CDKTF_STUB_EXIT` makes it fail, `CDKTF_STUB_SLEEP`
 * makes it slow (seconds).
 */
const STUB = `#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls.log"
echo "stand-in cdktf: $*"
[ -n "$CDKTF_STUB_SLEEP" ] && sleep "$CDKTF_STUB_SLEEP"
exit \${CDKTF_STUB_EXIT:-0}
`;

export function sandbox(edit?: (dir: string) => void): Sandbox {
  const dir = tempProject(edit);
  const bin = join(dir, ".stub");
  mkdirSync(bin);
  writeFileSync(join(bin, "cdktf"), STUB);
  chmodSync(join(bin, "cdktf"), 0o755);
  // No AWS here: SDK calls (the direct weight write of a rollback) go to a closed port and fail at once.
  const aws = { AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_EC2_METADATA_DISABLED: "true" };
  const envOf = (extra: Record<string, string> = {}) => ({ ...process.env, ...aws, PATH: `${bin}:${process.env.PATH}`, CI: "1", GITHUB_ACTOR: "", USER: "tester", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...extra });
  const argv = (args: string[]) => [join(REPO, "lib/cli/envctl.js"), ...args];
  const rel = (env: string) => join(dir, "environments/releases", `${env}.json`);
  return {
    dir,
    calls: () => (existsSync(join(bin, "calls.log")) ? readFileSync(join(bin, "calls.log"), "utf8").trim().split("\n") : []),
    release: (env) => JSON.parse(readFileSync(rel(env), "utf8")),
    releaseText: (env) => readFileSync(rel(env), "utf8"),
    audit: (env) => {
      const f = join(dir, "environments/releases", `${env}.audit.jsonl`);
      return existsSync(f) ? readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : [];
    },
    run: (args, env) => {
      const r = spawnSync(process.execPath, argv(args), { cwd: dir, env: envOf(env), encoding: "utf8" });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    spawn: (args, env) => new Promise((resolve) => {
      const child = spawn(process.execPath, argv(args), { cwd: dir, env: envOf(env) });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => { stdout += d; });
      child.stderr.on("data", (d) => { stderr += d; });
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    }),
  };
}
