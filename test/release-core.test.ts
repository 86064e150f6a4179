import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as core from "../lib/release/core.ts";
import { parseRelease, type Release, ReleaseSchema, type RolloutStep } from "../lib/release/model/release.ts";
import { otherSlot, slotSettings, weightsOf } from "../lib/release/model/slots.ts";

const change: core.Change = { by: "tester", at: "2026-11-22T10:00:00.000Z", command: "test" };
const STEPS: RolloutStep[] = [
  { percent: 10, bakeSeconds: 0 },
  { pause: "manual" },
  { percent: 50, bakeSeconds: 0 },
  { pause: 60 },
  { percent: 100, bakeSeconds: 0 },
];
const EXTEND = { onInconclusive: "extend", maxExtensions: 2 } as const;

const initial: Release = parseRelease({
  environment: "prod",
  live: "blue",
  slots: { blue: { version: "1.0.0", weight: 100 }, green: { version: null, weight: 0 } },
});

const SETTINGS = [null, slotSettings({ SMTP_HOST: "smtp.a" }), slotSettings({ SMTP_HOST: "smtp.b", RETRIES: 3 })];

type Cmd =
  | { kind: "promote"; version: string; settings: number }
  | { kind: "shift"; to: "blue" | "green"; percent: number }
  | { kind: "start" }
  | { kind: "advance" }
  | { kind: "continue" }
  | { kind: "verdict"; status: "pass" | "fail" | "inconclusive" }
  | { kind: "complete" }
  | { kind: "abort" }
  | { kind: "rollback" };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    kind: fc.constant("promote" as const),
    version: fc.constantFrom("1.0.0", "1.1.0", "1.2.0", "2.0.0"),
    settings: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    kind: fc.constant("shift" as const),
    to: fc.constantFrom("blue" as const, "green" as const),
    percent: fc.integer({ min: 0, max: 100 }),
  }),
  fc.constant({ kind: "start" as const }),
  fc.constant({ kind: "advance" as const }),
  fc.constant({ kind: "continue" as const }),
  fc.record({
    kind: fc.constant("verdict" as const),
    status: fc.constantFrom("pass" as const, "fail" as const, "inconclusive" as const),
  }),
  fc.constant({ kind: "complete" as const }),
  fc.constant({ kind: "abort" as const }),
  fc.constant({ kind: "rollback" as const }),
);

function apply(r: Release, c: Cmd): Release {
  switch (c.kind) {
    case "promote":
      return core.promote(r, { version: c.version, settings: SETTINGS[c.settings] ?? null });
    case "shift":
      return core.shift(r, c.to, c.percent);
    case "start":
      return core.startRollout(r, STEPS, change);
    case "advance":
      return core.advanceRollout(r);
    case "continue":
      return core.continueRollout(r);
    case "verdict":
      return core.onVerdict(r, { status: c.status, reasons: [] }, EXTEND).release;
    case "complete":
      return core.completeRollout(r);
    case "abort":
      return core.abortRollout(r);
    case "rollback":
      return core.rollback(r);
  }
}

/** Runs a sequence, skipping refused commands (they must not change anything). */
function run(cmds: Cmd[], check: (before: Release, c: Cmd, after: Release) => void): Release {
  let r = initial;
  for (const c of cmds) {
    let next: Release;
    try {
      next = apply(r, c);
    } catch (err) {
      expect(err).toBeInstanceOf(core.RefusedError);
      continue;
    }
    check(r, c, next);
    r = next;
  }
  return r;
}

function invariants(r: Release): void {
  expect(r.slots.blue.weight + r.slots.green.weight).toBe(100);
  for (const s of ["blue", "green"] as const) {
    expect(Number.isInteger(r.slots[s].weight)).toBe(true);
    if (r.slots[s].weight > 0) {
      expect(r.slots[s].version).not.toBeNull();
      // every version with traffic is marked served
      expect(r.history.find((h) => h.version === r.slots[s].version)?.served).toBe(true);
    }
  }
  expect(r.slots[r.live].version).not.toBeNull();
  expect(ReleaseSchema.safeParse(r).success).toBe(true);
}

describe("release core properties", () => {
  it("any sequence keeps weights summing to 100, traffic only on slots with versions, served versions marked", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        run(cmds, (_b, _c, after) => invariants(after));
      }),
      { numRuns: 400 },
    );
  });

  it("a slot's version and settings never change while it serves traffic", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        run(cmds, (before, _c, after) => {
          for (const s of ["blue", "green"] as const) {
            if (before.slots[s].weight > 0 && after.slots[s].weight > 0) {
              expect(after.slots[s].version).toBe(before.slots[s].version);
              expect(after.slots[s].settings).toEqual(before.slots[s].settings);
            }
          }
        });
      }),
      { numRuns: 400 },
    );
  });

  it("rollback restores the previous live slot at 100 %", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        run(cmds, (before, c, after) => {
          if (c.kind !== "rollback") return;
          const expected = core.inCanary(before) ? before.live : before.previousLive!;
          expect(after.live).toBe(expected);
          expect(after.slots[expected].weight).toBe(100);
          expect(after.slots[expected].version).toBe(before.slots[expected].version);
          expect(after.slots[expected].settings).toEqual(before.slots[expected].settings);
          expect(after.rollout).toBeNull();
        });
      }),
      { numRuns: 400 },
    );
  });

  it("abort returns to the weights before the rollout started", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        run(cmds, (before, c, after) => {
          if (c.kind !== "abort") return;
          expect(weightsOf(after)).toEqual(before.rollout!.before);
          expect(after.live).toBe(before.live);
          expect(after.rollout).toBeNull();
        });
      }),
      { numRuns: 400 },
    );
  });

  it("a failed verdict always rolls back; an inconclusive one extends at most maxExtensions times", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        run(cmds, (before, c, after) => {
          if (c.kind !== "verdict") return;
          if (c.status === "fail")
            expect(after).toMatchObject({
              rollout: null,
              live: before.live,
              slots: { [before.live]: { weight: 100 } },
            });
          if (c.status === "inconclusive") {
            if (before.rollout!.extensions < EXTEND.maxExtensions)
              expect(after.rollout!.extensions).toBe(before.rollout!.extensions + 1);
            else expect(after.rollout).toBeNull();
          }
          if (c.status === "pass") expect(after.rollout!.extensions).toBe(0);
        });
      }),
      { numRuns: 400 },
    );
  });

  it("promotion only touches the idle slot and never moves traffic", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 30 }), (cmds) => {
        run(cmds, (before, c, after) => {
          if (c.kind !== "promote") return;
          expect(after.slots[before.live]).toEqual(before.slots[before.live]);
          const settings = SETTINGS[c.settings] ?? undefined;
          expect(after.slots[otherSlot(before.live)]).toEqual({
            version: c.version,
            weight: 0,
            ...(settings ? { settings } : {}),
          });
          expect(after.history.map((h) => h.version)).toContain(c.version);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("refused commands leave the state unchanged (they throw before anything is built)", () => {
    const inRollout = core.startRollout(core.promote(initial, { version: "1.1.0", settings: null }), STEPS, change);
    expect(() => core.promote(inRollout, { version: "2.0.0", settings: null })).toThrow(/rollout of green in progress/);
    expect(() => core.shift(inRollout, "green", 50)).toThrow(core.RefusedError);
    expect(() => core.shift(initial, "green", 10)).toThrow(/slot green has no version/);
    expect(() => core.rollback(initial)).toThrow(/nothing to roll back to/);
    expect(() => core.abortRollout(initial)).toThrow(/no rollout in progress/);
    expect(() => core.promote(initial, { version: "1.0.0", settings: null })).toThrow(/already runs 1.0.0/);
    expect(() => core.continueRollout(inRollout)).toThrow(/no rollout waiting at a pause/);
  });
});

describe("release core examples", () => {
  it("a full canary with pauses: 10 → pause → 50 → timed pause → 100, complete, then rollback to the old version", () => {
    let r = core.promote(initial, { version: "1.1.0", settings: null });
    r = core.startRollout(r, STEPS, change);
    const seen: string[] = [];
    while (r.rollout!.nextStep < STEPS.length) {
      if (r.rollout!.paused) {
        expect(() => core.advanceRollout(r)).toThrow(/waits at a manual pause/);
        r = core.continueRollout(r);
      }
      r = core.advanceRollout(r);
      seen.push(`${r.slots.green.weight}${r.rollout!.paused ? " paused" : ""}`);
    }
    expect(seen).toEqual(["10", "10 paused", "50", "50", "100"]);
    r = core.completeRollout(r);
    expect(r).toMatchObject({ live: "green", previousLive: "blue", rollout: null });
    expect(r.slots.blue).toEqual({ version: "1.0.0", weight: 0 });
    expect(r.history).toEqual([
      { version: "1.0.0", served: true },
      { version: "1.1.0", served: true },
    ]);
    r = core.rollback(r);
    expect(r).toMatchObject({
      live: "blue",
      previousLive: "green",
      slots: { blue: { weight: 100 }, green: { weight: 0, version: "1.1.0" } },
    });
  });

  it("a settings change of the same version is a new slot, canaried like a version", () => {
    const a = slotSettings({ SMTP_HOST: "smtp.old" });
    const b = slotSettings({ SMTP_HOST: "smtp.new" });
    let r = core.promote(initial, { version: "1.1.0", settings: a });
    r = core.completeRollout(core.advanceRollout(core.startRollout(r, [{ percent: 100, bakeSeconds: 0 }], change)));
    r = core.promote(r, { version: "1.1.0", settings: b });
    expect(r.slots.blue).toEqual({ version: "1.1.0", settings: b, weight: 0 });
    expect(r.slots.green).toEqual({ version: "1.1.0", settings: a, weight: 100 });
    expect(() => core.promote(r, { version: "1.1.0", settings: a })).toThrow(/already runs 1.1.0 with settings/);
    // rollback after the switch restores the previous settings with the previous slot
    r = core.completeRollout(core.advanceRollout(core.startRollout(r, [{ percent: 100, bakeSeconds: 0 }], change)));
    expect(core.rollback(r).slots.green).toEqual({ version: "1.1.0", settings: a, weight: 100 });
  });

  it("versionToPromote takes the live version, or one the source served — never one it only staged", () => {
    const source = core.promote(initial, { version: "1.1.0", settings: null, digest: `sha256:${"a".repeat(64)}` });
    expect(core.versionToPromote(source)).toEqual({ version: "1.0.0" });
    expect(() => core.versionToPromote(source, "1.1.0")).toThrow(/only staged version 1.1.0, it never served traffic/);
    expect(() => core.versionToPromote(source, "9.9.9")).toThrow(/never ran version 9.9.9 \(served there: 1.0.0\)/);
    const served = core.shift(source, "green", 10);
    expect(core.versionToPromote(served, "1.1.0")).toEqual({ version: "1.1.0", digest: `sha256:${"a".repeat(64)}` });
  });

  it("reads version 1 files: plain history strings are served versions, a slot version missing from history is added", () => {
    const v1 = parseRelease({
      environment: "dev",
      live: "blue",
      slots: { blue: { version: "1.5.0", weight: 100 }, green: { version: "1.6.0", weight: 0 } },
      history: ["1.4.0"],
      lastChange: { by: "someone", at: "2026-01-01T00:00:00.000Z", command: "envctl shift" },
    });
    expect(v1.history).toEqual([
      { version: "1.4.0", served: true },
      { version: "1.5.0", served: true },
      { version: "1.6.0", served: false },
    ]);
    expect(v1.lastChange).toMatchObject({ seq: 0, by: "someone", outcome: "recorded" });
  });

  it("the release schema cross-checks the rollout, the pending deploy and the history", () => {
    const base = {
      environment: "dev",
      live: "blue",
      slots: { blue: { version: "1.5.0", weight: 100 }, green: { version: "1.6.0", weight: 0 } },
    };
    const problems = (extra: object) => {
      const r = ReleaseSchema.safeParse({ ...base, ...extra });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    const rollout = {
      target: "green",
      steps: [{ percent: 100, bakeSeconds: 60 }],
      before: { blue: 100, green: 0 },
      startedAt: "2026-01-01T00:00:00.000Z",
    };
    expect(problems({ rollout: { ...rollout, nextStep: 5 } })).toEqual([
      "rollout.nextStep: is past the last step (5 > 1)",
    ]);
    expect(problems({ rollout: { ...rollout, nextStep: 0, before: { blue: 60, green: 30 } } })).toEqual([
      "rollout.before: must sum to 100 (blue 60 + green 30 = 90)",
    ]);
    expect(problems({ rollout: { ...rollout, nextStep: 0, target: "blue" } })).toEqual([
      "rollout.target: must be the idle slot, not the live slot blue",
    ]);
    const pending = { stacks: ["*"], command: "x", since: "2026-01-01T00:00:00.000Z", previous: base };
    expect(problems({ pending })).toEqual([
      'pending.stacks.0: "*" is not a stack of dev (dev, dev-traffic or dev-workloads)',
    ]);
    expect(problems({ pending: { ...pending, stacks: ["staging-traffic"] } })).toEqual([
      'pending.stacks.0: "staging-traffic" is not a stack of dev (dev, dev-traffic or dev-workloads)',
    ]);
    expect(
      problems({ pending: { ...pending, stacks: ["dev-traffic"], previous: { ...base, environment: "prod" } } }),
    ).toEqual(["pending.previous.environment: must be dev"]);
    expect(
      problems({
        history: [
          { version: "1.5.0", served: true },
          { version: "1.5.0", served: false },
        ],
      }),
    ).toEqual(["history.1.version: 1.5.0 is listed more than once"]);
    expect(
      problems({
        slots: {
          blue: { version: "1.5.0", weight: 100, settings: { checksum: "0000000000000000", values: { A: "b" } } },
          green: base.slots.green,
        },
      }),
    ).toEqual([expect.stringMatching(/^slots.blue.settings.checksum: does not match the values/)]);
  });
});
