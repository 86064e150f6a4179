/**
 * `envctl analysis plan <env>`: the traffic plan of the environment's rollout (lib/release/rollout/plan.ts).
 * `envctl analysis replay <env>`: recorded analyses or a series file re-judged with the environment's
 * settings, overridden with `--set` (lib/release/judge/replay.ts, lib/release/judge/replay-runs.ts).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../../config/errors.ts";
import {
  judgeRun,
  parseSeries,
  type ReplayResult,
  type RolloutResult,
  replaySeries,
} from "../../release/judge/replay.ts";
import {
  lastWeightStep,
  parseOverrides,
  REPLAY_KEYS,
  type ReplayOverrides,
  recordedRuns,
  recordedStep,
  replaySettings,
  seriesSteps,
} from "../../release/judge/replay-runs.ts";
import type { StepContext } from "../../release/judge/sequential.ts";
import { RefusedError } from "../../release/model/errors.ts";
import type { Analysis } from "../../release/model/policy.ts";
import { formatPlan, trafficPlan } from "../../release/rollout/plan.ts";
import { readAudit } from "../../release/store/index.ts";
import { ErrorRateArg, intArg, parseArgs, RpsArg } from "../args.ts";
import { examples } from "../help.ts";
import { UserError } from "../report.ts";
import type { Shell } from "../shell.ts";

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function registerAnalysisCommands(program: Command, shell: Shell): void {
  const { out } = shell;
  const analysis = examples(
    program
      .command("analysis")
      .description(
        "the canary judge outside a rollout: the traffic plan of an environment's rollout, and recorded or given polls judged again with other settings",
      ),
    [
      ["envctl analysis plan production", "can each canary step reach a verdict with the traffic it gets?"],
      ["envctl analysis replay staging --set detect=3", "the recorded rollouts judged again with another setting"],
    ],
  );

  examples(
    analysis
      .command("plan")
      .argument("<env>", "environment whose rollout is planned")
      .description(
        "per canary step: the canary requests it expects, the requests a pass needs and what for, " +
          "the smallest regression it detects, the time to a pass and to failing a `detect` regression, and the fix for a step that cannot reach a verdict",
      )
      .option(
        "--rps <n>",
        "requests per second of the load balancer (default: the quietest hour of its last 7 days " +
          "among the hours of the day the rollout would run in, from CloudWatch)",
      )
      .option(
        "--error-rate <percent>",
        "the stable error rate (default: target 5xx per request of the last 7 days; never below errorRateFloorPercent)",
      )
      .option("--json", "machine-readable output"),
    [
      ["envctl analysis plan production", "from the load balancer's last 7 days in CloudWatch"],
      ["envctl analysis plan staging --rps 20", "with a rate you know"],
      ["envctl analysis plan staging --rps 20 --error-rate 0.5 --json", "no AWS call, machine-readable"],
    ],
  ).action(async (name: string, o: { rps?: string; errorRate?: string; json?: boolean }) => {
    const args = parseArgs(
      "analysis plan",
      { rps: RpsArg.optional(), errorRate: ErrorRateArg.optional() },
      { rps: o.rps, errorRate: o.errorRate },
    );
    const ctx = await shell.context({ json: o.json }, `analysis plan ${name}`, [name]);
    const plan = await trafficPlan(ctx, ctx.environments.get(name), {
      rps: args.rps,
      errorRatePercent: args.errorRate,
    });
    const { environment, rps, rpsSource, baseErrorRatePercent, baseErrorRateSource, steps } = plan;
    out(
      o.json
        ? JSON.stringify({ environment, rps, rpsSource, baseErrorRatePercent, baseErrorRateSource, steps }, null, 2)
        : formatPlan(plan).join("\n"),
    );
  });

  examples(
    analysis
      .command("replay")
      .argument("<env>", "environment whose settings judge")
      .description(
        "judge again, poll by poll, the analyses recorded in the environment's history (or one " +
          "rollout's: --change), or a JSON Lines series (--series), with the environment's analysis " +
          "settings changed by --set; prints each run's verdict and when it would have come",
      )
      .option(
        "--change <n>",
        "only the rollout change <n> belongs to (from its rollout-started record to the record that ended it; a change outside a rollout: its own analysis)",
      )
      .option(
        "--series <file>",
        "a JSON Lines series of whole rollouts instead of the history: {run, step, t, canary: " +
          "{requests, errors, slow, latency}, stable: {...}, lb: {errors}, buckets} per line; step " +
          "is the index in release.canary (0 = the first; one past the last: the post-switch watch)",
      )
      .option("--set <key=value>", `a setting for the judge, repeatable: ${REPLAY_KEYS.join(", ")}`, collect)
      .option(
        "--json",
        "one JSON object per line and run: {run, verdict, step, decidedAt, reasons} (a series: verdict completed, rolled-back, inconclusive or pending)",
      ),
    [
      ["envctl analysis replay staging", "every recorded analysis, judged again as it is set now"],
      [
        "envctl analysis replay production --change 42 --set detect=3",
        "one rollout, with another regression to detect",
      ],
      [
        "envctl analysis replay staging --series polls.jsonl --set enforce.latency=false --json",
        "a series file, latency observe-only",
      ],
    ],
  ).action(async (name: string, o: { change?: string; series?: string; set?: string[]; json?: boolean }) => {
    const args = parseArgs(
      "analysis replay",
      { change: intArg(0, 1_000_000_000).optional(), series: z.string().min(1, "must name a file").optional() },
      { change: o.change, series: o.series },
    );
    if (args.change !== undefined && args.series !== undefined)
      throw new UserError(
        "analysis replay: --change and --series exclude each other: replay the history (or one rollout of it) or a series file",
      );
    const { overrides, problems } = parseOverrides(o.set ?? []);
    if (problems.length > 0)
      throw new ConfigError(
        problems.map((p) => ({ subject: "analysis replay", path: `--set ${p.key}`, message: p.message })),
        "invalid arguments",
      );
    const ctx = await shell.context({ json: o.json }, `analysis replay ${name}`, [name]);
    const e = ctx.environments.get(name);
    const a = e.release.analysis;
    const settings = replaySettings(a, overrides);
    if (args.series !== undefined) {
      const lookup = seriesSteps(name, e.release.canary, a, overrides);
      const parsed = parseSeries(readSeries(args.series, shell.deps.cwd ?? process.cwd()), args.series, lookup);
      if (parsed.problems.length > 0)
        throw new UserError(
          `analysis replay ${name}: ${args.series} is not a valid series ` +
            `(${parsed.problems.length} problem${parsed.problems.length === 1 ? "" : "s"}), nothing ` +
            `was judged:\n${parsed.problems.map((p) => `  ${p}`).join("\n")}`,
        );
      if (parsed.lines.length === 0)
        throw new UserError(`analysis replay ${name}: ${args.series} holds no line to judge`);
      const rollouts = replaySeries(
        parsed.lines,
        (k) => lookup(k) as StepContext,
        settings,
        lastWeightStep(e.release.canary),
      );
      if (o.json) {
        for (const r of rollouts)
          out(
            JSON.stringify({
              run: r.run,
              verdict: r.verdict,
              step: r.step,
              decidedAt: r.decidedAt,
              reasons: r.reasons,
            }),
          );
        return;
      }
      const head = `${name}: ${rollouts.length} rollout${rollouts.length === 1 ? "" : "s"} judged again with ${describeSettings(a, overrides)}`;
      out([head, ...rollouts.map(rolloutLine)].join("\n"));
      return;
    }
    const runs = recordedRuns(readAudit(ctx.project.root, name), args.change);
    if (typeof runs === "string") throw new RefusedError(`${name}: ${runs}`);
    const results = runs.map((run) => {
      const step = recordedStep(run, e.release.canary, a, overrides);
      return {
        ...judgeRun(run.id, step, run.intervals, settings),
        percent: step.percent,
        recorded: { verdict: run.record.verdict, reasons: run.record.reasons },
      };
    });
    if (o.json) {
      for (const r of results)
        out(
          JSON.stringify({ run: r.run, step: r.step, verdict: r.verdict, decidedAt: r.decidedAt, reasons: r.reasons }),
        );
      return;
    }
    out(
      [
        `${name}: ${results.length} run${results.length === 1 ? "" : "s"} judged again with ${describeSettings(a, overrides)}`,
        ...results.map(resultLine),
      ].join("\n"),
    );
  });
}

/** A replayed rollout as the terminal shows it. */
function rolloutLine(r: RolloutResult): string {
  const when = r.decidedAt === null ? "" : ` at t = ${r.decidedAt} s`;
  const why = r.reasons.length ? `: ${r.reasons.join("; ")}` : "";
  const observed = r.observed.length ? `; observe-only: ${r.observed.join("; ")}` : "";
  const notes = r.notes.length ? `; inputs: ${r.notes.slice(-5).join("; ")}` : "";
  return `  run ${JSON.stringify(r.run)}: ${r.verdict.toUpperCase()} in step ${r.step}${when}${why}${observed}${notes}`;
}

/** The series file's text; a clear error naming it when it cannot be read. */
function readSeries(file: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, file), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (err as Error).message;
    throw new UserError(`analysis replay: --series ${file}: ${why}`);
  }
}

function describeSettings(a: Analysis, o: ReplayOverrides): string {
  const enforce = { ...a.enforce, ...o.enforce };
  const base =
    `falseRollbackPercent ${a.falseRollbackPercent}, detect ` +
    `${a.detect}, powerPercent ${a.powerPercent}, minSuccessRatePercent ` +
    `${a.minSuccessRatePercent}, errorRateFloorPercent ${a.errorRateFloorPercent}, warmupSeconds ${a.warmupSeconds}`;
  const observeOnly = (["errors", "latency", "evidence"] as const).filter((c) => !enforce[c]);
  const set = [
    ...Object.entries(o.analysis).map(([k, v]) => `${k}=${v}`),
    ...Object.entries(o.enforce).map(([k, v]) => `enforce.${k}=${v}`),
    ...(o.bakeSeconds === undefined ? [] : [`bakeSeconds=${o.bakeSeconds}`]),
  ];
  return (
    `the environment's analysis settings ` +
    `(${base}${observeOnly.length ? `; observe-only: ${observeOnly.join(", ")}` : ""})${set.length ? ` and --set ${set.join(" ")}` : ""}`
  );
}

function resultLine(
  r: ReplayResult & { percent: number; recorded?: { verdict: string; reasons: readonly string[] } },
): string {
  const where = `${r.run.startsWith("change ") ? r.run : `run ${JSON.stringify(r.run)} ${r.step === "watch" ? "watch" : `step ${r.step}`}`} (${r.percent} %)`;
  const when = r.decidedAt === null ? "" : ` at t = ${r.decidedAt} s`;
  const why = r.reasons.length ? `: ${r.reasons.join("; ")}` : "";
  const then = r.recorded
    ? `; recorded then: ${r.recorded.verdict.toUpperCase()}${
        r.recorded.verdict === r.verdict ? "" : ` (${r.recorded.reasons.join("; " + "") || "no reasons"}) — differs`
      }`
    : "";
  const observed = r.observed.length ? `; observe-only: ${r.observed.join("; ")}` : "";
  return `  ${where}: ${r.verdict.toUpperCase()}${when}${why}${then}${observed}`;
}
