/** `envctl status --live` / `--watch`: the pure view, the watch loop, and the command with fake AWS readers. */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { formatLiveStatus, liveStatusOf } from "../lib/cli/views/live-status.ts";
import type { StatusView } from "../lib/cli/views/status.ts";
import { REDRAW, watch } from "../lib/cli/watch.ts";
import { slotAlarmNames } from "../lib/constructs/naming.ts";
import type { LiveObservation } from "../lib/review/live.ts";
import { FakeAlarms, FakeAlb, FakeClock } from "./support/fakes.ts";
import { tempProject } from "./support/project.ts";

const view: StatusView = {
  environment: "dev",
  tier: "development",
  live: "blue",
  slots: { blue: { version: "1.5.0", weight: 90 }, green: { version: "1.6.0", weight: 10 } },
  rollout: null,
  pending: null,
  lastChange: null,
  lastAnalysis: null,
};
const ok = (slot: "blue" | "green") =>
  slotAlarmNames("dev", slot).map((name) => ({ name, slot, state: "OK" as const }));
const obs = (over: Partial<LiveObservation> = {}): LiveObservation => ({
  observedAt: "2026-11-22T10:00:00.000Z",
  weights: { blue: 90, green: 10 },
  health: { blue: { healthy: 2, unhealthy: 0, other: 0 }, green: { healthy: 1, unhealthy: 0, other: 0 } },
  alarms: [...ok("blue"), ...ok("green")],
  ...over,
});

describe("the live view (pure)", () => {
  it("agrees when the ALB serves the file's weights to healthy targets without alarms", () => {
    const v = liveStatusOf(view, obs());
    expect(v.differences).toEqual([]);
    expect(v.warnings).toEqual([]);
    expect(v.slotsLive.map((r) => [r.slot, r.weight, r.marks])).toEqual([
      ["blue", { file: 90, alb: 90 }, []],
      ["green", { file: 10, alb: 10 }, []],
    ]);
    expect(formatLiveStatus([v])).toBe(
      [
        "dev (development)  live: blue  observed 2026-11-22T10:00:00Z",
        "     slot    version     file    ALB  targets                alarms",
        "     blue*   1.5.0       90 %   90 %  2 healthy              5xx-rate OK, p99-latency OK, unhealthy-hosts OK",
        "     green   1.6.0       10 %   10 %  1 healthy              5xx-rate OK, p99-latency OK, unhealthy-hosts OK",
        "  last analysis: none recorded",
        "  the ALB serves what the release file says",
      ].join("\n"),
    );
  });

  it("EKS: shows each slot's Deployment; marks one running another version, traffic on pods not Ready, and an unreadable cluster", () => {
    const ready = (version: string) => ({ desired: 2, ready: 2, updated: 2, version, observed: true });
    const agrees = liveStatusOf(view, obs({ workloads: { blue: ready("1.5.0"), green: ready("1.6.0") } }));
    expect(agrees.differences).toEqual([]);
    expect(formatLiveStatus([agrees]).split("\n").slice(1, 4)).toEqual([
      "     slot    version     file    ALB  targets                deployment       alarms",
      "     blue*   1.5.0       90 %   90 %  2 healthy              2/2 Ready 1.5.0  5xx-rate OK, p99-latency OK, unhealthy-hosts OK",
      "     green   1.6.0       10 %   10 %  1 healthy              2/2 Ready 1.6.0  5xx-rate OK, p99-latency OK, unhealthy-hosts OK",
    ]);
    const off = liveStatusOf(
      view,
      obs({ workloads: { blue: ready("1.4.0"), green: { ...ready("1.6.0"), ready: 1 } } }),
    );
    expect(off.slotsLive.map((r) => r.marks)).toEqual([["≠"], ["!"]]);
    expect(off.differences).toEqual(["blue: the cluster runs 1.4.0, the release file says 1.5.0"]);
    expect(off.warnings).toEqual(["green receives traffic with 1/2 pods Ready"]);
    const none = liveStatusOf(view, obs({ workloads: { blue: ready("1.5.0"), green: null } }));
    expect(none.differences).toEqual(["green: the cluster runs no Deployment, the release file says 1.6.0"]);
    const unknown = liveStatusOf(view, obs({ workloads: { error: "no kubeconfig at /nowhere" } }));
    expect(unknown.differences).toEqual(["Deployments unknown: no kubeconfig at /nowhere"]);
    expect(unknown.slotsLive.map((r) => [r.marks, r.deployment])).toEqual([
      [["?"], "unknown"],
      [["?"], "unknown"],
    ]);
  });

  it("marks weights the ALB serves differently, traffic on unhealthy or alarming slots, and unreadable parts", () => {
    const differs = liveStatusOf(
      view,
      obs({
        weights: { blue: 50, green: 50 },
        health: { blue: { healthy: 2, unhealthy: 0, other: 0 }, green: { healthy: 0, unhealthy: 1, other: 1 } },
        alarms: [
          ...ok("blue"),
          { name: "dev-app-green-5xx-rate", slot: "green", state: "ALARM" },
          { name: "dev-app-green-p99-latency", slot: "green", state: "missing" },
        ],
      }),
    );
    expect(differs.slotsLive.map((r) => r.marks)).toEqual([["≠"], ["≠", "!"]]);
    expect(differs.differences).toEqual([
      "blue: the ALB serves 50 %, the release file says 90 %",
      "green: the ALB serves 50 %, the release file says 10 %",
    ]);
    expect(differs.warnings).toEqual([
      "green receives traffic but has no healthy target (1 unhealthy, 1 other)",
      "green receives traffic with dev-app-green-5xx-rate in ALARM, dev-app-green-p99-latency missing",
    ]);
    const text = formatLiveStatus([differs]);
    expect(text).toContain(
      "  ≠! green   1.6.0       10 %   50 %  0 healthy, 1 unhealthy, 1 other  5xx-rate ALARM, p99-latency MISSING",
    );
    expect(text).toContain("  ≠ green: the ALB serves 50 %, the release file says 10 %");
    // an idle slot (0 % in the file and on the ALB) may be unhealthy or alarming without a warning
    const idle = liveStatusOf(
      { ...view, slots: { blue: { version: "1.5.0", weight: 100 }, green: { version: null, weight: 0 } } },
      obs({
        weights: { blue: 100, green: 0 },
        health: { blue: { healthy: 1, unhealthy: 0, other: 0 }, green: { healthy: 0, unhealthy: 0, other: 0 } },
        alarms: [...ok("blue"), { name: "dev-app-green-5xx-rate", slot: "green", state: "ALARM" }],
      }),
    );
    expect(idle.warnings).toEqual([]);
    expect(idle.differences).toEqual([]);
    // unreadable: unknown, and a difference (never a silent agreement)
    const blind = liveStatusOf(
      view,
      obs({
        weights: { error: "AccessDenied: not authorized (HTTP 403)" },
        health: { error: "AccessDenied: not authorized (HTTP 403)" },
      }),
    );
    expect(blind.slotsLive.map((r) => [r.weight.alb, r.targets, r.marks])).toEqual([
      [null, null, ["?"]],
      [null, null, ["?"]],
    ]);
    expect(blind.differences).toEqual([
      "ALB weights unknown: AccessDenied: not authorized (HTTP 403)",
      "target health unknown: AccessDenied: not authorized (HTTP 403)",
    ]);
  });
});

describe("watch", () => {
  const rounds = <T>(values: T[]) => {
    const c = new AbortController();
    let i = 0;
    return {
      signal: c.signal,
      read: async () => {
        if (i >= values.length) {
          c.abort();
          throw new Error("stopped");
        }
        const v = values[i++];
        if (v instanceof Error) throw v;
        return v as T;
      },
    };
  };

  it("off a terminal: the first view, then only what changed; read errors once each", async () => {
    const r = rounds<Record<string, string> | Error>([
      { a: "1", b: "x" },
      { a: "1", b: "x" },
      new Error("timeout"),
      new Error("timeout"),
      { a: "2", b: "x" },
    ]);
    const out: string[] = [];
    const clock = new FakeClock();
    await watch<Record<string, string>>({
      read: r.read as () => Promise<Record<string, string>>,
      render: (v) => `a=${v.a} b=${v.b}`,
      changes: (prev, cur, at) =>
        prev
          ? Object.keys(cur)
              .filter((k) => prev[k] !== cur[k])
              .map((k) => `${at.toISOString()} ${k}: ${prev[k]} → ${cur[k]}`)
          : [`a=${cur.a} b=${cur.b}`],
      write: (t) => out.push(t),
      tty: false,
      intervalSeconds: 5,
      now: clock.now,
      sleep: clock.sleep,
      signal: r.signal,
    });
    expect(out).toEqual([
      "a=1 b=x\n",
      "[2026-11-22T10:00:10Z] could not read: timeout\n",
      "2026-11-22T10:00:20.000Z a: 1 → 2\n",
    ]);
  });

  it("on a terminal: redraws the whole view in place every round", async () => {
    const r = rounds([1, 2]);
    const out: string[] = [];
    const clock = new FakeClock();
    await watch<number>({
      read: r.read,
      render: (v) => `view ${v}`,
      changes: () => [],
      write: (t) => out.push(t),
      tty: true,
      intervalSeconds: 2,
      now: clock.now,
      sleep: clock.sleep,
      signal: r.signal,
    });
    expect(out).toEqual([
      `${REDRAW}view 1\n\n[2026-11-22T10:00:00Z] every 2 s; Ctrl-C to stop\n`,
      `${REDRAW}view 2\n\n[2026-11-22T10:00:02Z] every 2 s; Ctrl-C to stop\n`,
    ]);
  });
});

describe("envctl status --live / --watch (fake ALB and alarms)", () => {
  function setup() {
    const dir = tempProject((d) => {
      const f = join(d, "environments/releases/dev.json");
      const r = JSON.parse(readFileSync(f, "utf8"));
      r.slots = { blue: { version: "1.5.0", weight: 90 }, green: { version: "1.6.0", weight: 10 } };
      writeFileSync(f, JSON.stringify(r));
    });
    const alb = new FakeAlb();
    alb.weights = { blue: 90, green: 10 };
    const alarms = new FakeAlarms(
      Object.fromEntries([...slotAlarmNames("dev", "blue"), ...slotAlarmNames("dev", "green")].map((n) => [n, "OK"])),
    );
    const out: string[] = [];
    const raw: string[] = [];
    const clock = new FakeClock();
    const controller = new AbortController();
    const deps: Deps = {
      cwd: dir,
      env: { ...process.env, CI: "1" },
      traffic: () => alb,
      alarms: () => alarms,
      clock,
      signal: controller.signal,
      progress: new PlainProgress(() => undefined),
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(t),
      write: (t) => raw.push(t),
      tty: false,
    };
    return {
      dir,
      alb,
      alarms,
      out,
      raw,
      clock,
      controller,
      run: (...a: string[]) => main(["node", "envctl", ...a], deps),
    };
  }

  it("--live: exit 0 when the ALB agrees; exit 2 with the difference marked when it does not; --json for machines", async () => {
    const s = setup();
    expect(await s.run("status", "dev", "--live")).toBe(0);
    expect(s.out.join("\n")).toContain("the ALB serves what the release file says");
    s.alb.weights = { blue: 100, green: 0 };
    s.out.length = 0;
    expect(await s.run("status", "dev", "--live")).toBe(2);
    expect(s.out.join("\n")).toContain("  ≠ green: the ALB serves 0 %, the release file says 10 %");
    s.out.length = 0;
    expect(await s.run("status", "dev", "--live", "--json")).toBe(2);
    const json = JSON.parse(s.out.join("\n"));
    expect(json).toMatchObject({
      environment: "dev",
      slotsLive: [
        { slot: "blue", weight: { file: 90, alb: 100 } },
        { slot: "green", weight: { file: 10, alb: 0 }, targets: { healthy: 2, unhealthy: 0, other: 0 } },
      ],
    });
    s.alb.failReads = true;
    s.out.length = 0;
    expect(await s.run("status", "dev", "--live")).toBe(2);
    expect(s.out.join("\n")).toContain("  ≠ ALB weights unknown: connect ECONNREFUSED 127.0.0.1:1");
  });

  it("--watch off a terminal prints the view, then a line per change (here: a shift CI made)", async () => {
    const s = setup();
    let reads = 0;
    s.alarms.beforeRead = () => {
      reads++;
      if (reads === 2) s.alb.weights = { blue: 50, green: 50 }; // read after this round's weights: seen next round
      if (reads === 4) s.controller.abort();
    };
    expect(await s.run("status", "dev", "--watch", "3")).toBe(0);
    expect(s.raw[0]).toContain("dev (development)  live: blue  observed 2026-11-22T10:00:00Z");
    expect(s.raw.slice(1)).toEqual([
      "[2026-11-22T10:00:06Z] dev blue weight (ALB): 90 % → 50 %\n",
      "[2026-11-22T10:00:06Z] dev green weight (ALB): 10 % → 50 %\n",
    ]);
    expect(await s.run("status", "prod", "--watch")).toBe(1);
    expect(s.out.at(-1)).toContain("did you mean production?");
  });

  it("--watch --json prints one JSON line per round in which something changed", async () => {
    const s = setup();
    let reads = 0;
    s.alarms.beforeRead = () => {
      reads++;
      if (reads === 2) s.alb.weights = { blue: 0, green: 100 };
      if (reads === 5) s.controller.abort();
    };
    expect(await s.run("status", "dev", "--watch", "1", "--json")).toBe(0);
    const rounds = s.raw.map((l) => JSON.parse(l));
    expect(rounds.map((views) => views[0].slotsLive.map((r: any) => r.weight.alb))).toEqual([
      [90, 10],
      [0, 100],
    ]);
    expect(s.raw.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
  });
});
