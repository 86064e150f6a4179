/**
 * The release calendar: windows and freezes judged at a moment (pure, time zones and daylight
 * saving included), their validation, and envctl with a fixed clock: refused outside a window and
 * in a freeze, refused when the rollout could not finish in its window, held at the window's end
 * and resumed in the next, never blocking a rollback, the break-glass override, and scheduled
 * rollouts started once by overlapping runs or skipped for missing approvals.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { slotAlarmNames } from "../lib/constructs/naming.ts";
import { calendarRefusal } from "../lib/release/calendar.ts";
import { judgeScheduledStart, policyFor, UNPROVEN_AUTHOR } from "../lib/release/gates/approvals.ts";
import { type CalendarState, calendarAt, fitsWindow } from "../lib/release/gates/calendar.ts";
import { type Calendar, WindowsSchema } from "../lib/release/model/calendar.ts";
import { commitProject, fakeLedgers, githubCi } from "./support/approvals.ts";
import { treeDigest } from "./support/cli.ts";
import { FakeAlarms, FakeAlb, FakeClock, FakeMetrics, FakeTrafficHistory, steady } from "./support/fakes.ts";
import { problemsOf, tempProject } from "./support/project.ts";

const weekdays: Calendar = {
  windows: WindowsSchema.parse({
    timeZone: "Europe/Dublin",
    open: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00" }],
  }),
  freezes: [],
};
const at = (iso: string) => new Date(iso);
const open = (s: CalendarState) => (s.open ? s : expect.fail(`closed: ${s.reason}`));
const closed = (s: CalendarState) => (s.open ? expect.fail("open") : s);

describe("the calendar at a moment (pure)", () => {
  it("is open inside a window until it closes, closed outside with the next opening", () => {
    // 2026-11-23 is a Monday; Dublin is on UTC in winter.
    expect(open(calendarAt(weekdays, at("2026-11-23T10:00:00Z"))).closesAt).toEqual(at("2026-11-23T17:00:00Z"));
    const saturday = closed(calendarAt(weekdays, at("2026-11-28T12:00:00Z")));
    expect(saturday.reason).toContain("outside the release windows (mon,tue,wed,thu,fri 09:00-17:00 Europe/Dublin)");
    expect(saturday.nextOpening).toEqual(at("2026-11-30T09:00:00Z"));
    // Summer time: 09:00 in Dublin is 08:00 UTC.
    expect(closed(calendarAt(weekdays, at("2026-06-06T12:00:00Z"))).nextOpening).toEqual(at("2026-06-08T08:00:00Z"));
  });

  it("follows daylight saving: a window across the spring change is an hour shorter", () => {
    const ny: Calendar = {
      windows: WindowsSchema.parse({
        timeZone: "America/New_York",
        open: [{ days: ["sun"], from: "01:00", to: "04:00" }],
      }),
      freezes: [],
    };
    // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT. 01:00 EST = 06:00 UTC, 04:00 EDT = 08:00 UTC.
    const s = open(calendarAt(ny, at("2026-03-08T06:30:00Z")));
    expect(s.closesAt).toEqual(at("2026-03-08T08:00:00Z"));
  });

  it("runs an opening past midnight into the next day", () => {
    const nights: Calendar = {
      windows: WindowsSchema.parse({ timeZone: "UTC", open: [{ days: ["fri"], from: "22:00", to: "02:00" }] }),
      freezes: [],
    };
    expect(open(calendarAt(nights, at("2026-11-28T01:00:00Z"))).closesAt).toEqual(at("2026-11-28T02:00:00Z"));
    expect(calendarAt(nights, at("2026-11-28T02:00:00Z")).open).toBe(false);
  });

  it("a freeze closes a window with its reason; the next opening is after it", () => {
    const frozen: Calendar = {
      ...weekdays,
      freezes: [{ from: "2026-11-23T12:00:00Z", to: "2026-11-25T00:00:00Z", reason: "launch week" }],
    };
    expect(open(calendarAt(frozen, at("2026-11-23T10:00:00Z"))).closesAt).toEqual(at("2026-11-23T12:00:00Z"));
    const s = closed(calendarAt(frozen, at("2026-11-24T10:00:00Z")));
    expect(s.reason).toBe("frozen until 2026-11-25T00:00:00Z: launch week");
    expect(s.nextOpening).toEqual(at("2026-11-25T09:00:00Z"));
  });

  it("a rollout fits only when it ends before the window closes", () => {
    const now = at("2026-11-23T16:00:00Z");
    const s = calendarAt(weekdays, now);
    expect(fitsWindow(s, now, 3600)).toBe(true);
    expect(fitsWindow(s, now, 3601)).toBe(false);
    expect(calendarRefusal(weekdays, now, "dev: the rollout", 7200)).toMatch(
      /needs 120 min of bakes and pauses, and the window closes at 2026-11-23 17:00 Europe\/Dublin \(17:00 UTC\), in 60 min/,
    );
    expect(calendarRefusal({ freezes: [] }, now, "dev: the rollout", 1e9)).toBeUndefined();
  });

  it("break-glass needs one approval more than the policy", () => {
    expect(policyFor({ required: 2, from: [] }, { breakGlass: "sev1" }).required).toBe(3);
    expect(policyFor({ required: 0, from: [] }, { breakGlass: "sev1" }).required).toBe(1);
    expect(policyFor({ required: 2, from: [] }, {}).required).toBe(2);
  });
});

describe("the calendar in an environment file", () => {
  it("names the field and the rule: unknown time zone, a window that never opens, a freeze that ends first", () => {
    const problems = problemsOf({
      ...dev,
      name: "qa",
      release: {
        ...dev.release,
        windows: {
          timeZone: "Mars/Olympus",
          open: [
            { days: ["mon"], from: "09:00", to: "09:00" },
            { days: [], from: "10:00", to: "11:00" },
          ],
        },
        freezes: [{ from: "2026-12-24T00:00:00Z", to: "2026-12-20T00:00:00Z", reason: "holidays" }],
      },
    });
    expect(problems).toEqual([
      "qa: release.windows.timeZone is not a known IANA time zone (e.g. Europe/Dublin, UTC)",
      "qa: release.windows.open[0].to must differ from from (09:00): the window never opens",
      "qa: release.windows.open[1].days must name at least one day: a window without days never opens",
      "qa: release.freezes[0].to must be after from (2026-12-24T00:00:00Z)",
    ]);
  });
});

/** dev with two canary steps of 5 minutes and weekday windows (Dublin), 1.6.0 staged in green. */
function devHarness(calendar: string, o: { deploySeconds?: number; approvals?: number } = {}) {
  const dir = tempProject((d) => {
    const file = join(d, "environments/dev.ts");
    const text = readFileSync(file, "utf8")
      .replace(
        "canary: [{ percent: 100, bakeSeconds: 180 }],",
        `canary: [{ percent: 50, bakeSeconds: 300 }, { percent: 100, bakeSeconds: 300 }],\n${calendar}`,
      )
      .replace("  release: {", `  approvals: { required: ${o.approvals ?? 0}, from: [] },\n  release: {`);
    writeFileSync(file, text);
  });
  const lines: string[] = [];
  const deployed: string[][] = [];
  const alb = new FakeAlb();
  const clock = new FakeClock(Date.parse("2026-11-23T10:00:00Z"));
  const alarms = new FakeAlarms(
    Object.fromEntries((["blue", "green"] as const).flatMap((s) => slotAlarmNames("dev", s)).map((n) => [n, "OK"])),
  );
  const cw = new FakeMetrics();
  cw.traffic = steady();
  const sent: string[] = [];
  const ledgers = fakeLedgers();
  let who = "arn:aws:iam::123456789012:user/tester";
  const deps = (env: Record<string, string> = {}, github?: Deps["github"]): Deps => ({
    ...(github ? { github } : {}),
    approvalLedger: ledgers.of,
    identity: async (o) => ({
      account: o.account!.id,
      arn: who,
      userId: `AIDA${who.split("/").at(-1)!.toUpperCase()}`,
    }),
    cwd: dir,
    env: { ...process.env, USER: "tester", ...env },
    deployer: {
      deploy: async (stacks) => {
        deployed.push([...stacks]);
        clock.t += (o.deploySeconds ?? 0) * 1000; // a slow engine
        for (const s of stacks) if (s.endsWith("-traffic")) alb.deployFrom(dir, s.replace(/-traffic$/, ""));
      },
    },
    traffic: () => alb,
    metrics: () => cw,
    alarms: () => alarms,
    trafficHistory: () => new FakeTrafficHistory(),
    smoke: { fetch: async () => ({ status: 200, text: async () => "ok" }), sleep: async () => undefined },
    notifyFetch: async (_url, init) => {
      sent.push(String(init.body));
      return { status: 200, text: async () => "" };
    },
    progress: new PlainProgress((l) => lines.push(l), clock.now),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    clock,
    signal: new AbortController().signal,
    confirm: async () => false,
  });
  const run = (args: string[], env?: Record<string, string>) => main(["node", "envctl", ...args], deps(env));
  /** As `person` on a workstation (their STS identity; approvals in the ledger). */
  const as = (person: string, args: string[]) => {
    who = `arn:aws:iam::123456789012:user/${person}`;
    return run(args);
  };
  /** As a CI job of the project committed now, whose pull request `approvers` approved. */
  const runCi = (args: string[], approvers: string[]) => {
    const ci = githubCi(dir, { approvers });
    return main(["node", "envctl", ...args], deps(ci.env, ci.github));
  };
  return {
    dir,
    lines,
    deployed,
    alb,
    clock,
    run,
    runCi,
    as,
    ledger: () => ledgers.get("dev"),
    text: () => lines.join("\n"),
    release: () => JSON.parse(readFileSync(join(dir, "environments/releases/dev.json"), "utf8")),
    audit: () =>
      readFileSync(join(dir, "environments/releases/dev.audit.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
  };
}

const WEEKDAYS_DUBLIN = `    windows: { timeZone: "Europe/Dublin", open: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00" }] },`;

async function staged(calendar = WEEKDAYS_DUBLIN, o: { deploySeconds?: number } = {}) {
  const h = devHarness(calendar, o);
  expect(await h.run(["stage", "dev", "--version", "1.6.0"])).toBe(0);
  h.lines.length = 0;
  h.deployed.length = 0;
  return h;
}

describe("envctl with a fixed clock", () => {
  it("refuses a rollout outside a window and in a freeze, naming the next opening; nothing written or deployed", async () => {
    const h = await staged(
      `${WEEKDAYS_DUBLIN}\n    freezes: [{ from: "2026-11-24T00:00:00Z", to: "2026-11-26T00:00:00Z", reason: "launch week" }],`,
    );
    h.clock.t = Date.parse("2026-11-28T12:00:00Z"); // Saturday
    const before = treeDigest(h.dir);
    expect(await h.run(["rollout", "dev"])).toBe(1);
    expect(h.text()).toContain("dev: the rollout of green (1.6.0) refused: outside the release windows");
    expect(h.text()).toContain("next opening 2026-11-30 09:00 Europe/Dublin (09:00 UTC)");
    h.clock.t = Date.parse("2026-11-24T10:00:00Z"); // Tuesday, frozen
    expect(await h.run(["shift", "dev", "--to", "green", "--percent", "10"])).toBe(1);
    expect(h.text()).toContain(
      "refused: frozen until 2026-11-26T00:00:00Z: launch week; next opening 2026-11-26 09:00",
    );
    expect(treeDigest(h.dir)).toEqual(before);
    expect(h.deployed).toEqual([]);
  });

  it("refuses a rollout that could not finish before the window closes", async () => {
    const h = await staged();
    h.clock.t = Date.parse("2026-11-23T16:55:00Z");
    expect(await h.run(["rollout", "dev"])).toBe(1);
    expect(h.text()).toMatch(/needs 10 min of bakes and pauses, and the window closes at 2026-11-23 17:00 .*in 5 min/);
    expect(h.release().rollout).toBeNull();
  });

  it("holds at the window's end at its current weight, then resumes in the next window", async () => {
    // 10 minutes of bakes fit from 16:48; a slow deploy (3 min a step) pushes the second step past 17:00.
    const h = await staged(WEEKDAYS_DUBLIN, { deploySeconds: 180 });
    h.clock.t = Date.parse("2026-11-23T16:48:00Z");
    expect(await h.run(["rollout", "dev"])).toBe(0);
    expect(h.release().rollout).toMatchObject({ nextStep: 1 });
    expect(h.release().slots.green.weight).toBe(50);
    expect(h.text()).toContain(
      "dev: the rollout of green held at blue 50 / green 50: the next step's 300 s bake would end after the window " +
        "closes at 2026-11-23 17:00 Europe/Dublin (17:00 UTC); resume in the next window (2026-11-24 09:00",
    );
    expect(h.audit().at(-1)).toMatchObject({ outcome: "window-hold" });
    // Outside the window, resuming is refused; in the next one it finishes.
    expect(await h.run(["rollout", "dev"])).toBe(1);
    h.clock.t = Date.parse("2026-11-24T08:59:00Z");
    expect(await h.run(["schedule", "run"])).toBe(0);
    expect(h.release().rollout).toMatchObject({ nextStep: 1 });
    // The cron job resumes it once the window opens.
    h.clock.t = Date.parse("2026-11-24T09:00:00Z");
    expect(await h.run(["schedule", "run"])).toBe(0);
    expect(h.text()).toContain("dev: held resumed: its window opened");
    expect(h.release()).toMatchObject({ live: "green", rollout: null });
  });

  it("never blocks a rollback", async () => {
    const h = await staged();
    expect(await h.run(["shift", "dev", "--to", "green", "--percent", "100"])).toBe(0);
    h.clock.t = Date.parse("2026-11-28T23:00:00Z"); // Saturday night
    expect(await h.run(["rollback", "dev", "--yes"])).toBe(0);
    expect(h.release().slots.blue.weight).toBe(100);
  });

  it("break-glass: refused without the approvals plus one; with them, recorded in the history", async () => {
    const h = await staged();
    h.clock.t = Date.parse("2026-11-28T12:00:00Z");
    const shift = ["shift", "dev", "--to", "green", "--percent", "10", "--break-glass", "hotfix for the outage"];
    expect(await h.runCi(shift, [])).toBe(1);
    expect(h.text()).toMatch(/dev: change \S+ needs 1 approval/);
    const before = treeDigest(join(h.dir, "environments"));
    expect(await h.run(["shift", "dev", "--to", "green", "--percent", "10", "--break-glass", "short"])).toBe(1);
    expect(h.text()).toContain("--break-glass must say why in at least 10 characters");
    expect(treeDigest(join(h.dir, "environments"))).toEqual(before);
    expect(await h.runCi(shift, ["alice"])).toBe(0);
    expect(h.release().slots.green.weight).toBe(10);
    expect(h.audit().find((x) => x.kind === "break-glass")).toMatchObject({
      reason: "hotfix for the outage",
      refusal: expect.stringContaining("outside the release windows"),
    });
  });
});

describe("scheduled rollouts", () => {
  const DUE = "2026-11-23T11:00:00Z";

  it("refuses a time outside a window; lists what is scheduled with its duration and traffic", async () => {
    const h = devHarness(WEEKDAYS_DUBLIN);
    expect(await h.run(["schedule", "dev", "1.6.0", "--at", "2026-11-28T02:00:00Z"])).toBe(1);
    expect(h.text()).toContain("dev: a rollout at 2026-11-28T02:00:00.000Z refused: outside the release windows");
    expect(await h.run(["schedule", "dev", "1.6.0", "--at", "tonight"])).toBe(1);
    expect(h.text()).toContain("--at must be an ISO 8601 date-time with its offset");
    expect(await h.run(["schedule", "dev", "1.6.0", "--at", DUE])).toBe(0);
    h.lines.length = 0;
    expect(await h.run(["schedule", "list"])).toBe(0);
    expect(h.text()).toMatch(
      /s-[0-9a-f]{8} {2}dev {2}1\.6\.0 {2}2026-11-23 11:00 Europe\/Dublin \(11:00 UTC\) {2}scheduled {2}about 10 min, quietest hour 1000\.0 req\/s/,
    );
    h.lines.length = 0;
    expect(await h.run(["status", "dev"])).toBe(0);
    expect(h.text()).toContain(
      "calendar: open until 2026-11-23 17:00 Europe/Dublin (17:00 UTC); windows mon,tue,wed,thu,fri 09:00-17:00 Europe/Dublin",
    );
    expect(h.text()).toMatch(
      /scheduled s-[0-9a-f]{8}: 1\.6\.0 at 2026-11-23 11:00 Europe\/Dublin \(11:00 UTC\) \(about 10 min\)/,
    );
    // The report shows the same calendar view.
    const page = join(h.dir, "report.html");
    expect(await h.run(["report", "--html", page])).toBe(0);
    expect(readFileSync(page, "utf8")).toMatch(
      /Release calendar<\/div><div class="meta">calendar: open until 2026-11-23 17:00/,
    );
  });

  it("two overlapping runs start a due change exactly once", async () => {
    const h = devHarness(WEEKDAYS_DUBLIN);
    expect(await h.run(["schedule", "dev", "1.6.0", "--at", DUE])).toBe(0);
    h.clock.t = Date.parse(DUE) + 60_000;
    const [a, b] = await Promise.all([
      h.run(["schedule", "run", "--wait", "60"]),
      h.run(["schedule", "run", "--wait", "60"]),
    ]);
    expect([a, b]).toEqual([0, 0]);
    expect(h.release()).toMatchObject({ live: "green", rollout: null, slots: { green: { version: "1.6.0" } } });
    expect(h.audit().filter((x) => x.kind === "schedule-started")).toHaveLength(1);
    expect(h.audit().filter((x) => x.outcome === "rollout-started")).toHaveLength(1);
    const schedule = JSON.parse(readFileSync(join(h.dir, "environments/releases/dev.schedule.json"), "utf8"));
    expect(schedule.changes).toMatchObject([{ version: "1.6.0", state: "started" }]);
  });

  it("skips a change whose approvals are missing: recorded, nothing started, the run exits 3", async () => {
    const h = devHarness(WEEKDAYS_DUBLIN, { approvals: 1 });
    expect(await h.runCi(["schedule", "dev", "1.6.0", "--at", DUE], [])).toBe(0);
    expect(h.text()).toContain("its approvals are not complete yet");
    h.clock.t = Date.parse(DUE);
    const before = h.release();
    expect(await h.runCi(["schedule", "run"], [])).toBe(3);
    // Scheduled from CI, its author is not proven by the ledger: one approval more than the policy's 1.
    expect(h.text()).toMatch(/dev: s-[0-9a-f]{8} skipped: approvals missing: dev: change \S+ needs 2 approval/);
    expect(h.text()).toContain("a scheduled change is approved when it is scheduled");
    expect(h.release()).toEqual(before);
    expect(h.audit().find((x) => x.kind === "schedule-skipped")).toMatchObject({ version: "1.6.0" });
  });
  it("approved in the ledger when scheduled; the CI cron run that starts it has no review, and counts the ledger's approvals, never the author's own", async () => {
    const h = devHarness(WEEKDAYS_DUBLIN, { approvals: 1 });
    commitProject(h.dir);
    expect(await h.as("carol", ["schedule", "dev", "1.6.0", "--at", DUE])).toBe(0);
    expect(h.text()).toContain("its approvals are not complete yet");
    const id = /change ([0-9a-f]{16}) /.exec(h.text())![1]!;
    // The scheduler is recorded as its author, by the platform (under her own user id).
    expect(await h.ledger().authors(id)).toMatchObject([{ by: "arn:aws:iam::123456789012:user/carol" }]);
    expect(await h.as("carol", ["approve", "dev", id])).not.toBe(0);
    expect(await h.as("bob", ["approve", "dev", id])).toBe(0);
    h.clock.t = Date.parse(DUE);
    h.lines.length = 0;
    expect(await h.runCi(["schedule", "run"], []), h.text()).toBe(0);
    expect(h.text()).toMatch(/s-[0-9a-f]{8} \(1\.6\.0\) started/);
    expect(h.audit().find((x) => x.kind === "approval")).toMatchObject({
      changeId: id,
      author: "arn:aws:iam::123456789012:user/carol",
      approvers: ["arn:aws:iam::123456789012:user/bob"],
      source: "envctl approve",
    });
  });

  it("a scheduled change whose author the ledger does not prove needs one approval more when it starts", async () => {
    const h = devHarness(WEEKDAYS_DUBLIN, { approvals: 1 });
    // Scheduled from CI: no person's credentials, so no authorship record.
    expect(await h.runCi(["schedule", "dev", "1.6.0", "--at", DUE], [])).toBe(0);
    h.clock.t = Date.parse(DUE);
    const before = h.release();
    expect(await h.runCi(["schedule", "run"], ["bob"])).toBe(3);
    expect(h.text()).toMatch(
      /approvals missing: dev: change \S+ needs 2 approval\(s\); has 0.*no author is recorded in the ledger: one approval more than the policy's 1/s,
    );
    expect(h.release()).toEqual(before);
  });

  it("judges a scheduled start against the author the ledger proves, else with one approval more (pure)", () => {
    const u = (n: string) => `arn:aws:iam::123456789012:user/${n}`;
    const policy = { required: 1, from: [] };
    expect(judgeScheduledStart(policy, [u("carol")], [u("carol"), u("bob")])).toMatchObject({
      ok: true,
      counted: [u("bob")],
      author: u("carol"),
    });
    expect(judgeScheduledStart(policy, [u("carol")], [u("carol")]).ok).toBe(false);
    // Unproven: whoever wrote it, `required` others remain among two approvers.
    expect(judgeScheduledStart(policy, [], [u("carol"), u("bob")])).toMatchObject({
      ok: true,
      author: UNPROVEN_AUTHOR,
    });
    expect(judgeScheduledStart(policy, [], [u("bob")]).ok).toBe(false);
    expect(judgeScheduledStart(policy, [u("carol"), u("dan")], [u("bob")]).message).toContain(
      "the ledger records 2 authors",
    );
  });
});
