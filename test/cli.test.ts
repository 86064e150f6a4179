/** envctl's contract with its users: --version, help with examples everywhere, --json, did-you-mean. */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { unitMoney } from "../lib/cli/review-commands.ts";
import { estimateMonthlyCost } from "../lib/config/cost-estimate.ts";
import { loadProject } from "../lib/config/load.ts";
import { didYouMean } from "../lib/config/suggest.ts";
import { FakeAlb, FakeTrafficHistory } from "./support/fakes.ts";
import { REPO, tempProject } from "./support/project.ts";
import { runAsync } from "./support/run.ts";

function cli(dir = tempProject()) {
  const out: string[] = [];
  const err: string[] = [];
  const deployed: string[] = [];
  const deps: Deps = {
    cwd: dir,
    env: { ...process.env, CI: "1", USER: "tester", GITHUB_ACTOR: "" },
    deployer: {
      deploy: async (s) => {
        deployed.push(s.join(" "));
      },
    },
    // the traffic plan of a rollout's dry run reads the ALB and CloudWatch's history: fakes, never AWS
    traffic: () => new FakeAlb(),
    trafficHistory: () => new FakeTrafficHistory(),
    progress: new PlainProgress(() => undefined),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    now: () => new Date("2026-11-22T10:00:00Z"),
  };
  return {
    dir,
    out,
    err,
    deployed,
    run: async (...args: string[]) => {
      out.length = 0;
      err.length = 0;
      return main(["node", "envctl", ...args], deps);
    },
  };
}

/** Command paths listed in a help page's "Commands:" section (without `help`). */
function commandsIn(help: string): string[] {
  const section = help.split(/\nCommands:\n/)[1]?.split(/\n\n/)[0] ?? "";
  return section
    .split("\n")
    .map((l) => /^ {2}(\S+)/.exec(l)?.[1])
    .filter((c): c is string => !!c && c !== "help");
}

describe("envctl's contract", () => {
  it("--version prints the package's version", async () => {
    const c = cli();
    expect(await c.run("--version")).toBe(0);
    expect(c.out).toEqual([JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version]);
  });

  it("every command and subcommand has a description and help with examples", async () => {
    const c = cli();
    expect(await c.run("--help")).toBe(0);
    const root = c.out.join("\n");
    expect(root).toContain("Examples:\n  $ envctl status");
    const top = commandsIn(root);
    expect(top).toEqual(
      expect.arrayContaining([
        "status",
        "promote",
        "stage",
        "shift",
        "rollout",
        "analysis",
        "rollback",
        "abort",
        "reconcile",
        "diff",
        "plan-summary",
        "cost",
        "changed-stacks",
        "drift",
        "preview",
        "report",
      ]),
    );
    const pages: string[][] = [];
    for (const name of top) {
      expect(await c.run(name, "--help"), name).toBe(0);
      const help = c.out.join("\n");
      pages.push([name]);
      for (const sub of commandsIn(help)) pages.push([name, sub]);
    }
    expect(pages).toEqual(
      expect.arrayContaining([
        ["preview", "create"],
        ["preview", "destroy"],
        ["preview", "list"],
        ["preview", "gc"],
        ["analysis", "plan"],
        ["analysis", "replay"],
      ]),
    );
    for (const page of pages) {
      expect(await c.run(...page, "--help"), page.join(" ")).toBe(0);
      const help = c.out.join("\n");
      // Usage line, then a description paragraph, then options; examples at the end
      const description = help.split("\n\n")[1] ?? "";
      expect(description.trim().length, `${page.join(" ")}: description`).toBeGreaterThan(10);
      expect(description, page.join(" ")).not.toMatch(/^Options:/);
      expect(help, page.join(" ")).toMatch(new RegExp(`Examples:\\n  \\$ envctl ${page.join(" ")}`));
      // no option without a description
      const options = help.split(/\nOptions:\n/)[1]?.split(/\n\n/)[0] ?? "";
      for (const line of options.split("\n").filter((l) => /^ {2}-/.test(l)))
        expect(line.trim(), page.join(" ")).toMatch(/\S\s{2,}\S/);
    }
  });

  it("--json is honoured by every command that prints, including --dry-run", async () => {
    const c = cli();
    const json = async (...args: string[]) => {
      const code = await c.run(...args, "--json");
      expect(code, args.join(" ")).toBe(0);
      try {
        return JSON.parse(c.out.join("\n"));
      } catch {
        throw new Error(`${args.join(" ")}: ${c.out.join("\n")}`);
      }
    };
    expect((await json("status")).map((v: any) => v.environment)).toEqual(["dev", "production", "staging"]);
    expect((await json("diff", "dev", "staging")).environments).toEqual(["dev", "staging"]);
    expect((await json("cost", "dev"))[0]).toMatchObject({ environment: "dev", total: 98.18 });
    const dry = await json("stage", "dev", "--version", "1.6.0", "--dry-run");
    expect(dry).toMatchObject({
      dryRun: true,
      environment: "dev",
      deploy: ["dev"],
      proposed: { slots: { green: { version: "1.6.0", weight: 0 } } },
    });
    expect(dry.diff).toContain('+      "version": "1.6.0"');
    expect(c.deployed).toEqual([]);
    expect(
      JSON.parse(readFileSync(join(c.dir, "environments/releases/dev.json"), "utf8")).slots.green.version,
    ).toBeNull();
    // a rollout's dry run: the steps it would take
    expect(await c.run("stage", "dev", "--version", "1.6.0")).toBe(0);
    const steps = await json("rollout", "dev", "--dry-run");
    expect(steps).toMatchObject({
      dryRun: true,
      environment: "dev",
      deploy: ["dev-traffic"],
      proposed: { rollout: { target: "green", nextStep: 0 } },
    });
    expect(steps.summary).toMatch(/^would roll out green \(1\.6\.0\) in dev: /);
    expect(steps.trafficPlan).toMatchObject({
      environment: "dev",
      steps: [{ canaryStep: 0, percent: 100, reachable: true }],
    });
    expect((await json("analysis", "plan", "dev", "--rps", "20", "--error-rate", "1")).steps).toHaveLength(1);
    expect((await json("shift", "dev", "--to", "green", "--percent", "10", "--no-deploy")).slots).toMatchObject({
      blue: { version: "1.5.0", weight: 90 },
      green: { version: "1.6.0", weight: 10, settings: { values: { SMTP_PORT: 1025 } } },
    });
    expect(await json("preview", "list")).toEqual([]);
    expect(await json("preview", "create", "pr-1-x", "--no-deploy")).toMatchObject({ name: "pr-1-x", created: true });
    expect(await json("preview", "gc", "--no-deploy")).toEqual({ destroyed: [], stacksDestroyed: false });
    expect(await json("preview", "destroy", "pr-1-x", "--no-deploy")).toEqual({
      destroyed: ["pr-1-x"],
      stacksDestroyed: false,
    });
  });

  it("suggests the environment meant; a typo in plan-summary --only cannot switch the stateful guard off", async () => {
    expect(didYouMean("prod", ["dev", "staging", "production"])).toBe("production");
    expect(didYouMean("stagign", ["dev", "staging", "production"])).toBe("staging");
    expect(didYouMean("qa", ["dev", "staging", "production"])).toBeUndefined();
    const c = cli();
    for (const args of [
      ["status", "prod"],
      ["shift", "prod", "--to", "green", "--percent", "10"],
      ["diff", "dev", "prod"],
      ["cost", "prod"],
      ["drift", "prod"],
    ]) {
      expect(await c.run(...args), args.join(" ")).toBe(1);
      expect(c.err.join("\n"), args.join(" ")).toContain(
        "unknown environment prod: did you mean production? (known: dev, production, staging)",
      );
    }
    const plan = join(c.dir, "production.json");
    writeFileSync(
      plan,
      JSON.stringify({
        resource_changes: [
          { address: "aws_db_instance.db", type: "aws_db_instance", change: { actions: ["delete", "create"] } },
        ],
      }),
    );
    expect(await c.run("plan-summary", plan, "--fail-on", "stateful", "--only", "prod")).toBe(1);
    expect(c.err.join("\n")).toBe(
      "error: plan-summary: --only: unknown environment prod: did you mean production? (known: dev, production, staging)",
    );
    expect(c.out).toEqual([]);
    expect(await c.run("plan-summary", plan, "--fail-on", "stateful", "--only", "production")).toBe(6);
  });

  it("diff says '1 day'; cost prints unit prices that multiply to the line totals", async () => {
    const c = cli();
    expect(await c.run("diff", "dev", "staging")).toBe(0);
    expect(c.out.join("\n")).toMatch(/≠ backups\s+1 day\s+14 days, deletion protection/);
    expect(await c.run("cost")).toBe(0);
    const text = c.out.join("\n");
    expect(text).toContain("20 ×     $0.088 =      $1.76");
    // every printed line: quantity × unit price = monthly, to the cent; the total is their sum
    const project = await loadProject(c.dir);
    for (const e of project.environments) {
      const est = estimateMonthlyCost(e.config);
      for (const l of est.lines) {
        const printed = new RegExp(
          `${l.item.replace(/[()$.*+?[\]\\|^{}]/g, "\\$&")}\\s+${l.quantity} ×\\s+\\$([\\d.]+) =\\s+\\$([\\d.]+)`,
        ).exec(text);
        expect(printed, l.item).not.toBeNull();
        expect(Math.round(l.quantity * Number(printed![1]) * 100) / 100, l.item).toBe(Number(printed![2]));
      }
      const sum = est.lines.reduce((a, l) => a + l.monthly, 0);
      expect(text).toContain(`${e.config.name}: $${sum.toFixed(2)} / month`);
    }
    expect([0.088, 8.322, 27.3385, 73].map(unitMoney)).toEqual(["$0.088", "$8.322", "$27.3385", "$73.00"]);
  });

  it("npm run synth, piped: no telemetry, no spinner or escape codes, one summary line, an error printed once", async () => {
    const run = async (dir: string) => {
      const r = await runAsync("npm", ["run", "--silent", "synth"], {
        cwd: dir,
        env: { ...process.env, ENVSTACK_BACKEND: "local", CHECKPOINT_DISABLE: "" },
      });
      // this machine's npm warns about its own configuration: not the project's output
      const text = `${r.stdout}${r.stderr}`
        .split("\n")
        .filter((l) => !/^npm warn /.test(l))
        .join("\n");
      return { status: r.status, text };
    };
    const ok = await run(tempProject());
    expect(ok.status).toBe(0);
    expect(ok.text).toMatch(
      /^synthesized 12 stacks \(3 environment, 3 traffic, 2 workloads, 3 bootstrap, 1 global\) into cdktf\.out\/ in \d+\.\d s, 12 built, 0 reused; changed 12: bootstrap-123456789012, bootstrap-333333333333, bootstrap-222222222222, dev, dev-traffic, production, production-traffic, production-workloads, staging, staging-traffic, staging-workloads, global\n$/,
    );
    const bad = await run(
      tempProject((d) => {
        const f = join(d, "environments/staging.ts");
        writeFileSync(f, readFileSync(f, "utf8").replace("10.1.0.0/16", "10.0.0.0/16"));
      }),
    );
    expect(bad.status).toBe(1);
    expect(bad.text).toBe(
      "error: invalid configuration:\n  - staging: network.cidr 10.0.0.0/16 overlaps dev (10.0.0.0/16)\n  - dev: network.cidr 10.0.0.0/16 overlaps staging (10.0.0.0/16)\n",
    );
    for (const t of [ok.text, bad.text]) {
      expect(t).not.toContain("\x1b[");
      expect(t).not.toMatch(/checkpoint|telemetry/i);
    }
  });
});
