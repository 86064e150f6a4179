import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ReleaseSchema, otherSlot, type Release } from "../lib/config/release.ts";
import * as core from "../lib/release/core.ts";

const change: core.Change = { by: "tester", at: "2026-11-22T10:00:00.000Z", command: "test" };
const STEPS = [{ percent: 10, bakeSeconds: 0 }, { percent: 50, bakeSeconds: 0 }, { percent: 100, bakeSeconds: 0 }];

const initial: Release = ReleaseSchema.parse({
  environment: "prod",
  live: "blue",
  slots: { blue: { version: "1.0.0", weight: 100 }, green: { version: null, weight: 0 } },
});

type Cmd =
  | { kind: "promote"; version: string }
  | { kind: "shift"; to: "blue" | "green"; percent: number }
  | { kind: "start" }
  | { kind: "advance" }
  | { kind: "complete" }
  | { kind: "abort" }
  | { kind: "rollback" };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ kind: fc.constant("promote" as const), version: fc.constantFrom("1.1.0", "1.2.0", "2.0.0") }),
  fc.record({ kind: fc.constant("shift" as const), to: fc.constantFrom("blue" as const, "green" as const), percent: fc.integer({ min: 0, max: 100 }) }),
  fc.constant({ kind: "start" as const }),
  fc.constant({ kind: "advance" as const }),
  fc.constant({ kind: "complete" as const }),
  fc.constant({ kind: "abort" as const }),
  fc.constant({ kind: "rollback" as const }),
);

function apply(r: Release, c: Cmd): Release {
  switch (c.kind) {
    case "promote": return core.promote(r, c.version, change);
    case "shift": return core.shift(r, c.to, c.percent, change);
    case "start": return core.startRollout(r, STEPS, change);
    case "advance": return core.advanceRollout(r, change);
    case "complete": return core.completeRollout(r, change);
    case "abort": return core.abortRollout(r, change);
    case "rollback": return core.rollback(r, change);
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
    if (r.slots[s].weight > 0) expect(r.slots[s].version).not.toBeNull();
  }
  expect(r.slots[r.live].version).not.toBeNull();
  expect(ReleaseSchema.safeParse(r).success).toBe(true);
}

describe("release core properties", () => {
  it("any sequence keeps weights summing to 100 and traffic only on slots with versions", () => {
    fc.assert(fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
      run(cmds, (_b, _c, after) => invariants(after));
    }), { numRuns: 400 });
  });

  it("rollback restores the previous live slot at 100 %", () => {
    fc.assert(fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
      run(cmds, (before, c, after) => {
        if (c.kind !== "rollback") return;
        const canary = before.rollout !== null || before.slots[before.live].weight < 100;
        const expected = canary ? before.live : before.previousLive!;
        expect(after.live).toBe(expected);
        expect(after.slots[expected].weight).toBe(100);
        expect(after.slots[expected].version).toBe(before.slots[expected].version);
        expect(after.rollout).toBeNull();
      });
    }), { numRuns: 400 });
  });

  it("abort returns to the weights before the rollout started", () => {
    fc.assert(fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
      run(cmds, (before, c, after) => {
        if (c.kind !== "abort") return;
        expect({ blue: after.slots.blue.weight, green: after.slots.green.weight }).toEqual(before.rollout!.before);
        expect(after.live).toBe(before.live);
        expect(after.rollout).toBeNull();
      });
    }), { numRuns: 400 });
  });

  it("promotion only touches the idle slot and never moves traffic", () => {
    fc.assert(fc.property(fc.array(cmd, { maxLength: 30 }), (cmds) => {
      run(cmds, (before, c, after) => {
        if (c.kind !== "promote") return;
        expect(after.slots[before.live]).toEqual(before.slots[before.live]);
        expect(after.slots[otherSlot(before.live)]).toEqual({ version: c.version, weight: 0 });
        expect(after.history).toContain(c.version);
      });
    }), { numRuns: 300 });
  });

  it("refused commands leave the state unchanged (they throw before anything is built)", () => {
    const inRollout = core.startRollout(core.promote(initial, "1.1.0", change), STEPS, change);
    expect(() => core.promote(inRollout, "2.0.0", change)).toThrow(/rollout of green in progress/);
    expect(() => core.shift(inRollout, "green", 50, change)).toThrow(core.RefusedError);
    expect(() => core.shift(initial, "green", 10, change)).toThrow(/slot green has no version/);
    expect(() => core.rollback(initial, change)).toThrow(/nothing to roll back to/);
    expect(() => core.abortRollout(initial, change)).toThrow(/no rollout in progress/);
  });
});

describe("release core examples", () => {
  it("a full canary: promote, 10 → 50 → 100, complete, then rollback to the old version", () => {
    let r = core.promote(initial, "1.1.0", change);
    r = core.startRollout(r, STEPS, change);
    const weights: number[] = [];
    while (r.rollout!.nextStep < STEPS.length) {
      r = core.advanceRollout(r, change);
      weights.push(r.slots.green.weight);
    }
    expect(weights).toEqual([10, 50, 100]);
    r = core.completeRollout(r, change);
    expect(r).toMatchObject({ live: "green", previousLive: "blue", rollout: null });
    expect(r.slots.blue).toEqual({ version: "1.0.0", weight: 0 });
    r = core.rollback(r, change);
    expect(r).toMatchObject({ live: "blue", previousLive: "green", slots: { blue: { weight: 100 }, green: { weight: 0, version: "1.1.0" } } });
  });

  it("versionToPromote takes the live version, or one the source ran", () => {
    const source = core.promote(initial, "1.1.0", change);
    expect(core.versionToPromote(source)).toBe("1.0.0");
    expect(core.versionToPromote(source, "1.1.0")).toBe("1.1.0");
    expect(() => core.versionToPromote(source, "9.9.9")).toThrow(/never ran version 9.9.9/);
  });
});
