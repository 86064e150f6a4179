/**
 * The console's HTTP API (lib/ui) against a temporary project with the release's fakes: every
 * route, bad input (4xx, nothing written), the token off loopback, CSRF and Origin, approvals,
 * production's typed confirmation, concurrent actions meeting the lock, and the OpenAPI document
 * validated by an OpenAPI validator.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterEach, describe, expect, it } from "vitest";
import { consoleHarness } from "./support/console.ts";

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
        "/environments/{name}/history/{seq}",
        "/environments/{name}/maintenance",
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
