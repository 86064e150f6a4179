/**
 * The console in real headless Chromium (playwright-core, lib/report/browser.ts): the overview,
 * an environment page and a live rollout view, screenshots for people (test-results/), checked
 * by the test; an Abort clicked in the page reaches the ALB fake within a second, and the history
 * records who did it.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentActor } from "../lib/cli/actor.ts";
import { estimateMonthlyCost } from "../lib/config/cost-estimate.ts";
import { loadProject } from "../lib/config/load.ts";
import { trafficPlan } from "../lib/release/rollout/plan.ts";
import { CHROMIUM_FLAGS, findChromium } from "../lib/report/browser.ts";
import { consoleHarness, ScaledClock } from "./support/console.ts";
import { FakeTrafficHistory } from "./support/fakes.ts";
import { REPO } from "./support/project.ts";

const ARTIFACTS = process.env.ENVSTACK_ARTIFACTS ?? join(REPO, "test-results");

describe("envctl ui in Chromium", () => {
  let browser: BrowserContext;
  let h: Awaited<ReturnType<typeof consoleHarness>>;
  let base: string;
  let server: ReturnType<typeof serve>;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // virtual time 120 times faster than real: a rollout's bakes pass in seconds, live
    h = await consoleHarness({ clock: new ScaledClock(undefined, 120), settleMs: 300, pollMs: 100 });
    expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
    expect(await h.envctl("rollout", "dev")).toBe(0);
    expect(await h.envctl("promote", "dev", "staging")).toBe(0);
    server = serve({ fetch: h.ui.app.fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "envstack-chromium-")), {
      executablePath: findChromium(),
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 900 },
      timeout: 60_000,
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await h?.ui.close();
    server?.close();
  });

  it("shows every environment on the overview, and an environment's configuration names and history", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    await page.goto(`${base}/`);
    await expect(page.locator("#live").textContent()).resolves.toBeDefined();
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 10_000 }).toBe("live");
    expect(
      await page.locator("article.card").evaluateAll((cards) => cards.map((c) => c.getAttribute("data-environment"))),
    ).toEqual(["dev", "staging", "production"]);
    expect(await page.locator('article[data-environment="dev"] .slot[data-slot="green"]').innerText()).toMatch(
      /1\.6\.0\s+100 %/,
    );
    expect(await page.locator("table.history tr").count()).toBeGreaterThan(3);
    await page.waitForSelector('article[data-environment="staging"] [data-health][data-state="read"]');
    expect(await page.locator('article[data-environment="staging"] [data-health]').textContent()).toMatch(
      /targets: blue 2 healthy, 0 unhealthy; green 2 healthy, 0 unhealthy · ALB: blue 100 \/ green 0 · alarms: \d+ OK · last hour: blue \d+ req, \d+ 5xx, p99 [\d.]+ s; green/,
    );
    await page.screenshot({ path: join(ARTIFACTS, "console-overview.png"), fullPage: true });

    await page.goto(`${base}/environments/production`);
    const config = await page.locator('[data-part="config"]').textContent();
    expect(config).toMatch(/public settings/);
    expect(config).toMatch(/secrets \(names only\)/);

    expect(problems).toEqual([]);

    // production asks for its name typed: a wrong one is refused (400) before anything runs
    const before = h.releaseText("production");
    page.once("dialog", (d) => d.accept("staging"));
    await page.click('button[data-action="rollback"]');
    await page.waitForSelector('#result[data-status="400"]');
    expect(await page.locator("#result").textContent()).toMatch(/type its name \(production\)/);
    // the right name reaches the release core (which has nothing to roll back to: refused there, 409)
    page.once("dialog", (d) => d.accept("production"));
    await page.click('button[data-action="rollback"]');
    await page.waitForSelector('#result[data-status="409"]');
    expect(h.releaseText("production")).toBe(before);

    // staging's page: its place in the promotion graph, its estimated cost (the price table's), its history
    await page.goto(`${base}/environments/staging`);
    const promotion = page.locator('[data-part="promotion"]');
    expect(await promotion.getAttribute("data-promoted-from")).toBe("dev");
    expect(await promotion.getAttribute("data-promotes-to")).toBe("production");
    expect(await promotion.locator("g.node.current").getAttribute("data-environment")).toBe("staging");
    expect(
      await promotion.locator("g.node").evaluateAll((n) => n.map((x) => x.getAttribute("data-environment")).sort()),
    ).toEqual(["dev", "production", "staging"]);
    const project = await loadProject(h.dir);
    const staging = project.environments.find((e) => e.config.name === "staging")!.config;
    const cost = estimateMonthlyCost(staging);
    expect(await page.locator('[data-part="cost"]').getAttribute("data-total")).toBe(cost.total.toFixed(2));
    expect(await page.locator('[data-part="cost"] table.cost tr').count()).toBe(cost.lines.length + 1);
    expect(await page.locator('[data-part="history"] tr[data-seq]').count()).toBe(h.audit("staging").length);
    await page.screenshot({ path: join(ARTIFACTS, "console-environment.png"), fullPage: true });
  });

  it("follows a rollout live (evidence lines growing, verdicts in words); an Abort clicked reaches the ALB within a second", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/environments/staging`);
    await page.click('button[data-action="rollout"]');
    await page.goto(`${base}/environments/staging/rollout`);
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 10_000 }).toBe("live");
    // the traffic plan, as envctl analysis plan computes it from the load balancer's history
    const project = await loadProject(h.dir);
    const plan = await trafficPlan(
      { traffic: () => h.alb("staging"), trafficHistory: () => new FakeTrafficHistory(), clock: h.deps.clock! },
      project.environments.find((e) => e.config.name === "staging")!.config,
      {},
    );
    await page.waitForSelector('[data-part="traffic-plan"][data-rps]', { timeout: 30_000 });
    expect(Number(await page.locator('[data-part="traffic-plan"]').getAttribute("data-rps"))).toBe(plan.rps);
    expect(
      await page
        .locator('[data-part="traffic-plan"] tr[data-step]')
        .evaluateAll((rows) => rows.map((r) => [r.getAttribute("data-expected"), r.getAttribute("data-pass-after")])),
    ).toEqual(plan.steps.map((s) => [String(s.expectedCanaryRequests), String(s.passAfterSeconds)]));
    // the step baking now: its evidence grows poll by poll
    await page.waitForSelector("article.live[data-polls]", { timeout: 30_000 });
    const first = Number(await page.locator("article.live").getAttribute("data-polls"));
    const polls = async () =>
      Number(
        (await page
          .locator("article.live")
          .getAttribute("data-polls")
          .catch(() => null)) ?? 0,
      );
    await expect.poll(polls, { timeout: 30_000 }).toBeGreaterThan(first);
    // the first step's analysis appears as the release files change, with its evidence per poll
    await page.waitForSelector("article.analysis path.evidence-line", { state: "attached", timeout: 60_000 });
    const points = Number(
      await page.locator("article.analysis path.evidence-line").first().getAttribute("data-points"),
    );
    expect(points).toBeGreaterThan(1);
    expect(await page.locator('[data-part="rollout"]').getAttribute("data-state")).toBe("running");
    expect(await page.locator("article.analysis ul.words li").first().textContent()).toMatch(
      /step 1 at \d+ % (passed|failed|was inconclusive)/,
    );
    expect(await page.locator("ol.steps li.done").count()).toBeGreaterThan(0);
    expect(await page.locator("svg.weights circle").count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, "console-rollout.png"), fullPage: true });

    const alb = h.alb("staging");
    expect(alb.weights.green).toBeGreaterThan(0);
    let reached = 0;
    alb.onWrite = (w) => {
      if (w.green === 0 && reached === 0) reached = Date.now();
    };
    const clicked = Date.now();
    await page.click('button[data-action="abort"]');
    await expect.poll(() => reached, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(reached - clicked).toBeLessThan(1000);
    expect(alb.weights).toEqual({ blue: 100, green: 0 });
    await expect
      .poll(() => h.audit("staging").find((a: { outcome: string }) => a.outcome === "aborted")?.by, { timeout: 10_000 })
      .toBe(currentActor(h.deps.env)); // as envctl records it;
    await page.waitForSelector('[data-part="rollout"][data-state="none"]', { timeout: 10_000 });
  }, 120_000);
});
