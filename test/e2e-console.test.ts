/**
 * The console against the engine and the emulator, as a user runs it beside the demo: dev deployed
 * to moto by `cdktf deploy` (OpenTofu), `envctl ui` started as a subprocess on the playground, a
 * rollout run in it while synthetic users reach the slots as the ALB splits them, followed in
 * headless Chromium: the step's evidence grows between two samples, the first step's verdict
 * appears in words with its reasons, the traffic plan is shown; an Abort clicked in the page moves
 * the ALB's weights (read from moto with the SDK) back to the serving slot within a bound, and the
 * history records who did it. One environment, the demo's short windows.
 * Never skipped: needs `npm run setup:engine` (CI runs it) and Chromium (lib/report/setup-chromium.sh).
 */
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentActor } from "../lib/cli/actor.ts";
import { type ConsoleProcess, startConsoleProcess } from "../lib/demo/console.ts";
import { readWeights, USERS_RPS, users, useShortWindows } from "../lib/demo/demo.ts";
import { SyntheticAlbTraffic } from "../lib/demo/synthetic-traffic.ts";
import { CHROMIUM_FLAGS, findChromium } from "../lib/report/browser.ts";
import { type HealthStandIn, healthStandIn, type LocalLoop, localLoop } from "./support/e2e.ts";
import { REPO } from "./support/project.ts";

const ARTIFACTS = process.env.ENVSTACK_ARTIFACTS ?? join(REPO, "test-results");
/** How long the abort may take to reach the ALB, from the click (one API call, read back; the page's request first). */
const ABORT_BOUND_MS = 10_000;

let loop: LocalLoop;
let smoke: HealthStandIn;
let ui: ConsoleProcess;
let browser: BrowserContext;

const audit = () =>
  readFileSync(join(loop.dir, "environments/releases/dev.audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  smoke = await healthStandIn();
  loop = await localLoop();
  useShortWindows(loop.dir, smoke.url);
  // The demo's short windows; a long second step, so the test aborts it while it bakes at 100 %.
  loop.edit("dev.ts", (t) =>
    t.replace(
      "canary: [{ percent: 50, bakeSeconds: 12 }, { percent: 100, bakeSeconds: 10 }]",
      "canary: [{ percent: 50, bakeSeconds: 12 }, { percent: 100, bakeSeconds: 300 }]",
    ),
  );
  await loop.deploy("bootstrap", "dev", "dev-traffic");
  expect((await loop.envctl("stage", "dev", "--version", "1.6.0")).status).toBe(0);
  ui = await startConsoleProcess(loop.dir, loop.env);
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "envstack-chromium-")), {
    executablePath: findChromium(),
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 860 },
    timeout: 60_000,
  });
}, 1_200_000);

afterAll(async () => {
  await browser?.close();
  await ui?.stop();
  await loop?.stop();
  smoke?.close();
});

describe("envctl ui beside the demo (engine + emulator)", () => {
  it("follows a rollout live in Chromium; an Abort clicked moves the ALB back and the history names who", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${ui.url}/`);
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 10_000 }).toBe("live");
    expect(await page.locator('article[data-environment="dev"] .slot[data-slot="green"]').innerText()).toMatch(
      /1\.6\.0\s+0 %/,
    );
    // what runs, read from moto through the console's ports
    await page.waitForSelector('article[data-environment="dev"] [data-health][data-state]', { timeout: 30_000 });
    expect(await page.locator('article[data-environment="dev"] [data-health]').textContent()).toMatch(
      /ALB: blue 100 \/ green 0/,
    );

    const traffic = new SyntheticAlbTraffic(loop.emulator.endpoint, "dev").run((w) => users(w), 1000);
    try {
      // The rollout runs in the console (its plan at the users' rate: the emulator keeps no hourly history).
      await page.goto(`${ui.url}/environments/dev/rollout`);
      await expect.poll(() => page.locator("#live").textContent(), { timeout: 10_000 }).toBe("live");
      // as `npm run demo -- --ui` runs it: through the API, following the operation's lines
      const lines: string[] = [];
      const run = ui.follow("dev", "rollout", { rps: USERS_RPS, errorRate: 0.5 }, (l) => lines.push(l));
      run.catch(() => undefined); // awaited below; a failure before that must not go unhandled

      // the traffic plan: the rate it was given, each step's expected requests and time to a decision
      // (before the rollout starts the page shows the plan from the ALB's history: none on the emulator)
      await page.waitForSelector('[data-part="traffic-plan"][data-rps]', { timeout: 60_000 });
      const plan = page.locator('[data-part="traffic-plan"]');
      expect(await plan.getAttribute("data-rps")).toBe(String(USERS_RPS));
      expect(await plan.locator("tr[data-step]").count()).toBe(2);

      // the step baking: its evidence grows between two samples
      await page.waitForSelector("article.live[data-polls]", { timeout: 60_000 });
      const polls = async () =>
        Number(
          (await page
            .locator("article.live")
            .getAttribute("data-polls")
            .catch(() => null)) ?? 0,
        );
      const first = await polls();
      await expect.poll(polls, { timeout: 30_000 }).toBeGreaterThan(first);
      // each test's line has a point per poll
      const [shown, points] = await page
        .locator("article.live")
        .evaluate((el) => [
          Number(el.getAttribute("data-polls")),
          Number(el.querySelector("path.evidence-line")?.getAttribute("data-points")),
        ]);
      expect(points).toBe(shown);
      expect(shown).toBeGreaterThan(first);

      // the first step's verdict, in words, with its reasons, once the history records it
      await page.waitForSelector('article.analysis[data-step="0"]', { state: "attached", timeout: 60_000 });
      const words = await page.locator('article.analysis[data-step="0"] ul.words li').allTextContents();
      expect(words[0]).toMatch(/^step 1 at 50 % passed: no test's evidence reached its bound/);
      expect(words.slice(1).some((w) => /: the evidence stayed at \d+ % of its bound\./.test(w))).toBe(true);
      // step 2 applied: the ALB serves the canary at 100 %
      await expect
        .poll(() => readWeights(loop.emulator.endpoint, "dev"), { timeout: 60_000 })
        .toEqual({
          blue: 0,
          green: 100,
        });
      await page.waitForSelector("article.live[data-polls]", { timeout: 60_000 });
      await page.screenshot({ path: join(ARTIFACTS, "console-e2e-rollout.png"), fullPage: true });

      const clicked = Date.now();
      await page.click('button[data-action="abort"]');
      let back = 0;
      await expect
        .poll(
          async () => {
            const w = await readWeights(loop.emulator.endpoint, "dev");
            if (w.blue === 100 && !back) back = Date.now();
            return w;
          },
          { timeout: 15_000, interval: 100 },
        )
        .toEqual({ blue: 100, green: 0 });
      expect(back - clicked).toBeLessThan(ABORT_BOUND_MS);
      process.stdout.write(`abort clicked → ALB back to blue 100 in ${back - clicked} ms\n`);
      // the rollout run in the console stops on the abort, without touching traffic (envctl's exit code 7)
      expect(await run).toBe(7);
      expect(lines.join("\n")).toMatch(/poll \d+: t\+/);
      expect(lines.join("\n")).toContain("this rollout stopped without touching traffic");
    } finally {
      await traffic.stop();
    }
    await expect
      .poll(() => audit().find((a: { outcome: string }) => a.outcome === "aborted")?.by, { timeout: 15_000 })
      .toBe(currentActor(loop.env));
    await page.waitForSelector('[data-part="rollout"][data-state="none"]', { timeout: 30_000 });
    expect(problems).toEqual([]);
  }, 600_000);
});
