/** Runs envctl as a real subprocess against a temporary project with a stand-in engine on PATH. */

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, tempProject } from "./project.ts";
import { runAsync } from "./run.ts";
import { stsStandIn } from "./sts-stand-in.ts";

export interface Sandbox {
  dir: string;
  /** Every stand-in engine apply or destroy, `deploy <stack>` / `destroy <stack>`, one line each. */
  calls(): string[];
  release(env: string): any;
  releaseText(env: string): string;
  audit(env: string): any[];
  /** Runs envctl to completion; asynchronous, so the test worker keeps answering vitest meanwhile. */
  run(args: string[], env?: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }>;
  spawn(
    args: string[],
    env?: Record<string, string>,
  ): Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/**
 * The stand-in engine (TERRAFORM_BINARY_NAME=stub-engine) records each apply or destroy as
 * `deploy <stack>` / `destroy <stack>` (the stack is its working directory's name; `init` is not
 * recorded); `ENGINE_STUB_EXIT` makes it fail, `ENGINE_STUB_SLEEP` makes it slow (seconds).
 */
const STUB = `#!/bin/sh
[ "$1" = init ] && exit 0
verb=$1; [ "$verb" = apply ] && verb=deploy
echo "$verb $(basename "$PWD")" >> "$(dirname "$0")/calls.log"
echo "stand-in engine: $*"
[ "$1" = apply ] && echo "Plan: 0 to add, 1 to change, 0 to destroy."
[ -n "$ENGINE_STUB_SLEEP" ] && sleep "$ENGINE_STUB_SLEEP"
if [ -n "$ENGINE_STUB_EXIT" ]; then echo "Error: stand-in failure"; exit "$ENGINE_STUB_EXIT"; fi
exit 0
`;

export function sandbox(edit?: (dir: string) => void): Sandbox {
  const dir = tempProject(edit);
  const bin = join(dir, ".stub");
  mkdirSync(bin);
  writeFileSync(join(bin, "stub-engine"), STUB);
  chmodSync(join(bin, "stub-engine"), 0o755);
  // No AWS here: SDK calls (the direct weight write of a rollback) go to a closed port and fail at
  // once; STS (the account check and who is acting) is a stand-in that acts as moto does.
  const aws = {
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
    AWS_ENDPOINT_URL_STS: stsStandIn(),
    AWS_ENDPOINT_URL_S3: stsStandIn(),
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  const envOf = (extra: Record<string, string> = {}) => ({
    ...process.env,
    ...aws,
    PATH: `${bin}:${process.env.PATH}`,
    TERRAFORM_BINARY_NAME: "stub-engine",
    ENVSTACK_ENGINE_MANIFEST: "",
    CI: "1",
    GITHUB_ACTOR: "",
    USER: "tester",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    ...extra,
  });
  const argv = (args: string[]) => [join(REPO, "lib/cli/envctl.js"), ...args];
  const rel = (env: string) => join(dir, "environments/releases", `${env}.json`);
  const run = (args: string[], env?: Record<string, string>) =>
    runAsync(process.execPath, argv(args), { cwd: dir, env: envOf(env) });
  return {
    dir,
    calls: () =>
      existsSync(join(bin, "calls.log")) ? readFileSync(join(bin, "calls.log"), "utf8").trim().split("\n") : [],
    release: (env) => JSON.parse(readFileSync(rel(env), "utf8")),
    releaseText: (env) => readFileSync(rel(env), "utf8"),
    audit: (env) => {
      const f = join(dir, "environments/releases", `${env}.audit.jsonl`);
      return existsSync(f)
        ? readFileSync(f, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l))
        : [];
    },
    run: (args, env) => run(args, env),
    spawn: (args, env) => run(args, env),
  };
}
