/**
 * `envctl report --html`: the data (pure), and the page in real headless Chromium (playwright-core
 * driving the system's chromium): every environment, a rollout in progress with its steps and
 * last analysis, the history, drift and cost; no network request; a screenshot for people.
 */

import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlainProgress } from "../lib/cli/progress.ts";
import { CHROMIUM_FLAGS, findChromium } from "../lib/report/browser.ts";
import { esc, graphLevels, renderReport } from "../lib/report/html.ts";
import { consoleHarness } from "./support/console.ts";
import { envctlInProcess } from "./support/envctl-deps.ts";
import { FakeClock, steady } from "./support/fakes.ts";
import { REPO } from "./support/project.ts";

/** Where the screenshot and the page go (CI uploads them). */
const ARTIFACTS = process.env.ENVSTACK_ARTIFACTS ?? join(REPO, "test-results");

/**
 * A project with history: dev and staging rolled out (analysis passed), production promoted and
 * its rollout interrupted during the 50 % step, after the 10 % step passed its analysis (left in
 * progress at blue 50 / green 50).
 */
async function projectWithRolloutInProgress() {
  // As in CI after two reviewers approved; progress lines are not kept: `out` is what the commands print.
  const h = envctlInProcess({
    clock: new FakeClock(Date.parse("2026-11-20T09:00:00.000Z")),
    deps: ({ clock }) => ({ progress: new PlainProgress(() => undefined, clock.now) }),
  });
  const { dir, cw: metrics, controller, lines: out, run } = h;
  expect(await run("stage", "dev", "--version", "1.6.0")).toBe(0);
  expect(await run("rollout", "dev")).toBe(0);
  expect(await run("promote", "dev", "staging")).toBe(0);
  expect(await run("rollout", "staging")).toBe(0);
  expect(await run("promote", "staging", "production", "--yes")).toBe(0);
  // production's rollout: interrupted during the 50 % step's bake, traffic left at 50 / 50
  let polls = 0;
  metrics.traffic = (q) => {
    if (++polls === 12) controller.abort(new Error("SIGTERM"));
    return steady()(q);
  };
  expect(await run("rollout", "production", "--yes", "--on-interrupt", "leave")).toBe(8);
  const drift = join(dir, "drift.json");
  writeFileSync(
    drift,
    JSON.stringify([
      { stack: "dev", status: "in sync", resources: [] },
      { stack: "dev-traffic", status: "in sync", resources: [] },
      {
        stack: "staging",
        status: "drifted",
        resources: [{ address: "aws_lb_target_group.load-balancer_tg-green_1", attributes: ["health_check"] }],
      },
    ]),
  );
  return { dir, run, out, drift };
}

describe("the report's page (pure)", () => {
  it("lays the promotion graph out left to right and escapes every text", () => {
    expect(
      Object.fromEntries(
        graphLevels(
          ["production", "dev", "staging", "pr-1-x"],
          [
            { from: "dev", to: "staging", kind: "promotes" },
            { from: "staging", to: "production", kind: "promotes" },
            { from: "production", to: "staging", kind: "rollback" },
          ],
        ),
      ),
    ).toEqual({ dev: 0, staging: 1, production: 2, "pr-1-x": 0 });
    expect(esc(`<script>alert("x")</script> & 'y'`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;",
    );
    const html = renderReport({
      project: "p",
      generatedAt: "2026-11-22T10:00:00.000Z",
      pricesAsOf: "2026-11-01",
      edges: [],
      history: [],
      driftChecked: false,
      environments: [
        {
          name: "qa",
          tier: "development",
          region: "eu-west-1",
          compute: "ec2 t3.micro × 1",
          preview: false,
          rollout: null,
          lastAnalysis: null,
          pending: null,
          drift: null,
          slots: [
            { slot: "blue", version: "<b>1.0</b>", weight: 100, live: true },
            { slot: "green", version: null, weight: 0, live: false },
          ],
          cost: { total: 1, lines: [] },
        },
      ],
    });
    expect(html).toContain("<code>&lt;b&gt;1.0&lt;/b&gt;</code>");
    expect(html).not.toContain("<b>1.0</b>");
    // self-contained: no script, no external reference, a policy that forbids any
    expect(html).not.toMatch(/<script|<link|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it("shows maintenance mode, and each drifted attribute's class when the drift result carries them", () => {
    const html = renderReport({
      project: "p",
      generatedAt: "2026-11-22T10:00:00.000Z",
      pricesAsOf: "2026-11-01",
      edges: [],
      history: [],
      driftChecked: true,
      environments: [
        {
          name: "qa",
          tier: "development",
          region: "eu-west-1",
          compute: "ec2 t3.micro × 1",
          preview: false,
          rollout: null,
          lastAnalysis: null,
          pending: null,
          maintenance: {
            since: "2026-11-22T09:00:00.000Z",
            by: "alice",
            allowCidrs: ["203.0.113.0/24"],
            allowHeader: "X-Maintenance-Bypass",
          },
          drift: [
            {
              stack: "qa",
              status: "drifted",
              severity: "critical",
              resources: [
                {
                  address: "aws_security_group.sg",
                  attributes: ["ingress", "tags"],
                  classes: [
                    { attribute: "ingress", severity: "critical", rule: "aws_security_group*.*" },
                    { attribute: "tags", severity: "low", rule: "*.tags" },
                  ],
                },
              ],
            },
            { stack: "qa-traffic", status: "in sync", severity: null, resources: [] },
          ],
          slots: [
            { slot: "blue", version: "1.0", weight: 100, live: true },
            { slot: "green", version: null, weight: 0, live: false },
          ],
          cost: { total: 1, lines: [] },
        },
      ],
    });
    expect(html).toContain("MAINTENANCE since");
    expect(html).toContain(
      "by alice: users get the 503 page; bypass CIDRs 203.0.113.0/24; bypass header X-Maintenance-Bypass. End it: <code>envctl maintenance qa off</code>",
    );
    expect(html).toContain("drifted: qa (critical)");
    expect(html).toContain("<code>qa: aws_security_group.sg</code>: ingress (critical), tags (low)");
  });

  it("shows the last analysis: both slots' counts, each test's evidence against its bound, the requirement, the plan's requests and observe-only notes", () => {
    const lastAnalysis = {
      at: "2026-11-22T10:05:00.000Z",
      step: 0,
      percent: 10,
      verdict: "fail" as const,
      reasons: ["errors vs stable: evidence 312 ≥ bound 250 (canary 40/600 5xx, stable 2/5000)"],
      window: { start: "2026-11-22T10:00:00.000Z", end: "2026-11-22T10:05:00.000Z" },
      alarms: [],
      limits: { detect: 2 },
      polls: 4,
      canary: { slot: "green" as const, requests: 600, errors: 40, slow: 3, errorRatePercent: 6.667, p99Seconds: 0.31 },
      stable: { slot: "blue" as const, requests: 5000, errors: 2, slow: null, errorRatePercent: 0.04, p99Seconds: 0.2 },
      evidence: [
        { test: "errors vs stable", logEvidence: Math.log(312), logBound: Math.log(250) },
        { test: "slow vs limit", logEvidence: Math.log(0.5), logBound: Math.log(1000) },
      ],
      required: { requests: 4823, basis: "to detect 2× a 1 % error rate with 95 % power" },
      plannedRequests: 5100,
      observed: ["slow vs stable: evidence 300 ≥ bound 250 (latency observe-only)"],
    };
    const html = renderReport({
      project: "p",
      generatedAt: "2026-11-22T10:00:00.000Z",
      pricesAsOf: "2026-11-01",
      edges: [],
      history: [],
      driftChecked: false,
      environments: [
        {
          name: "qa",
          tier: "development",
          region: "eu-west-1",
          compute: "ec2 t3.micro × 1",
          preview: false,
          rollout: null,
          lastAnalysis,
          pending: null,
          drift: null,
          slots: [
            { slot: "blue", version: "1.0", weight: 90, live: true },
            { slot: "green", version: "1.1", weight: 10, live: false },
          ],
          cost: { total: 1, lines: [] },
        },
      ],
    });
    const cells = (row: string) => [...row.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
    const rows = [...html.matchAll(/<tr>(<td>(?:canary|stable)[\s\S]*?)<\/tr>/g)].map((m) => cells(m[1]!));
    expect(rows).toEqual([
      ["canary (green)", "600", "40", "3", "6.67 %", "0.31 s"],
      ["stable (blue)", "5000", "2", "—", "0.04 %", "0.2 s"],
    ]);
    expect(html).toContain('<th class="num">requests</th><th class="num">5xx</th><th class="num">slow</th>');
    expect(html).toContain(
      '<tr data-test="errors vs stable"><td>errors vs stable</td><td class="num">312</td><td class="num">250</td><td class="crossed">crossed: fails the step</td></tr>',
    );
    expect(html).toContain(
      '<tr data-test="slow vs limit"><td>slow vs limit</td><td class="num">0.5</td><td class="num">1000</td><td class="below">below</td></tr>',
    );
    expect(html).toContain(
      "a pass needs 4823 canary requests to detect 2× a 1 % error rate with 95 % power; the traffic plan required 5100 canary requests",
    );
    expect(html).toContain(
      'Observe-only (not acted on)</div><ul class="reasons"><li>slow vs stable: evidence 300 ≥ bound 250 (latency observe-only)</li></ul>',
    );
    expect(html).toContain("<li>errors vs stable: evidence 312 ≥ bound 250 (canary 40/600 5xx, stable 2/5000)</li>");
  });
});

/** The element carrying `attr` (its first), with everything inside it: balanced on its tag name. */
function element(html: string, attr: string): string {
  const at = html.indexOf(attr);
  if (at < 0) throw new Error(`no ${attr} in the page`);
  const start = html.lastIndexOf("<", at);
  const tag = /^<([a-z0-9]+)/.exec(html.slice(start))![1]!;
  const re = new RegExp(`<${tag}[\\s>]|</${tag}>`, "g");
  re.lastIndex = start;
  let depth = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[0].startsWith("</") ? -1 : 1;
    if (depth === 0) return html.slice(start, re.lastIndex);
  }
  throw new Error(`${attr}: unbalanced <${tag}>`);
}

describe("the report is the console's views rendered to a file", () => {
  it("renders the same fragments as the console's pages for the same project (no buttons, nothing live)", async () => {
    const h = await consoleHarness();
    try {
      expect(await h.envctl("stage", "dev", "--version", "1.6.0")).toBe(0);
      expect(await h.envctl("rollout", "dev")).toBe(0);
      expect(await h.envctl("promote", "dev", "staging")).toBe(0);
      expect(await h.envctl("report", "--html", "report.html")).toBe(0);
      const report = readFileSync(join(h.dir, "report.html"), "utf8");
      const page = await (await h.request("/environments/staging", { headers: { "x-fragment": "1" } })).text();
      const overview = await (await h.request("/", { headers: { "x-fragment": "1" } })).text();
      // one environment's sections, byte for byte
      for (const part of ["config", "services", "cost", "settings-diff", "history"]) {
        const fragment = element(page, `data-part="${part}"`);
        expect(fragment.length).toBeGreaterThan(40);
        const section = element(report, `data-environment-page="staging"`);
        expect(element(section, `data-part="${part}"`), part).toBe(fragment);
      }
      const links = (x: string) => x.replace(/href="[^"]*"/g, 'href=""');
      // the history: who, approvers, how long, as both show it
      const history = element(page, `data-part="history"`);
      expect(history).toMatch(/<th>who<\/th>.*<th>approvers<\/th><th>took<\/th>/);
      expect(history).toContain("promote dev staging");
      // the recent activity across environments, and the promotion section but for its links
      expect(element(report, 'class="activity"')).toBe(element(overview, 'class="activity"'));
      expect(links(element(report, 'class="graph"'))).toBe(links(element(overview, 'class="graph"')));
      expect(links(element(report, `data-environment-page="staging"`))).toContain(
        links(element(page, 'data-part="promotion"')),
      );
      // the console adds its buttons and live parts around the same views; the report has none
      expect(page).toContain("data-action=");
      expect(report).not.toMatch(/data-action=|data-health=|<button/);
    } finally {
      await h.ui.close();
    }
  });
});

describe("envctl report --html in headless Chromium", () => {
  let browser: BrowserContext;
  beforeAll(async () => {
    // a new, empty profile every run
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "envstack-chromium-")), {
      executablePath: findChromium(),
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 900 },
      timeout: 60_000,
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("renders every environment, the promotion graph, the rollout in progress with its steps and last analysis, history, drift and cost; fetches nothing", async () => {
    const p = await projectWithRolloutInProgress();
    const file = join(p.dir, "report.html");
    expect(await p.run("report", "--html", "report.html", "--drift", "drift.json")).toBe(0);
    expect(p.out.at(-1)).toBe(
      "wrote report.html: 3 environments, rollout in progress in production, 20 recent changes, drift included",
    );

    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`file://${file}`, { waitUntil: "load" });

    // every environment: a card and a node of the graph
    expect(
      await page.locator("article.card").evaluateAll((cards) => cards.map((c) => c.getAttribute("data-environment"))),
    ).toEqual(["dev", "staging", "production"]);
    expect(
      await page
        .locator("section.graph svg g.node")
        .evaluateAll((n) => n.map((x) => x.getAttribute("data-environment")).sort()),
    ).toEqual(["dev", "production", "staging"]);
    expect(await page.locator("section.graph svg path.edge").count()).toBe(3); // dev → staging → production, production ⇢ staging
    for (const name of ["dev", "staging", "production"])
      await expect(page.locator(`article[data-environment="${name}"]`).isVisible()).resolves.toBe(true);

    // the rollout in progress: production, green at 50 %, 2 of 3 steps applied
    const prod = page.locator('article[data-environment="production"]');
    await expect(prod.locator(".rollout").innerText()).resolves.toMatch(/green 1\.6\.0: 2 of 3 steps applied/);
    expect(
      await prod.locator("ol.steps li").evaluateAll((li) => li.map((l) => `${l.className}:${l.textContent}`)),
    ).toEqual(["done:10 %", "done:50 %", "current:100 %"]);
    expect(
      await prod.locator(".slot").evaluateAll((s) => s.map((x) => x.textContent!.replace(/\s+/g, " ").trim())),
    ).toEqual(["blue ★ 1.4.2 50 %", "green 1.6.0 50 %"]);
    const bar = await prod.locator('.slot[data-slot="green"] .bar > span').boundingBox();
    const track = await prod.locator('.slot[data-slot="green"] .bar').boundingBox();
    expect(bar!.width / track!.width).toBeCloseTo(0.5, 1);
    // the last analysis of each: staging and dev passed; production's is its 10 % step's
    await expect(page.locator('article[data-environment="staging"] .analysis .badge').innerText()).resolves.toBe(
      "pass",
    );
    await expect(prod.locator(".analysis").innerText()).resolves.toMatch(/pass\s+step 1 at 10 %/);
    // drift: given for dev and staging, not for production; cost everywhere
    await expect(page.locator('article[data-environment="dev"]').innerText()).resolves.toContain("in sync (2 stacks)");
    await expect(page.locator('article[data-environment="staging"]').innerText()).resolves.toContain(
      "drifted: staging",
    );
    await expect(prod.innerText()).resolves.toContain("drift not checked");
    await expect(prod.innerText()).resolves.toMatch(/\$[\d,]+\.\d\d \/ month/);
    // each environment's page, as the console shows it (no buttons): configuration, promotion, cost
    expect(await page.locator("section[data-environment-page]").evaluateAll((x) => x.map((e) => e.id))).toEqual([
      "page-dev",
      "page-staging",
      "page-production",
    ]);
    const prodPage = page.locator('section[data-environment-page="production"]');
    await expect(prodPage.locator('[data-part="promotion"]').getAttribute("data-promoted-from")).resolves.toBe(
      "staging",
    );
    await expect(prodPage.locator('[data-part="cost"]').innerText()).resolves.toMatch(/\$[\d,]+\.\d\d \/ month/);
    await expect(page.locator("button").count()).resolves.toBe(0);
    // recent history, newest first
    const rows = await page
      .locator("section.activity table.history tr")
      .evaluateAll((r) => r.slice(1).map((x) => x.children[1]!.textContent));
    expect(rows.length).toBe(20);
    expect(rows[0]).toBe("production");

    // self-contained: the page itself is the only request
    expect(requests).toEqual([`file://${file}`]);
    expect(problems).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "report.png");
    await page.screenshot({ path: shot, fullPage: true });
    writeFileSync(join(ARTIFACTS, "report.html"), readFileSync(file));
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.readUInt32BE(16)).toBe(1400); // width
    expect(png.readUInt32BE(20)).toBeGreaterThan(900); // the full page
    expect(statSync(shot).size).toBeGreaterThan(50_000);
    await page.close();
  }, 180_000);
});
