/**
 * The README's promises to a newcomer: its two commands are exactly what CI runs, `npm test` sets
 * its engine up by itself, and the example session runs as written (each `$ npx envctl` line, in
 * process, against fakes of the ALB, CloudWatch and the clock; the output lines it shows appear).
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { slotAlarmNames } from "../lib/constructs/naming.ts";
import {
  albPerEnvironment,
  FakeAlarms,
  FakeClock,
  FakeMetrics,
  FakeTrafficHistory,
  FakeWorkloads,
  metrics,
  passingSmoke,
  steady,
  trafficDeployer,
} from "./support/fakes.ts";
import { REPO, tempProject } from "./support/project.ts";

const README = readFileSync(join(REPO, "README.md"), "utf8");

/** The first ```sh block after the heading that starts with `heading`. */
function shBlock(heading: string): string[] {
  const at = README.indexOf(`\n${heading}`);
  expect(at, heading).toBeGreaterThan(-1);
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(at))![1]!;
  return block.split("\n").filter((l) => l.trim() !== "");
}
const withoutComment = (line: string) => line.replace(/\s+#.*$/, "").trim();
/** A line of output as the README shows it: `[…] ` stands for the timestamp, `…` for text left out. */
function shownPattern(line: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const body = line.startsWith("[…] ") ? line.slice(4) : line;
  return new RegExp(`^${line.startsWith("[…] ") ? "\\[[^\\]]+\\] " : ""}${body.split("…").map(esc).join(".*?")}$`, "m");
}

describe("README: the newcomer's two commands", () => {
  it("are exactly what CI (.ci/run) runs, in order; npm test sets up the engine, Chromium and savvi first", () => {
    const commands = shBlock("## Newcomer: two commands").map(withoutComment);
    expect(commands).toEqual(["npm ci && npm run synth", "npm test"]);
    const ci = readFileSync(join(REPO, ".ci/run"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter(
        (l) => l && !l.startsWith("#") && !l.startsWith("echo ") && !l.startsWith("set ") && !l.startsWith("cd "),
      );
    // first Node 24 (installed from the npm registry when the machine's is older), then the two commands
    expect(ci).toEqual(["source .ci/node.sh", ...commands]);
    const scripts = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).scripts;
    expect(scripts.pretest).toBe("npm run --silent setup");
    expect(scripts.setup).toBe(
      "bash lib/engine/setup-engine.sh && bash lib/engine/setup-migrate.sh && bash lib/report/setup-chromium.sh && bash test/support/setup-savvi.sh",
    );
    expect(scripts.synth).toBe("tsx main.ts");
  });
});

/** Everything envctl talks to, faked; `failCanary` makes the canary of `env` fail its analysis. */
function session() {
  const dir = tempProject();
  const alb = albPerEnvironment();
  const cw = new FakeMetrics();
  const alarms = new FakeAlarms(
    Object.fromEntries(
      ["dev", "staging", "production"]
        .flatMap((e) => ["blue", "green"].flatMap((s) => slotAlarmNames(e, s as "blue")))
        .map((n) => [n, "OK"]),
    ),
  );
  const clock = new FakeClock();
  const out: string[] = [];
  const deps: Deps = {
    cwd: dir,
    // As the release workflow runs it: production's two approvals come from the platform (README: Accounts and approvals).
    env: {
      ...process.env,
      GITHUB_ACTOR: "",
      USER: "you",
      CI: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GITHUB_ACTIONS: "true",
      ENVSTACK_CHANGE_AUTHOR: "you",
      ENVSTACK_APPROVED_BY: "alice,bob",
    },
    deployer: trafficDeployer(dir, alb),
    traffic: (e) => alb(e.name),
    workloads: (e) => new FakeWorkloads(dir, e.name),
    metrics: () => cw,
    alarms: () => alarms,
    snapshots: () => ({ snapshot: async (_db, id) => id }),
    trafficHistory: () => new FakeTrafficHistory(),
    smoke: passingSmoke,
    progress: new PlainProgress((l) => out.push(l), clock.now),
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    write: (t) => out.push(t),
    tty: false,
    clock,
  };
  return { dir, out, cw, run: (args: string[]) => main(["node", "envctl", ...args], deps) };
}

describe("README: the example session runs as written", () => {
  it("every `$ npx envctl` line exits as shown, and the lines it shows are printed", async () => {
    const lines = shBlock("### Example session");
    const s = session();
    // healthy canaries, but production's (green) answers 10 % of its requests with a 5xx: what the session shows
    let currentEnv = "";
    s.cw.traffic = (q) => {
      if (currentEnv !== "production") return steady()(q);
      // production's canary (green, 10 %) answers 10 % of its requests with a 5xx; blue 0.1 %
      const seconds = (q.end.getTime() - q.start.getTime()) / 1000;
      return metrics(
        { requests: 180 * seconds, target5xx: Math.round(0.18 * seconds) },
        { requests: 20 * seconds, target5xx: 2 * seconds },
      );
    };
    let last = 0;
    let ran = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.startsWith("$ npx envctl ")) {
        const args = withoutComment(line.slice("$ npx envctl ".length)).split(/\s+/);
        currentEnv = args[1] ?? "";
        s.out.length = 0;
        last = await s.run(args);
        ran++;
        // the output lines the README shows under the command, until the next `$`
        const shown = [];
        for (let j = i + 1; j < lines.length && !lines[j]!.startsWith("$ "); j++) shown.push(lines[j]!);
        const printed = s.out.join("\n");
        if (process.env.SHOW) console.log(line, "\n", printed);
        for (const l of shown) expect(printed, `${line}\n${printed}`).toMatch(shownPattern(l));
        const next = lines.slice(i + 1).find((l) => l.startsWith("$ "));
        if (next !== "$ echo $?") expect(last, `${line}\n${printed}`).toBe(0);
      } else if (line === "$ echo $?") {
        expect(String(last)).toBe(lines[i + 1]);
        i++;
      }
    }
    expect(ran).toBeGreaterThanOrEqual(6);
  });
});
