/**
 * Mitigations move traffic only to what production served before (lib/release/served.ts), through
 * envctl's own main() with the fakes of the ALB and the deployer: `rollback` and `abort` target the
 * slot and version the history (the audit log) records as serving, the release file must agree
 * with that history, and the ALB must serve a split the history knows. A hand-edited file, a record
 * forged into the file, or an unknown split stops them: exit 1, the ALB not written, the file and
 * its history untouched. They still never wait for approvals (production needs two for anything else).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { type ChangeRecord, summarize } from "../lib/release/model/records.ts";
import { parseRelease, type Release } from "../lib/release/model/release.ts";
import { refuseUnserved } from "../lib/release/served.ts";
import { readLoggedAudit } from "../lib/release/store/index.ts";
import { FakeAlb, FakeClock } from "./support/fakes.ts";
import { tempProject } from "./support/project.ts";

const ENV = "production";

/**
 * production with a history: record 1 switched traffic from green (1.3.0, which served) to blue
 * (1.4.2), green keeping 1.3.0 for rollback. The release file carries that record, as envctl writes it.
 */
function productionWithHistory() {
  const dir = tempProject((d) => {
    const file = join(d, "environments/releases", `${ENV}.json`);
    const before = parseRelease({
      ...JSON.parse(readFileSync(file, "utf8")),
      live: "green",
      slots: { blue: { version: "1.4.2", weight: 0 }, green: { version: "1.3.0", weight: 100 } },
      previousLive: null,
      history: [
        { version: "1.3.0", served: true },
        { version: "1.4.2", served: false },
      ],
    });
    const after: Release = {
      ...before,
      live: "blue",
      previousLive: "green",
      slots: { blue: { version: "1.4.2", weight: 100 }, green: { version: "1.3.0", weight: 0 } },
      history: [
        { version: "1.3.0", served: true },
        { version: "1.4.2", served: true },
      ],
    };
    const record: ChangeRecord = {
      seq: 1,
      by: "dana",
      at: "2026-11-21T09:00:00.000Z",
      command: "envctl rollout production",
      outcome: "deployed",
      from: summarize(before),
      to: summarize(after),
    };
    writeFileSync(file, `${JSON.stringify({ ...after, lastChange: record }, null, 2)}\n`);
    writeFileSync(
      join(d, "environments/releases", `${ENV}.audit.jsonl`),
      `${JSON.stringify({ environment: ENV, ...record })}\n`,
    );
  });
  const lines: string[] = [];
  const alb = new FakeAlb();
  const deployed: string[][] = [];
  const clock = new FakeClock();
  const deps: Deps = {
    cwd: dir,
    // A workstation with nobody's approvals: production needs two for any change but a mitigation.
    env: { ...process.env, CI: "", GITHUB_ACTIONS: "", USER: "mallory" },
    deployer: {
      deploy: async (stacks) => {
        deployed.push([...stacks]);
        for (const s of stacks) if (s.endsWith("-traffic")) alb.deployFrom(dir, s.replace(/-traffic$/, ""));
      },
    },
    traffic: () => alb,
    progress: new PlainProgress((l) => lines.push(l), clock.now),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    clock,
  };
  const file = join(dir, "environments/releases", `${ENV}.json`);
  const audit = join(dir, "environments/releases", `${ENV}.audit.jsonl`);
  const state = () => ({
    file: readFileSync(file, "utf8"),
    audit: existsSync(audit) ? readFileSync(audit, "utf8") : "",
    alb: alb.writes.length,
  });
  return {
    dir,
    alb,
    deployed,
    run: (...args: string[]) => {
      lines.length = 0;
      return main(["node", "envctl", ...args, "--yes"], deps);
    },
    text: () => lines.join("\n"),
    release: () => JSON.parse(readFileSync(file, "utf8")),
    edit: (f: (r: any) => void) => {
      const r = JSON.parse(readFileSync(file, "utf8"));
      f(r);
      writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    },
    state,
    /** Runs a mitigation that must be refused: exit 1, a message, nothing moved or written. */
    async refused(command: string, message: string | RegExp) {
      const before = state();
      expect(await this.run(command, ENV)).toBe(1);
      if (typeof message === "string") expect(this.text()).toContain(message);
      else expect(this.text()).toMatch(message);
      expect(this.text()).toContain("nothing was moved");
      expect(this.text()).not.toMatch(/\n\s+at /);
      expect(state()).toEqual(before);
      expect(this.deployed).toEqual([]);
    },
  };
}

describe("mitigations move traffic only to what the history records as served", () => {
  it("a rollback to the slot and version that served before: at once, without approvals", async () => {
    const h = productionWithHistory();
    expect(await h.run("rollback", ENV)).toBe(0);
    expect(h.alb.writes[0]).toEqual({ by: "direct", weights: { blue: 0, green: 100 } });
    expect(h.release()).toMatchObject({ live: "green", slots: { green: { version: "1.3.0", weight: 100 } } });
  });

  it("a hand-edited file that puts an unreviewed version where the rollback goes is refused: the ALB is not written", async () => {
    const h = productionWithHistory();
    h.edit((r) => {
      r.slots.green.version = "6.6.6";
      r.history.push({ version: "6.6.6", served: true });
    });
    await h.refused(
      "rollback",
      "production: environments/releases/production.json (live blue; blue 1.4.2 @100, green 6.6.6 @0, record 1) differs from what its history last recorded (record 1, 'envctl rollout production' by dana at 2026-11-21T09:00:00.000Z: live blue; blue 1.4.2 @100, green 1.3.0 @0): the file was changed outside envctl; nothing was moved. Restore the file from git ('git checkout -- environments/releases/production.json')",
    );
  });

  it("the issue's attack: an unreviewed version put live at 100 % in the file, then a rollback: refused", async () => {
    const h = productionWithHistory();
    h.edit((r) => {
      r.live = "green";
      r.previousLive = "blue";
      r.slots.green = { version: "6.6.6", weight: 100 };
      r.slots.blue.weight = 0;
    });
    await h.refused("rollback", /differs from what its history last recorded/);
    await h.refused("abort", /differs from what its history last recorded/);
    expect(h.alb.weights).toEqual({ blue: 100, green: 0 });
  });

  it("a record forged into the file (the next seq, as after a crash) does not make a version served", async () => {
    const h = productionWithHistory();
    h.edit((r) => {
      r.slots.green.version = "6.6.6";
      const state = summarize(parseRelease({ ...r, lastChange: null }));
      r.lastChange = {
        ...r.lastChange,
        seq: 2,
        command: "envctl stage production",
        outcome: "edited",
        from: r.lastChange.to,
        to: state,
      };
    });
    await h.refused(
      "rollback",
      "production: the target green holds 6.6.6 in environments/releases/production.json, but its history last recorded green with 1.3.0; nothing was moved",
    );
  });

  it("an ALB serving a split the history never recorded stops the mitigation, with the way forward", async () => {
    const h = productionWithHistory();
    h.alb.weights = { blue: 30, green: 70 };
    await h.refused(
      "rollback",
      "production: the ALB serves blue 30 / green 70, which neither environments/releases/production.json (blue 100 / green 0) nor its history ever recorded: a rollout running from another checkout, or a hand change of the listener rule; nothing was moved. Find who moved it",
    );
    await h.refused("abort", "the ALB serves blue 30 / green 70, which neither");
    expect(h.text()).toContain("'envctl shift production --to blue --percent 100' deploys the release file's weights");
  });

  it("an ALB that cannot be read: the history and the file are still checked, and said so", async () => {
    const h = productionWithHistory();
    h.alb.failReads = true;
    h.edit((r) => {
      r.slots.green.version = "6.6.6";
    });
    await h.refused(
      "rollback",
      /could not read the ALB's listener rule \(connect ECONNREFUSED 127\.0\.0\.1:1\); checking the target against the history and the release file only[\s\S]*differs from what its history last recorded/,
    );
  });

  it("a split the history recorded (a deploy interrupted midway) is restored to the file's state", async () => {
    const h = productionWithHistory();
    h.alb.weights = { blue: 0, green: 100 }; // the state record 1 started from
    expect(await h.run("rollback", ENV)).toBe(0);
    expect(h.alb.writes[0]).toEqual({ by: "direct", weights: { blue: 100, green: 0 } });
  });

  it("without any history nothing proves what served: refused", async () => {
    const h = productionWithHistory();
    writeFileSync(join(h.dir, "environments/releases", `${ENV}.audit.jsonl`), "");
    h.edit((r) => {
      r.lastChange = null;
    });
    await h.refused(
      "rollback",
      "production: its history (environments/releases/production.audit.jsonl) records no change, so nothing proves what it served",
    );
  });

  it("pure: each slot given traffic must have served its version in a logged state; a torn or foreign line vouches for nothing", () => {
    const h = productionWithHistory();
    const file = parseRelease(h.release());
    const logged = readFileSync(join(h.dir, "environments/releases", `${ENV}.audit.jsonl`), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(refuseUnserved({ env: ENV, file, logged, target: { blue: 0, green: 100 } })).toBeUndefined();
    expect(
      refuseUnserved({ env: ENV, file, logged, target: { blue: 0, green: 100 }, observed: { blue: 100, green: 0 } }),
    ).toBeUndefined();
    // green served 1.3.0 only in the state record 1 started from: without that record, nothing vouches for it.
    const rewritten = [{ ...logged[0], from: logged[0].to }];
    expect(refuseUnserved({ env: ENV, file, logged: rewritten, target: { blue: 0, green: 100 } })).toMatch(
      /green \(1\.3\.0\) never served traffic here/,
    );
    // A malformed record and a torn last line are left out of what vouches (the log alone, each line validated).
    appendFileSync(
      join(h.dir, "environments/releases", `${ENV}.audit.jsonl`),
      '{"environment":"production","seq":2,"to":{}}\n{"torn',
    );
    expect(readLoggedAudit(h.dir, ENV).map((r) => r.seq)).toEqual([1]);
  });
});
