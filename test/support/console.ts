/**
 * The console (lib/ui) over a temporary project with the release's fakes: the ALB, metrics,
 * alarms, maintenance rules and the deployer in memory, identity by a settable ARN. `request`
 * calls the application in memory as a browser on 127.0.0.1 would (session cookie, CSRF header,
 * same Origin); `app` serves it on a port for Chromium.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shellCore } from "../../lib/cli/commands/ui.ts";
import type { Deps } from "../../lib/cli/deps.ts";
import { main } from "../../lib/cli/envctl.ts";
import { PlainProgress } from "../../lib/cli/progress.ts";
import { createShell } from "../../lib/cli/shell.ts";
import { slotAlarmNames } from "../../lib/constructs/naming.ts";
import type { Clock } from "../../lib/release/ports/index.ts";
import { type ConsoleOptions, createConsole } from "../../lib/ui/server.ts";
import { commitProject, fakeLedgers } from "./approvals.ts";
import { FakeMaintenance } from "./fake-maintenance.ts";
import {
  albPerEnvironment,
  FakeAlarms,
  FakeClock,
  FakeMetrics,
  FakeTrafficHistory,
  FakeWorkloads,
  passingSmoke,
} from "./fakes.ts";
import { tempProject } from "./project.ts";

/** Virtual time that also passes in real time, `scale` times faster: a rollout a page can watch. */
export class ScaledClock implements Clock {
  constructor(
    public t = Date.parse("2026-11-22T10:00:00.000Z"),
    readonly scale = 200,
  ) {}
  now = () => new Date(this.t);
  sleep = async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw signal.reason;
    const step = Math.min(ms, 10_000);
    for (let left = ms; left > 0; left -= step) {
      await new Promise((r) => setTimeout(r, Math.min(step, left) / this.scale));
      this.t += Math.min(step, left);
      if (signal?.aborted) throw signal.reason;
    }
  };
}

export async function consoleHarness(o: Partial<ConsoleOptions> & { clock?: Clock } = {}) {
  const dir = tempProject();
  commitProject(dir); // approvals recompute a change in a committed checkout
  const ledgers = fakeLedgers();
  const alb = albPerEnvironment();
  const metrics = new FakeMetrics();
  const alarms = new FakeAlarms(
    Object.fromEntries(
      ["dev", "staging", "production"]
        .flatMap((e) => (["blue", "green"] as const).flatMap((s) => slotAlarmNames(e, s)))
        .map((n) => [n, "OK"]),
    ),
  );
  const maintenance = new FakeMaintenance();
  const deployed: string[] = [];
  const who = { arn: "arn:aws:iam::ACCOUNT:user/dana" };
  const deps: Deps = {
    cwd: dir,
    env: { ...process.env, GITHUB_ACTOR: "", GITHUB_ACTIONS: "", CI: "1", USER: "dana" },
    deployer: {
      deploy: async (stacks) => {
        deployed.push(...stacks);
        for (const s of stacks)
          if (s.endsWith("-traffic")) alb(s.replace(/-traffic$/, "")).deployFrom(dir, s.replace(/-traffic$/, ""));
      },
    },
    identity: async (opts) => ({ account: opts.account!.id, arn: who.arn.replace("ACCOUNT", opts.account!.id) }),
    approvalLedger: ledgers.of,
    traffic: (e) => alb(e.name),
    workloads: (e) => new FakeWorkloads(dir, e.name),
    metrics: () => metrics,
    alarms: () => alarms,
    snapshots: () => ({ snapshot: async (_db, id) => id }),
    trafficHistory: () => new FakeTrafficHistory(),
    maintenance: () => maintenance,
    smoke: passingSmoke,
    progress: new PlainProgress(() => undefined),
    stdout: () => undefined,
    stderr: () => undefined,
    clock: o.clock ?? new FakeClock(),
  };
  const core = shellCore(createShell(deps), (args, over) => main(["node", "envctl", ...args], { ...deps, ...over }));
  const ui = await createConsole(core, { readOnly: false, pollMs: 100, ...o });
  let cookie = "";
  let csrf = "";
  const request = async (path: string, init: RequestInit & { json?: unknown; raw?: boolean } = {}) => {
    const headers = new Headers(init.headers);
    if (!init.raw) {
      if (cookie) headers.set("cookie", cookie);
      if (init.method === "POST") {
        headers.set("origin", "http://127.0.0.1:7070");
        if (csrf) headers.set("x-csrf-token", csrf);
      }
    }
    if (init.json !== undefined) headers.set("content-type", "application/json");
    const res = await ui.app.request(`http://127.0.0.1:7070${path}`, {
      ...init,
      headers,
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    });
    const set = res.headers.get("set-cookie");
    if (set && !init.raw) cookie = set.split(";")[0]!;
    return res;
  };
  const signIn = async () => {
    const s = await request("/api/session", o.token ? { headers: { authorization: `Bearer ${o.token}` } } : {});
    csrf = ((await s.json()) as { csrf: string }).csrf;
  };
  const releaseText = (env: string) => readFileSync(join(dir, "environments/releases", `${env}.json`), "utf8");
  const audit = (env: string) => {
    try {
      return readFileSync(join(dir, "environments/releases", `${env}.audit.jsonl`), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
    } catch {
      return [];
    }
  };
  const envctl = (...args: string[]) => main(["node", "envctl", ...args], deps);
  return { dir, deps, ui, alb, metrics, maintenance, deployed, who, request, signIn, releaseText, audit, envctl };
}
