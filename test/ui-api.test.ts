/**
 * The console's HTTP API (lib/ui) against a temporary project with the release's fakes: every
 * route, bad input (4xx, nothing written), the token off loopback, CSRF and Origin, approvals,
 * production's typed confirmation, concurrent actions meeting the lock, and the OpenAPI document
 * validated by an OpenAPI validator.
 */

import { Validator } from "@seriousme/openapi-schema-validator";
import { afterEach, describe, expect, it } from "vitest";
import { currentActor } from "../lib/cli/actor.ts";
import { formatEvidence } from "../lib/release/judge/sequential.ts";
import { pollsOf } from "../lib/ui/live-step.ts";
import { consoleHarness, ScaledClock } from "./support/console.ts";

type H = Awaited<ReturnType<typeof consoleHarness>>;
const open: H[] = [];
async function harness(o: Parameters<typeof consoleHarness>[0] = {}): Promise<H> {
  const h = await consoleHarness(o);
  open.push(h);
  return h;
}
afterEach(async () => {
  for (const h of open.splice(0)) await h.ui.close();
});

describe("reads", () => {
  it("lists, gets and reads every environment: overview, detail, config names, status, history, one change, rollout", async () => {
    const h = await harness();
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const list = (await (await h.request("/api/environments")).json()) as any;
    expect(list.environments.map((e: any) => e.name)).toEqual(["dev", "staging", "production"]);
    expect(list.environments[0].slots.find((s: any) => s.slot === "green").version).toBe("1.6.0");
    expect(list.activity[0]).toMatchObject({ environment: "dev", command: "envctl stage dev --version 1.6.0" });

    const env = (await (await h.request("/api/environments/dev")).json()) as any;
    expect(env).toMatchObject({ name: "dev", tier: "development", live: "blue" });
    const config = (await (await h.request("/api/environments/production/config")).json()) as any;
    expect(config.counts).toEqual({ public: config.settings.length, sensitive: config.secrets.length });
    expect(JSON.stringify(config)).not.toMatch(/value/i);
    const status = (await (await h.request("/api/environments/dev/status")).json()) as any;
    expect(status.name).toBe("dev");
    const history = (await (await h.request("/api/environments/dev/history")).json()) as any[];
    expect(history.length).toBeGreaterThan(0);
    const seq = history[0].seq;
    const change = (await (await h.request(`/api/environments/dev/history/${seq}`)).json()) as any;
    expect(change).toMatchObject({ seq, command: "envctl stage dev --version 1.6.0" });
    expect((await h.request("/api/environments/dev/history/999")).status).toBe(404);
    const rollout = (await (await h.request("/api/environments/dev/rollout")).json()) as any;
    expect(rollout).toMatchObject({ environment: "dev", rollout: null });
  });

  it("answers 404 naming the known environments, and 400 for a malformed name or change number", async () => {
    const h = await harness();
    const missing = await h.request("/api/environments/stagin");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).problems[0]).toMatchObject({ subject: "stagin" });
    const bad = await h.request("/api/environments/Bad_Name/status");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).problems[0]).toMatchObject({ path: "name" });
    expect((await h.request("/api/environments/dev/history/-1")).status).toBe(400);
    expect((await h.request("/api/operations/xyz")).status).toBe(400);
    expect((await h.request("/api/operations/0123456789abcdef")).status).toBe(404);
  });

  it("serves an OpenAPI 3.1 document that validates, with every route", async () => {
    const h = await harness();
    const doc = (await (await h.request("/api/openapi.json")).json()) as any;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/environments",
        "/environments/{name}",
        "/environments/{name}/abort",
        "/environments/{name}/approve",
        "/environments/{name}/config",
        "/environments/{name}/history",
        "/environments/{name}/health",
        "/environments/{name}/history/{seq}",
        "/environments/{name}/maintenance",
        "/environments/{name}/metrics",
        "/environments/{name}/pause",
        "/environments/{name}/promote",
        "/environments/{name}/rollback",
        "/environments/{name}/rollout",
        "/environments/{name}/shift",
        "/environments/{name}/status",
        "/operations/{id}",
        "/session",
      ].sort(),
    );
  });
});

describe("actions", () => {
  it("runs a rollout, a shift, maintenance on and off and a rollback through the release core; the history names the console's actor", async () => {
    const h = await harness();
    await h.signIn();
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const r = await h.request("/api/environments/dev/rollout", { method: "POST", json: {} });
    const op = (await r.json()) as any;
    expect(r.status, JSON.stringify(op)).toBe(200);
    expect(op).toMatchObject({ status: "succeeded", environment: "dev" });
    expect(op.lines.some((l: any) => /step/i.test(l.text))).toBe(true);
    expect(JSON.parse(h.releaseText("dev"))).toMatchObject({ live: "green", rollout: null });
    expect(h.alb("dev").weights).toEqual({ blue: 0, green: 100 });
    expect(h.audit("dev").at(-1).by).toBe(currentActor(h.deps.env)); // as envctl records it;
    expect(((await (await h.request(`/api/operations/${op.id}`)).json()) as any).status).toBe("succeeded");

    const back = await h.request("/api/environments/dev/rollback", { method: "POST", json: {} });
    expect(back.status).toBe(200);
    expect(JSON.parse(h.releaseText("dev")).live).toBe("blue");
    expect(h.alb("dev").weights).toEqual({ blue: 100, green: 0 });

    const s = await h.request("/api/environments/dev/shift", { method: "POST", json: { to: "green", percent: 30 } });
    expect(s.status).toBe(200);
    expect(h.alb("dev").weights).toEqual({ blue: 70, green: 30 });
    expect(h.audit("dev").at(-1)).toMatchObject({ command: "envctl shift dev --to green --percent 30" });

    const on = await h.request("/api/environments/dev/maintenance", {
      method: "POST",
      json: { state: "on", message: "back soon" },
    });
    expect(on.status).toBe(200);
    expect(JSON.parse(h.releaseText("dev")).maintenance.message).toBe("back soon");
    const off = await h.request("/api/environments/dev/maintenance", { method: "POST", json: { state: "off" } });
    expect(off.status).toBe(200);
    expect(JSON.parse(h.releaseText("dev")).maintenance).toBeUndefined();
  });

  it("refuses bad input with 400 and every problem, writing nothing", async () => {
    const h = await harness();
    await h.signIn();
    const before = ["dev", "staging", "production"].map(h.releaseText);
    const cases: [string, unknown, RegExp][] = [
      ["/api/environments/dev/shift", { to: "purple", percent: 101 }, /blue or green[\s\S]*0-100/],
      ["/api/environments/dev/shift", { to: "blue", percent: "50" }, /whole number/],
      ["/api/environments/dev/shift", { to: "blue", percent: 50, extra: 1 }, /unknown field/],
      ["/api/environments/staging/promote", { from: "dev", version: "bad tag!" }, /image tag/],
      ["/api/environments/dev/maintenance", { state: "sideways" }, /on or off/],
      ["/api/environments/dev/maintenance", { state: "off", message: "x" }, /go with on/],
      ["/api/environments/dev/approve", { changeId: "nope" }, /16 hex/],
      ["/api/environments/production/abort", {}, /type its name/],
      ["/api/environments/production/rollback", { confirm: "staging" }, /type its name/],
    ];
    for (const [path, json, rule] of cases) {
      const res = await h.request(path, { method: "POST", json });
      const body = (await res.json()) as any;
      expect(res.status, `${path} ${JSON.stringify(json)}`).toBe(400);
      expect(body.problems.map((p: any) => `${p.subject} ${p.path} ${p.message}`).join("; ")).toMatch(rule);
      expect(body.problems[0].subject).toBe(path.split("/")[3]);
    }
    const notJson = await h.request("/api/environments/dev/shift", {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    expect((await h.request("/api/environments/nowhere/abort", { method: "POST", json: {} })).status).toBe(404);
    // refused by the release core (no rollout to abort): 409 with envctl's words, nothing written
    const refused = await h.request("/api/environments/dev/abort", { method: "POST", json: {} });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as any).error).toMatch(/no rollout in progress/);
    expect(["dev", "staging", "production"].map(h.releaseText)).toEqual(before);
    expect(h.deployed).toEqual([]);
  });

  it("production: refused until approved by two others (approve route), typed confirmation required", async () => {
    const h = await harness();
    await h.signIn();
    const prod = () => JSON.parse(h.releaseText("production"));
    const on = () =>
      h.request("/api/environments/production/maintenance", {
        method: "POST",
        json: { state: "on", message: "upgrading", confirm: "production" },
      });
    const first = await on();
    const refused = (await first.json()) as any;
    expect(first.status).toBe(409);
    const changeId = /change ([0-9a-f]{16})/.exec(refused.error)?.[1];
    expect(changeId, refused.error).toBeDefined();
    expect(prod().maintenance).toBeUndefined();
    expect(h.maintenance.fast).toBeNull();
    // the author cannot approve their own change
    const self = await h.request("/api/environments/production/approve", { method: "POST", json: { changeId } });
    expect(self.status).toBe(409);
    for (const who of ["alice", "bob"]) {
      h.who.arn = `arn:aws:iam::ACCOUNT:user/${who}`;
      const a = await h.request("/api/environments/production/approve", { method: "POST", json: { changeId } });
      expect(a.status, JSON.stringify(await a.clone().json())).toBe(200);
    }
    h.who.arn = "arn:aws:iam::ACCOUNT:user/dana";
    const again = await on();
    expect(again.status, JSON.stringify(await again.clone().json())).toBe(200);
    expect(prod().maintenance.message).toBe("upgrading");
    const history = (await (await h.request("/api/environments/production/history")).json()) as any[];
    expect(history[0].by).toBe(currentActor(h.deps.env)); // as envctl records it;
    expect(history[0].approvers).toEqual(
      expect.arrayContaining([expect.stringMatching(/alice/), expect.stringMatching(/bob/)]),
    );
  });

  it("concurrent actions meet the environment's lock: one runs, the other gets 423 and changes nothing", async () => {
    const h = await harness();
    await h.signIn();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const inner = h.deps.deployer!;
    (h.deps as { deployer: typeof inner }).deployer = {
      deploy: async (stacks, log) => {
        await gate;
        return inner.deploy(stacks, log);
      },
    };
    const first = h.request("/api/environments/dev/shift", { method: "POST", json: { to: "green", percent: 20 } });
    await new Promise((r) => setTimeout(r, 300));
    const second = await h.request("/api/environments/dev/shift", {
      method: "POST",
      json: { to: "green", percent: 40 },
    });
    expect(second.status).toBe(423);
    expect(((await second.json()) as any).error).toMatch(/lock|locked|another/i);
    release();
    expect((await first).status).toBe(200);
    expect(JSON.parse(h.releaseText("dev")).slots.green.weight).toBe(20);
  });
});

describe("protection", () => {
  it("refuses a state-changing request without the session's CSRF token, from another Origin, or cross-site", async () => {
    const h = await harness();
    await h.signIn();
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const before = h.releaseText("dev");
    const shift = (headers: Record<string, string>) =>
      h.ui.app.request("http://127.0.0.1:7070/api/environments/dev/shift", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ to: "green", percent: 50 }),
      });
    const cookie = { csrf: ((await (await h.request("/api/session")).json()) as any).csrf as string };
    // no token, a wrong token, a right token from another origin, a cross-site fetch
    expect((await shift({ origin: "http://127.0.0.1:7070" })).status).toBe(403);
    expect((await shift({ origin: "http://127.0.0.1:7070", "x-csrf-token": "guess" })).status).toBe(403);
    expect((await shift({ origin: "http://evil.example", "x-csrf-token": cookie.csrf })).status).toBe(403);
    expect((await shift({ "sec-fetch-site": "cross-site", "x-csrf-token": cookie.csrf })).status).toBe(403);
    expect(h.releaseText("dev")).toBe(before);
    // the page's own request: session cookie, its token, its origin
    expect(
      (await h.request("/api/environments/dev/shift", { method: "POST", json: { to: "green", percent: 50 } })).status,
    ).toBe(200);
  });

  it("answers only to loopback host names when bound to loopback (DNS rebinding)", async () => {
    const h = await harness();
    const res = await h.ui.app.request("http://rebound.example:7070/api/environments");
    expect(res.status).toBe(421);
    expect((await h.ui.app.request("http://localhost:7070/api/environments")).status).toBe(200);
  });

  it("off loopback: the bearer token or a signed-in session, nothing else", async () => {
    const token = "t0k3n-0123456789abcdef0123456789abcdef";
    const h = await harness({ token, loopback: false });
    const url = "http://console.internal:7070";
    expect((await h.ui.app.request(`${url}/api/environments`)).status).toBe(401);
    expect(
      (await h.ui.app.request(`${url}/api/environments`, { headers: { authorization: "Bearer wrong" } })).status,
    ).toBe(401);
    expect(
      (await h.ui.app.request(`${url}/api/environments`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    // a page without a session goes to the sign-in page
    const page = await h.ui.app.request(`${url}/`);
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/login");
    const bad = await h.ui.app.request(`${url}/login`, {
      method: "POST",
      headers: { origin: url, "content-type": "application/x-www-form-urlencoded" },
      body: "token=wrong",
    });
    expect(bad.status).toBe(401);
    const good = await h.ui.app.request(`${url}/login`, {
      method: "POST",
      headers: { origin: url, "content-type": "application/x-www-form-urlencoded" },
      body: `token=${token}`,
    });
    expect(good.status).toBe(303);
    const cookie = good.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const home = await h.ui.app.request(`${url}/`, { headers: { cookie: cookie.split(";")[0]! } });
    expect(home.status).toBe(200);
    expect(home.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    // an API client with the bearer token needs no CSRF token (browsers never send it by themselves)
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const shift = await h.ui.app.request(`${url}/api/environments/dev/shift`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ to: "green", percent: 10 }),
    });
    expect(shift.status).toBe(200);
  });

  it("read-only: no action routes and no buttons", async () => {
    const h = await harness({ readOnly: true });
    await h.signIn();
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const before = h.releaseText("dev");
    for (const a of ["rollout", "abort", "rollback", "shift", "promote", "maintenance", "approve", "pause"])
      expect((await h.request(`/api/environments/dev/${a}`, { method: "POST", json: {} })).status).toBe(404);
    expect(h.releaseText("dev")).toBe(before);
    const doc = (await (await h.request("/api/openapi.json")).json()) as any;
    expect(Object.values(doc.paths).some((p: any) => p.post)).toBe(false);
    const html = await (await h.request("/environments/dev")).text();
    expect(html).not.toMatch(/<button/);
  });
});

describe("operations and events", () => {
  it("a long rollout answers 202 with its operation id; its progress and end stream on /api/events; pause leaves the traffic, promote route and history record it", async () => {
    const h = await harness({ settleMs: 50 });
    await h.signIn();
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const events = await h.request("/api/events");
    expect(events.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = events.body!.getReader();
    const received: string[] = [];
    const reading = (async () => {
      const dec = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        received.push(dec.decode(value));
        if (received.join("").includes("event: end")) return;
      }
    })();
    // a slow deploy keeps the rollout running past the settle time
    const inner = h.deps.deployer!;
    (h.deps as { deployer: typeof inner }).deployer = {
      deploy: async (stacks, log) => {
        await new Promise((r) => setTimeout(r, 200));
        return inner.deploy(stacks, log);
      },
    };
    const r = await h.request("/api/environments/dev/rollout", { method: "POST", json: {} });
    expect(r.status).toBe(202);
    const op = (await r.json()) as any;
    expect(op).toMatchObject({ status: "running", environment: "dev" });
    await reading;
    const text = received.join("");
    expect(text).toMatch(/event: line/);
    expect(text).toContain(op.id);
    expect(text).toMatch(/event: end[\s\S]*"status":"succeeded"/);
    await reader.cancel();
    // promote along the graph: dev's live version into staging's idle slot
    const p = await h.request("/api/environments/staging/promote", { method: "POST", json: { from: "dev" } });
    expect(p.status).toBe(202); // the slow deploy again: follow it by its id
    const id = ((await p.json()) as any).id;
    let status = "running";
    for (let i = 0; i < 100 && status === "running"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = ((await (await h.request(`/api/operations/${id}`)).json()) as any).status;
    }
    expect(status).toBe("succeeded");
    expect(JSON.parse(h.releaseText("staging")).slots.green.version).toBe("1.6.0");
    // nothing runs to pause
    expect((await h.request("/api/environments/dev/pause", { method: "POST", json: {} })).status).toBe(409);
  });
});

describe("pause and resume", () => {
  it("pause interrupts the console's rollout and leaves the traffic where it is; resume goes on from there", async () => {
    const h = await harness({ clock: new ScaledClock(undefined, 150), settleMs: 50 });
    await h.signIn();
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const started = await h.request("/api/environments/dev/rollout", { method: "POST", json: {} });
    expect(started.status).toBe(202);
    const id = ((await started.json()) as any).id;
    await expect.poll(() => h.alb("dev").weights.green, { timeout: 10_000 }).toBeGreaterThan(0);
    const paused = await h.request("/api/environments/dev/pause", { method: "POST", json: {} });
    expect(paused.status).toBe(200);
    await expect
      .poll(async () => ((await (await h.request(`/api/operations/${id}`)).json()) as any).status, { timeout: 10_000 })
      .toBe("failed");
    const op = (await (await h.request(`/api/operations/${id}`)).json()) as any;
    expect(op.outcome.exitCode).toBe(8); // interrupted, as Ctrl-C with --on-interrupt leave
    const left = h.alb("dev").weights;
    expect(left.green).toBeGreaterThan(0);
    expect(JSON.parse(h.releaseText("dev")).rollout).not.toBeNull();
    const resumed = await h.request("/api/environments/dev/rollout", { method: "POST", json: {} });
    expect([200, 202]).toContain(resumed.status);
    const rid = ((await resumed.json()) as any).id;
    await expect
      .poll(async () => ((await (await h.request(`/api/operations/${rid}`)).json()) as any).status, { timeout: 30_000 })
      .toBe("succeeded");
    expect(h.alb("dev").weights).toEqual({ blue: 0, green: 100 });
  }, 60_000);

  it("refuses a body over 64 KiB", async () => {
    const h = await harness();
    await h.signIn();
    const res = await h.request("/api/environments/dev/maintenance", {
      method: "POST",
      json: { state: "on", message: "x".repeat(70_000) },
    });
    expect(res.status).toBe(413);
  });
});

describe("health", () => {
  it("reads what runs through the ports: the ALB's weights, target health, the gate's alarms; an unreadable part is an error, never fine", async () => {
    const h = await harness();
    const seen = (await (await h.request("/api/environments/staging/health")).json()) as any;
    expect(seen.weights).toEqual({ blue: 100, green: 0 });
    expect(seen.health.blue).toMatchObject({ healthy: 2, unhealthy: 0 });
    expect(seen.alarms.length).toBeGreaterThan(0);
    expect(seen.alarms.every((a: any) => a.state === "OK")).toBe(true);
    h.alb("staging").failReads = true;
    const blind = (await (await h.request("/api/environments/staging/health")).json()) as any;
    expect(blind.weights.error).toMatch(/ECONNREFUSED/);
    expect((await h.request("/api/environments/nowhere/health")).status).toBe(404);
  });
});

describe("the step in progress", () => {
  it("reads each poll's counts from the rollout's progress exactly as the history records them afterwards", async () => {
    const h = await harness();
    await h.signIn();
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    const op = (await (await h.request("/api/environments/dev/rollout", { method: "POST", json: {} })).json()) as any;
    expect(op.status).toBe("succeeded");
    const texts: string[] = op.lines.map((l: { text: string }) => l.text);
    const records = h.audit("dev").filter((a: any) => a.analysis?.intervals?.length);
    expect(records.length).toBeGreaterThan(0);
    // the lines of each step (a "poll 1" starts one), read back, are the step's recorded intervals
    const starts = texts.flatMap((t, i) => (/^\s*poll 1:/.test(t) ? [i] : []));
    expect(starts.length).toBe(records.length);
    starts.forEach((start, k) => {
      const end = starts[k + 1] ?? texts.length;
      const step = texts.slice(start, end);
      const verdict = step.findIndex((t) => /: (PASS|FAIL|INCONCLUSIVE) \|/.test(t));
      expect(verdict).toBeGreaterThan(0);
      // the last poll before the verdict shows the evidence the step was judged with
      const last = pollsOf(step.slice(0, verdict)).at(-1)!;
      expect(last.tests.map((x) => [x.name, formatEvidence(x.logEvidence)])).toEqual(
        records[k].analysis.evidence.map((x: any) => [x.test, formatEvidence(x.logEvidence)]),
      );
      expect(pollsOf(step)).toEqual([]); // once judged, no step is in progress
    });
  });
});

describe("metrics", () => {
  it("reads the last hour per slot through the ports; CloudWatch unreachable is an error, never zeros", async () => {
    const h = await harness();
    const m = (await (await h.request("/api/environments/staging/metrics")).json()) as any;
    expect(m.periodSeconds).toBe(300);
    expect(Date.parse(m.end) - Date.parse(m.start)).toBe(3600_000);
    expect(m.totals.blue.requests).toBeGreaterThan(0);
    expect(h.metrics.queries.at(-1)).toMatchObject({ periodSeconds: 300 });
    h.metrics.failNext = -1;
    const blind = (await (await h.request("/api/environments/staging/metrics")).json()) as any;
    expect(blind.error).toMatch(/ECONNREFUSED/);
    expect(blind.totals).toBeUndefined();
    expect((await h.request("/api/environments/nowhere/metrics")).status).toBe(404);
  });
});
