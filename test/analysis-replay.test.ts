/**
 * `envctl analysis replay`: recorded rollouts and series files judged again with the environment's
 * settings and --set overrides. In process, against fakes of the ALB, CloudWatch and the clock.
 */
import { describe, expect, it } from "vitest";
import { harness, stagingWithCandidate } from "./support/analysis-harness.ts";
import { STACK_TRACE } from "./support/cli.ts";
import { steady } from "./support/fakes.ts";
import { generator } from "./support/rollout-sim.ts";

const line = (
  run: string,
  step: number,
  t: number,
  canary: [number, number, number?],
  stable: [number, number, number?],
) =>
  JSON.stringify({
    run,
    step,
    t,
    canary: { requests: canary[0], errors: canary[1], slow: canary[2] ?? 0 },
    stable: { requests: stable[0], errors: stable[1], slow: stable[2] ?? 0 },
  });

describe("envctl analysis replay", () => {
  it("re-judges a recorded rollout: the same verdicts as recorded; --set detect=10 changes the requirement", async () => {
    // 10 requests a second per slot: staging's 50 % step gets 3000 canary requests, fewer than a 2× detection needs
    const h = await stagingWithCandidate();
    h.cw.traffic = steady(10);
    expect(await h.run("rollout", "staging", "--ignore-plan")).toBe(3);
    const recorded = h.audit().filter((a) => a.analysis?.intervals);
    expect(recorded.map((a) => [a.outcome, a.analysis.verdict])).toEqual([["rolled-back", "inconclusive"]]);
    // a healthy one after it
    h.cw.traffic = steady();
    expect(await h.run("rollout", "staging")).toBe(0);
    const all = h.audit().filter((a) => a.analysis?.intervals);
    expect(all.map((a) => a.analysis.verdict)).toEqual(["inconclusive", "pass", "pass", "pass"]);

    expect(await h.run("analysis", "replay", "staging", "--json")).toBe(0);
    const lines = h.out.map((l) => JSON.parse(l));
    expect(lines.map((l) => Object.keys(l))).toEqual(all.map(() => ["run", "step", "verdict", "decidedAt", "reasons"]));
    expect(lines.map((l) => [l.run, l.step, l.verdict, l.decidedAt])).toEqual(
      all.map((a) => [
        `change ${a.seq} ${a.analysis.step === "watch" ? "watch" : `step ${a.analysis.step}`}`,
        a.analysis.step,
        a.analysis.verdict,
        a.analysis.intervals.at(-1).t,
      ]),
    );
    expect(lines[0].reasons).toEqual(all[0].analysis.reasons);

    expect(await h.run("analysis", "replay", "staging", "--set", "detect=10")).toBe(0);
    const text = h.out.join("\n");
    expect(text).toContain(
      "staging: 4 runs judged again with the environment's analysis settings (falseRollbackPercent 1, detect 2, powerPercent 95, minSuccessRatePercent 95, errorRateFloorPercent 0.1, warmupSeconds 60) and --set detect=10",
    );
    expect(text).toContain(
      `  change ${all[0].seq} step 0 (50 %): PASS at t = ${all[0].analysis.intervals.at(-1).t} s; recorded then: INCONCLUSIVE (${all[0].analysis.reasons[0]}) — differs`,
    );
    expect(text).toContain(
      `  change ${all[1].seq} step 0 (50 %): PASS at t = ${all[1].analysis.intervals.at(-1).t} s; recorded then: PASS`,
    );

    // --change: the rollout that change belongs to
    const started = h
      .audit()
      .filter((a) => a.outcome === "rollout-started")
      .map((a) => a.seq);
    expect(await h.run("analysis", "replay", "staging", "--change", String(started[0]), "--json")).toBe(0);
    expect(h.out.map((l) => JSON.parse(l).run)).toEqual([`change ${all[0].seq} step 0`]);
    expect(await h.run("analysis", "replay", "staging", "--change", String(all[2].seq), "--json")).toBe(0);
    expect(h.out.map((l) => JSON.parse(l).run)).toEqual(
      all.slice(1).map((a) => `change ${a.seq} ${a.analysis.step === "watch" ? "watch" : `step ${a.analysis.step}`}`),
    );
    expect(await h.run("analysis", "replay", "staging", "--change", "999")).toBe(1);
    expect(h.err.join("\n")).toMatch(/^error: staging: no change 999 in the history \(changes 1–\d+\)$/);
    expect(await h.run("analysis", "replay", "staging", "--change", "1")).toBe(1);
    expect(h.err.join("\n")).toContain(
      "staging: no analysis with recorded polls in change 1 (deploying), which is no part of a rollout: nothing to replay",
    );
  });

  it("--series: whole rollouts, one JSON line per run: completed, rolled back, pending", async () => {
    const h = harness();
    const healthy = [
      ...Array.from({ length: 10 }, (_, i) => line("healthy", 0, 30 * (i + 1), [1500, 15], [1500, 15])),
      ...Array.from({ length: 10 }, (_, i) => line("healthy", 1, 30 * (i + 1), [3000, 30], [0, 0])),
    ];
    const failing = [
      line("bad", 0, 30, [500, 0], [500, 0]),
      line("bad", 0, 60, [500, 40], [500, 0]),
      line("bad", 0, 90, [500, 40], [500, 0]),
    ];
    const short = [line("short", 1, 30, [100, 0], [0, 0])];
    h.write("polls.jsonl", `${[...healthy, ...failing, ...short].join("\n")}\n`);
    expect(await h.run("analysis", "replay", "staging", "--series", "polls.jsonl", "--json")).toBe(0);
    const lines = h.out.map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({ run: "healthy", verdict: "completed", step: 1, decidedAt: 300, reasons: [] });
    expect(Object.keys(lines[1])).toEqual(["run", "verdict", "step", "decidedAt", "reasons"]);
    expect(lines[1]).toMatchObject({ run: "bad", verdict: "rolled-back", step: 0, decidedAt: 90 });
    expect(lines[1].reasons[0]).toMatch(
      /^errors vs stable: evidence \S+ ≥ bound 286 \(this step: canary 80\/1500 5xx, stable 0\/1500\)/,
    );
    expect(lines[2]).toEqual({
      run: "short",
      verdict: "pending",
      step: 1,
      decidedAt: null,
      reasons: ["the series ends at t = 30 s of step 1, before its 300 s bake, without a decision"],
    });
    expect(await h.run("analysis", "replay", "staging", "--series", "polls.jsonl", "--set", "bakeSeconds=30")).toBe(0);
    expect(h.out.join("\n")).toMatch(
      / {2}run "short": INCONCLUSIVE in step 1 at t = 30 s: the canary's error rate is bounded by \S+ % \(95 % upper bound, its worst period at 100 % left out\), not below 2 × the 5 % limit/,
    );
  });

  it("--series of whole production rollouts (the watch as step 3): healthy ones complete, ×10 ones roll back in the first half of step 0", async () => {
    const h = harness();
    const g = generator(77);
    const runs = [
      ...Array.from({ length: 10 }, (_, i) =>
        g.rollout(`healthy-${i}`, { name: "h", rps: 100, base: 0.005, elb: 0.5 }),
      ),
      ...Array.from({ length: 10 }, (_, i) => g.rollout(`x10-${i}`, { name: "x10", rps: 100, base: 0.005, ratio: 10 })),
    ];
    h.write(
      "rollouts.jsonl",
      `${runs
        .flat()
        .map((l) => JSON.stringify(l))
        .join("\n")}\n`,
    );
    expect(await h.run("analysis", "replay", "production", "--series", "rollouts.jsonl", "--json")).toBe(0);
    const out = h.out.map((l) => JSON.parse(l));
    expect(out.slice(0, 10).map((r) => [r.verdict, r.step])).toEqual(
      Array.from({ length: 10 }, () => ["completed", 3]),
    );
    for (const r of out.slice(10)) expect([r.verdict, r.step, r.decidedAt <= 150]).toEqual(["rolled-back", 0, true]);
  });

  it("bad series input: every problem named by file and line, nothing judged, exit 1", async () => {
    const h = harness();
    const cases: [string, string[], RegExp][] = [
      [
        "unknown step",
        [line("r", 5, 30, [10, 0], [10, 0])],
        /^ {2}bad\.jsonl:1: step: no canary step 5: staging has 2 \(release\.canary\[0\]–\[1\]\) and the post-switch watch as step 2$/m,
      ],
      [
        "negative counts",
        [line("r", 0, 30, [-1, 0], [10, 0])],
        /^ {2}bad\.jsonl:1: canary\.requests: must not be negative$/m,
      ],
      [
        "response-time buckets without their edges",
        [
          JSON.stringify({
            ...JSON.parse(line("r", 0, 30, [10, 0], [10, 0])),
            canary: { requests: 10, errors: 0, latency: [9, 1] },
          }),
        ],
        /^ {2}bad\.jsonl:1: canary\.latency: needs buckets \(the edges\) on the line$/m,
      ],
      [
        "t out of order",
        [line("r", 0, 60, [10, 0], [10, 0]), line("r", 0, 30, [10, 0], [10, 0])],
        /^ {2}bad\.jsonl:2: t: 30 is not after 60 \(line 1\): a step's lines must come in time order$/m,
      ],
      ["not JSON", ["{oops"], /^ {2}bad\.jsonl:1: not JSON \(/m],
    ];
    for (const [what, lines, problem] of cases) {
      h.write("bad.jsonl", lines.join("\n"));
      expect(await h.run("analysis", "replay", "staging", "--series", "bad.jsonl", "--json"), what).toBe(1);
      expect(h.out, what).toEqual([]);
      expect(h.err.join("\n"), what).toMatch(
        /^error: analysis replay staging: bad\.jsonl is not a valid series \(1 problem\), nothing was judged:\n/,
      );
      expect(h.err.join("\n"), what).toMatch(problem);
    }
    // all at once (one run per case)
    h.write("bad.jsonl", cases.flatMap(([, l], k) => l.map((x) => x.replace('"run":"r"', `"run":"r${k}"`))).join("\n"));
    expect(await h.run("analysis", "replay", "staging", "--series", "bad.jsonl")).toBe(1);
    expect(h.err.join("\n")).toContain("is not a valid series (5 problems)");
    expect(
      h.err
        .join("\n")
        .split("\n")
        .slice(1)
        .map((l) => /^ {2}bad\.jsonl:(\d+): /.exec(l)?.[1]),
    ).toEqual(["1", "2", "3", "5", "6"]);
    expect(await h.run("analysis", "replay", "staging", "--series", "missing.jsonl")).toBe(1);
    expect(h.err.join("\n")).toBe("error: analysis replay: --series missing.jsonl: no such file");
    expect(h.text()).not.toMatch(STACK_TRACE);
  });

  it("--set: keys and values checked against the analysis policy's rules, all at once; nothing judged", async () => {
    const h = harness();
    expect(
      await h.run(
        "analysis",
        "replay",
        "staging",
        "--set",
        "detect=1",
        "--set",
        "minRequests=20",
        "--set",
        "enforce.errors=maybe",
        "--set",
        "bakeSeconds=1.5",
        "--set",
        "powerPercent",
        "--set",
        "detect=3",
      ),
    ).toBe(1);
    const text = h.err.join("\n");
    expect(text).toContain("error: invalid arguments:");
    expect(text).toContain("analysis replay: --set detect must be ≥ 1.1");
    expect(text).toContain(
      "analysis replay: --set minRequests is not a setting the judge replays with (keys: falseRollbackPercent, detect, powerPercent, minSuccessRatePercent, errorRateFloorPercent, warmupSeconds, enforce.errors, enforce.latency, enforce.evidence, bakeSeconds)",
    );
    expect(text).toContain("analysis replay: --set enforce.errors must be true or false");
    expect(text).toContain("analysis replay: --set bakeSeconds must be a whole number");
    expect(text).toContain("analysis replay: --set powerPercent must be key=value");
    expect(text).toContain("analysis replay: --set detect is set more than once");
    expect(h.out).toEqual([]);
    expect(await h.run("analysis", "replay", "staging", "--change", "2", "--series", "x.jsonl")).toBe(1);
    expect(h.err.join("\n")).toContain("--change and --series exclude each other");
  });
});
