/** The pipelines' batching of changed stacks into matrix jobs (lib/review/batches.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { batchStacks, GITHUB_MATRIX_LIMIT, groupByEnvironment, phaseOf } from "../lib/review/batches.ts";
import { formatChangedStacks, withBatches } from "../lib/review/changed-stacks.ts";
import { sandbox } from "./support/envctl.ts";

/** The stacks of `n` environments (every third on EKS), their accounts' bootstraps and global. */
function estateStacks(n: number): string[] {
  const envs = Array.from({ length: n }, (_, i) => `env-${String(i).padStart(4, "0")}`);
  return [
    ...envs.flatMap((e, i) => [e, `${e}-traffic`, ...(i % 3 === 0 ? [`${e}-workloads`] : [])]),
    ...envs.slice(0, 20).map((_, i) => `bootstrap-${String(100000000000 + i)}`),
    "global",
  ];
}

describe("batches of changed stacks for a CI matrix", () => {
  it("fits 1,000+ changed stacks into GitHub's 256 jobs, every stack once, an environment's stacks together in apply order", () => {
    const stacks = estateStacks(450); // 450 + 450 + 150 + 20 + 1 = 1,071 stacks
    expect(stacks.length).toBeGreaterThan(1000);
    const batches = batchStacks(stacks, { batches: GITHUB_MATRIX_LIMIT, parallel: 4 });
    expect(batches.length).toBeLessThanOrEqual(GITHUB_MATRIX_LIMIT);
    expect(batches.flatMap((b) => b.stacks).sort()).toEqual([...stacks].sort());
    for (const b of batches) {
      expect(b.stacks.every((s) => phaseOf(s) === b.phase)).toBe(true);
      for (const [i, s] of b.stacks.entries()) {
        // apply order: <env>, <env>-workloads (EKS), <env>-traffic
        if (s.endsWith("-workloads")) expect(b.stacks[i - 1]).toBe(s.slice(0, -"-workloads".length));
        if (s.endsWith("-traffic")) {
          const env = s.slice(0, -"-traffic".length);
          expect([env, `${env}-workloads`]).toContain(b.stacks[i - 1]);
        }
      }
    }
    expect(batches.filter((b) => b.phase === "global")).toEqual([
      { id: "global-1", phase: "global", stacks: ["global"] },
    ]);
    // balanced: environment batches differ by at most one environment's stacks (3)
    const sizes = batches.filter((b) => b.phase === "environments").map((b) => b.stacks.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(3);
    expect(new Set(batches.map((b) => b.id)).size).toBe(batches.length);
  });

  it("a few stacks make a few batches; one batch per phase is the least", () => {
    expect(batchStacks(["dev-traffic", "dev", "global"], { batches: 10, parallel: 2 })).toEqual([
      { id: "environments-1", phase: "environments", stacks: ["dev", "dev-traffic"] },
      { id: "global-1", phase: "global", stacks: ["global"] },
    ]);
    expect(batchStacks([], { batches: 1, parallel: 1 })).toEqual([]);
    expect(() => batchStacks(["bootstrap-111111111111", "dev", "global"], { batches: 2, parallel: 1 })).toThrow(
      "3 phases need at least 3 batches (given 2)",
    );
    expect(() => batchStacks(["dev"], { batches: 257, parallel: 1 })).toThrow(/at most 256/);
  });

  it("groups a traffic stack with its environment only when that environment's stack is listed", () => {
    expect(groupByEnvironment(["a-traffic", "b", "b-workloads", "b-traffic"])).toEqual([
      ["a-traffic"],
      ["b", "b-workloads", "b-traffic"],
    ]);
  });

  it("property: never more batches than asked, never a stack lost or repeated", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 3, max: 256 }), (n, batches) => {
        const stacks = estateStacks(n).filter((s) => n > 0 || s === "global");
        const out = batchStacks(stacks, { batches, parallel: 4 });
        expect(out.length).toBeLessThanOrEqual(batches);
        expect(out.flatMap((b) => b.stacks).sort()).toEqual([...stacks].sort());
        expect(out.every((b) => b.stacks.length > 0)).toBe(true);
      }),
      { numRuns: 60, seed: 33 },
    );
  });

  it("changed-stacks prints the batches after the stacks, destroy batches apart", () => {
    const c = {
      stacks: ["dev", "dev-traffic"],
      added: [],
      changed: ["dev", "dev-traffic"],
      removed: ["qa", "qa-traffic"],
    };
    const batched = { ...c, ...withBatches(c, 5, 3) };
    expect(batched.removedBatches).toEqual([
      { id: "environments-1", phase: "environments", stacks: ["qa", "qa-traffic"] },
    ]);
    expect(formatChangedStacks(batched)).toBe(
      [
        "~ dev (changed)",
        "~ dev-traffic (changed)",
        "- qa (removed: destroyed on apply)",
        "- qa-traffic (removed: destroyed on apply)",
        "batches, 3 stacks at a time per job:",
        "  environments-1 (2): dev, dev-traffic",
        "  destroy environments-1 (2): qa, qa-traffic",
      ].join("\n"),
    );
  });

  it("envctl changed-stacks refuses a bad --batches or --parallel before doing anything", async () => {
    const s = sandbox();
    const r = await s.run(["changed-stacks", "--base", "main", "--batches", "300", "--parallel", "0"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("changed-stacks: --batches must be 1-256 (a whole number in decimal digits)");
    expect(r.stderr).toContain("changed-stacks: --parallel must be 1-32 (a whole number in decimal digits)");
    expect(r.stderr).not.toMatch(/revision|working tree/);
  });
});
