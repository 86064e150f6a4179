import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../lib/cli/envctl.ts";
import { compareReleases } from "../lib/release/changes.ts";
import { parseRelease } from "../lib/release/model/release.ts";
import { slotSettings } from "../lib/release/model/slots.ts";
import { tempProject } from "./support/project.ts";

const base = parseRelease({
  environment: "production",
  live: "blue",
  slots: { blue: { version: "1.4.2", weight: 100 }, green: { version: null, weight: 0 } },
});
const withSlots = (blue: object, green: object) =>
  parseRelease({ ...base, slots: { blue: { ...base.slots.blue, ...blue }, green: { ...base.slots.green, ...green } } });

describe("release changes between two revisions (pure)", () => {
  it("a promotion into the idle slot at 0 % is fine, and reported as a slot change", () => {
    const c = compareReleases(base, withSlots({}, { version: "1.5.0" }));
    expect(c).toEqual({
      environment: "production",
      added: false,
      slots: [{ slot: "green", from: null, to: "1.5.0", what: ["version"] }],
      weights: null,
      problems: [],
    });
  });

  it("a shift alone is fine", () => {
    const staged = withSlots({}, { version: "1.5.0" });
    const c = compareReleases(staged, withSlots({ weight: 90 }, { version: "1.5.0", weight: 10 }));
    expect(c.problems).toEqual([]);
    expect(c.weights).toEqual({ from: { blue: 100, green: 0 }, to: { blue: 90, green: 10 } });
  });

  it("refuses traffic onto a slot whose version or settings change in the same change", () => {
    const c = compareReleases(base, withSlots({ weight: 90 }, { version: "1.5.0", weight: 10 }));
    expect(c.problems).toEqual([
      "production: slot green changes version (empty → 1.5.0) while it gets 10 % of the traffic in the same change: stage it at 0 % in one change (envctl promote/stage --no-deploy), move traffic in the next",
    ]);
    const settings = compareReleases(base, withSlots({ settings: slotSettings({ SMTP_HOST: "smtp.new" }) }, {}));
    expect(settings.problems).toEqual([
      expect.stringContaining("slot blue changes settings (1.4.2 → 1.4.2 (settings "),
    ]);
    expect(settings.problems[0]).toContain("while it gets 100 % of the traffic");
  });

  it("a new environment has nothing to compare", () => {
    expect(compareReleases(null, base)).toMatchObject({ added: true, problems: [] });
  });
});

describe("envctl release-check (against git)", () => {
  function repo() {
    const dir = tempProject();
    const git = (...args: string[]) =>
      execFileSync("git", args, {
        cwd: dir,
        encoding: "utf8",
        env: {
          ...process.env,
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_AUTHOR_NAME: "t",
          GIT_AUTHOR_EMAIL: "t@e",
          GIT_COMMITTER_NAME: "t",
          GIT_COMMITTER_EMAIL: "t@e",
        },
      });
    git("init", "-q");
    git("add", "environments");
    git("commit", "-qm", "base");
    const lines: string[] = [];
    const run = (...args: string[]) =>
      main(["node", "envctl", ...args], { cwd: dir, stdout: (t) => lines.push(t), stderr: (t) => lines.push(t) });
    const edit = (env: string, f: (r: any) => void) => {
      const file = join(dir, "environments/releases", `${env}.json`);
      const r = JSON.parse(readFileSync(file, "utf8"));
      f(r);
      writeFileSync(file, JSON.stringify(r));
    };
    return { dir, git, run, edit, lines };
  }

  it("reports what changed, and refuses a version that goes live in the same change", async () => {
    const t = repo();
    expect(await t.run("release-check", "--base", "HEAD")).toBe(0);
    expect(t.lines.at(-1)).toBe("no release changes");
    t.edit("production", (r) => {
      r.slots.green = { version: "1.5.0", weight: 10 };
      r.slots.blue.weight = 90;
      r.history.push({ version: "1.5.0", served: true });
    });
    expect(await t.run("release-check", "--base", "HEAD", "--json")).toBe(1);
    expect(JSON.parse(t.lines.at(-2)!)).toMatchObject([
      { environment: "production", slots: [{ slot: "green", to: "1.5.0" }], weights: { to: { green: 10 } } },
    ]);
    expect(t.lines.at(-1)).toContain(
      "refused: a release change mixes a new version with traffic:\n  - production: slot green changes version (empty → 1.5.0) while it gets 10 % of the traffic",
    );
  });

  it("refuses a revision that does not exist, clearly", async () => {
    const t = repo();
    expect(await t.run("release-check", "--base", "no-such-branch")).toBe(1);
    expect(t.lines.at(-1)).toBe("error: release-check: --base no-such-branch is not a commit of this repository");
  });
});
