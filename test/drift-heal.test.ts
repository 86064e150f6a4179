/**
 * `envctl drift --heal` in process: a stand-in engine answers each stack's refresh-only
 * plan from a file (the drift), a fake deployer "heals" a stack by removing its drift. What is
 * healed (only the stacks whose drift is all at or below the class given), what is recorded and
 * notified, production's confirmation, and the refusals.
 */

import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { tempProject } from "./support/project.ts";

const SG = "aws_security_group.database_sg_1A2B3C4D";
const RULE = "aws_lb_listener_rule.weighted_rule_5E6F7A8B";
const drift = (address: string, before: object, after: object) => ({
  resource_drift: [{ address, mode: "managed", change: { actions: ["update"], before, after } }],
});

function harness() {
  const dir = tempProject((d) => {
    const f = join(d, "environments/dev.ts");
    writeFileSync(
      f,
      readFileSync(f, "utf8").replace(
        'name: "dev",',
        'name: "dev",\n  notify: { targets: [{ kind: "slack", name: "chat", url: { env: "CHAT_URL" } }] },',
      ),
    );
  });
  // The stand-in engine: `show -json` prints <drifts>/<stack>.json (no file: in sync).
  const drifts = join(dir, ".drifts");
  mkdirSync(drifts);
  const engine = join(dir, "fake-tofu");
  writeFileSync(
    engine,
    `#!/usr/bin/env bash\ncase "$1" in\n  plan) exit 2 ;;\n  show) f="${drifts}/$(basename "$PWD").json"; if [ -f "$f" ]; then cat "$f"; else echo '{}'; fi ;;\nesac\nexit 0\n`,
  );
  chmodSync(engine, 0o755);
  const setDrift = (stack: string, plan: object | null) => {
    const f = join(drifts, `${stack}.json`);
    if (plan) writeFileSync(f, JSON.stringify(plan));
    else rmSync(f, { force: true });
  };
  const deployed: string[][] = [];
  const sent: { text: string }[] = [];
  const lines: string[] = [];
  let answer = true;
  const deps: Deps = {
    cwd: dir,
    env: {
      ...process.env,
      CI: "1",
      GITHUB_ACTOR: "alice",
      TERRAFORM_BINARY_NAME: engine,
      CHAT_URL: "https://hooks.example/T0",
    },
    deployer: {
      deploy: async (stacks) => {
        deployed.push([...stacks]);
        for (const s of stacks) setDrift(s, null);
      },
    },
    notifyFetch: async (_url, init) => {
      sent.push(JSON.parse(init.body));
      return { status: 200 };
    },
    progress: new PlainProgress((l) => lines.push(l)),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    confirm: async () => answer,
  };
  const notes = (env: string) => {
    const f = join(dir, "environments/releases", `${env}.audit.jsonl`);
    return existsSync(f)
      ? readFileSync(f, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))
          .filter((x) => x.kind)
      : [];
  };
  return {
    dir,
    deployed,
    sent,
    lines,
    notes,
    setDrift,
    answer: (a: boolean) => {
      answer = a;
    },
    text: () => lines.join("\n"),
    run: (...a: string[]) => main(["node", "envctl", ...a], deps),
  };
}

describe("envctl drift --heal", () => {
  it("prints each drifted attribute with its class, heals only the stack whose drift is all low, records and notifies it", async () => {
    const h = harness();
    h.setDrift(
      "dev",
      drift(SG, { ingress: [{ from_port: 5432 }] }, { ingress: [{ from_port: 5432 }, { from_port: 22 }] }),
    );
    h.setDrift(
      "dev-traffic",
      drift(RULE, { tags: { Name: "dev-weighted" } }, { tags: { Name: "dev-weighted", ChangedBy: "hand" } }),
    );
    expect(await h.run("drift", "dev")).toBe(2);
    expect(h.text()).toContain(
      `dev: drifted (worst: critical)\n  ~ ${SG}.ingress: critical\ndev-traffic: drifted (worst: low)\n  ~ ${RULE}.tags: low`,
    );
    expect(h.deployed).toEqual([]);
    expect(h.sent.map((s) => s.text.split("\n")[0])).toEqual([":rotating_light: *drift-found* in *dev* (critical)"]);

    h.lines.length = 0;
    expect(await h.run("drift", "dev", "--heal", "low")).toBe(2);
    expect(h.deployed).toEqual([["dev-traffic"]]);
    expect(h.text()).toContain(
      `dev: not healed: drift above low (${SG}.ingress (critical)) needs the usual approved deploy`,
    );
    expect(h.text()).toContain("dev: heal of dev-traffic: healed");
    expect(h.text()).toMatch(/dev: drifted \(worst: critical\)\n {2}~ \S+\.ingress: critical\ndev-traffic: in sync$/m);
    const heal = h.notes("dev").filter((n) => n.kind === "heal");
    expect(heal).toEqual([
      expect.objectContaining({
        by: "alice (ci)",
        command: "envctl drift dev --heal low",
        maxSeverity: "low",
        stacks: ["dev-traffic"],
        attributes: [`${RULE}.tags (low)`],
        outcome: "healed",
      }),
    ]);
    expect(
      h
        .notes("dev")
        .filter((n) => n.kind === "drift")
        .map((n) => n.severity),
    ).toEqual(["critical", "critical"]);
    expect(
      h
        .notes("dev")
        .filter((n) => n.kind === "notification")
        .map((n) => [n.event, n.outcome]),
    ).toEqual([
      ["drift-found", "delivered"],
      ["drift-found", "delivered"],
      ["drift-cleared", "delivered"],
    ]);

    // The security group, healed with the approved deploy behind the engine's back here: the next check finds nothing and says so.
    h.setDrift("dev", null);
    h.sent.length = 0;
    expect(await h.run("drift", "dev")).toBe(0);
    expect(h.sent.map((s) => s.text.split("\n")[0])).toEqual([":information_source: *drift-cleared* in *dev* (info)"]);
  }, 120_000);

  it("--heal critical re-applies every drifted stack; a stack in sync is never deployed", async () => {
    const h = harness();
    h.setDrift("dev", drift(SG, { ingress: [] }, { ingress: [{ from_port: 22 }] }));
    expect(await h.run("drift", "dev", "--heal", "critical")).toBe(0);
    expect(h.deployed).toEqual([["dev"]]);
  }, 120_000);

  it("production asks first (no: nothing deployed), --yes does not; the heal refuses while a deploy is pending", async () => {
    const h = harness();
    h.setDrift("production-traffic", drift("aws_lb_listener_rule.weighted_rule_1", { tags: {} }, { tags: { x: "y" } }));
    h.answer(false);
    expect(await h.run("drift", "production", "--heal", "low")).toBe(1);
    expect(h.text()).toContain("cancelled, nothing changed");
    expect(h.deployed).toEqual([]);
    expect(await h.run("drift", "production", "--heal", "low", "--yes")).toBe(0);
    expect(h.deployed).toEqual([["production-traffic"]]);

    h.setDrift("staging-traffic", drift("aws_lb_listener_rule.weighted_rule_1", { tags: {} }, { tags: { x: "y" } }));
    const f = join(h.dir, "environments/releases/staging.json");
    const r = JSON.parse(readFileSync(f, "utf8"));
    writeFileSync(
      f,
      `${JSON.stringify({ ...r, pending: { stacks: ["staging-traffic"], command: "envctl shift staging", since: "2026-11-22T10:00:00.000Z", previous: { ...r, pending: null } } }, null, 2)}\n`,
    );
    h.lines.length = 0;
    expect(await h.run("drift", "staging", "--heal", "low")).toBe(1);
    expect(h.text()).toContain(
      "error: drift: staging: the deploy of staging-traffic by 'envctl shift staging' did not finish; run 'envctl reconcile staging' first",
    );
    expect(h.deployed).toEqual([["production-traffic"]]);
  }, 180_000);

  it("refuses --heal without an environment, and an unknown class, before any work", async () => {
    const h = harness();
    expect(await h.run("drift", "--heal", "low")).toBe(1);
    expect(h.text()).toContain("error: drift: --heal needs <env>: a heal re-applies one environment's stacks");
    expect(await h.run("drift", "dev", "--heal", "minor")).toBe(1);
    expect(h.text()).toMatch(/drift: --heal must be one of critical, high, medium, low/);
    expect(h.text()).not.toContain("synthesize");
  });
});
