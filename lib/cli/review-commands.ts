/** envctl commands for pipelines and reviewers: plan summaries, drift, previews, cost, changed stacks. */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { z } from "zod";
import { estimateMonthlyCost } from "../config/cost-estimate.ts";
import type { Project } from "../config/load.ts";
import { NameSchema } from "../config/schema.ts";
import { didYouMean, unknownEnvironmentMessage } from "../config/suggest.ts";
import { PRICES_AS_OF } from "../cost/prices.ts";
import { RefusedError } from "../release/model/errors.ts";
import { GITHUB_MATRIX_LIMIT } from "../review/batches.ts";
import { changedStacks, formatChangedStacks, withBatches } from "../review/changed-stacks.ts";
import { type PlanJson, planFileStack, summarize, toMarkdown } from "../review/plan-summary.ts";
import { createPreview, forgetPreview, listPreviews, previewStacks } from "../review/previews.ts";
import { intArg, parseArgs, TtlDaysArg } from "./args.ts";
import { type DriftDeps, registerDriftCommand } from "./commands/drift.ts";
import { EXIT } from "./exit-codes.ts";
import { examples } from "./help.ts";
import { UserError } from "./report.ts";

/** What drift needs (notifications and the production prompt of `drift --heal` included), and the project. */
export interface ReviewDeps extends DriftDeps {
  readonly load: () => Promise<Project>;
}

/** Exit codes of these commands (beside envctl's 0/1/4/5). */

const money = (n: number) => `$${n.toFixed(2)}`;
/**
 * A unit price with the precision the estimate computes with (2-4 decimals): 20 × $0.088 =
 * $1.76, never 20 × $0.09 = $1.76.
 */
export const unitMoney = (n: number) => `$${n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;

export function registerReviewCommands(program: Command, d: ReviewDeps): void {
  examples(
    program
      .command("plan-summary")
      .description("summarize engine plans (tofu show -json) for reviewers; the file name is the stack")
      .argument(
        "<plans...>",
        "plan JSON files, named <stack>.json (<stack>.destroy.json: a removed stack's destroy plan)",
      )
      .option("--json", "machine-readable output")
      .option("--fail-on <what>", "exit 6 when a stateful resource would be replaced or deleted ('stateful')")
      .option("--only <env>", "only this environment's stacks (must be a known environment)"),
    [
      ["envctl plan-summary plans/*.json > summary.md", "the pull request comment (Markdown)"],
      [
        "envctl plan-summary plans/*.json --fail-on stateful --only production",
        "the stateful guard: exit 6 on a production database replacement",
      ],
    ],
  ).action(async (files: string[], o: { json?: boolean; failOn?: string; only?: string }) => {
    const failOn = z.enum(["stateful"], { error: "must be 'stateful'" }).optional().safeParse(o.failOn);
    if (!failOn.success) throw new UserError(`plan-summary: --fail-on must be 'stateful'`);
    if (o.only !== undefined) {
      // A typo must not filter every stack out and so silently switch the guard off.
      const known = (await d.load()).environments.map((e) => e.config.name);
      if (!known.includes(o.only))
        throw new UserError(`plan-summary: --only: ${unknownEnvironmentMessage(o.only, known)}`);
    }
    const plans = files.map((f) => {
      let plan: PlanJson;
      try {
        plan = JSON.parse(readFileSync(f, "utf8")) as PlanJson;
      } catch (e) {
        throw new UserError(`${f}: not a readable JSON plan (${(e as Error).message})`);
      }
      return { ...planFileStack(f), plan };
    });
    const all = summarize(plans);
    const summary = o.only
      ? {
          stacks: all.stacks.filter((s) => s.environment === o.only),
          blocking: all.blocking.filter((b) => b.environment === o.only),
        }
      : all;
    d.out(o.json ? JSON.stringify(summary, null, 2) : toMarkdown(summary));
    if (failOn.data === "stateful" && summary.blocking.length > 0) {
      d.err(
        `blocked: stateful resources would be replaced or deleted:\n${summary.blocking.map((b) => `  - ${b.stack}: ${b.action} ${b.address}`).join("\n")}`,
      );
      d.setExit(EXIT.blocked);
    }
  });

  examples(
    program
      .command("cost")
      .description(`monthly cost estimate per environment (price table of ${PRICES_AS_OF})`)
      .argument("[env]", "one environment (default: all)")
      .option("--json", "machine-readable output"),
    [
      ["envctl cost", "every environment, line by line"],
      ["envctl cost production --json", "one environment, machine-readable"],
    ],
  ).action(async (name: string | undefined, o: { json?: boolean }) => {
    const project = await d.load();
    const envs = project.environments.filter((e) => !name || e.config.name === name);
    if (name && envs.length === 0)
      throw new RefusedError(
        unknownEnvironmentMessage(
          name,
          project.environments.map((e) => e.config.name),
        ),
      );
    const estimates = envs.map((e) => ({ environment: e.config.name, ...estimateMonthlyCost(e.config) }));
    if (o.json) return d.out(JSON.stringify(estimates, null, 2));
    d.out(
      `${estimates
        .map((e) =>
          [
            `${e.environment}: ${money(e.total)} / month`,
            ...e.lines.map(
              (l) =>
                `  ${l.item.padEnd(58)} ${String(l.quantity).padStart(6)} × ${unitMoney(l.unitMonthly).padStart(10)} = ${money(l.monthly).padStart(10)}`,
            ),
          ].join("\n"),
        )
        .join("\n\n")}\n\nprices as of ${PRICES_AS_OF}; estimates exclude data transfer, logs and metrics`,
    );
  });

  examples(
    program
      .command("changed-stacks")
      .description("stacks whose synthesized Terraform differs from a base revision: added, changed, removed")
      .requiredOption("--base <rev>", "git revision to compare with")
      .option(
        "--removed-out <dir>",
        "copy the base revision's synthesized removed stacks here (to plan their destruction)",
      )
      .option("--json", "machine-readable output: {stacks, added, changed, removed}; stacks = added + changed")
      .option(
        "--batches <n>",
        `also split them into at most n batches, one per CI matrix job (1-${GITHUB_MATRIX_LIMIT}): {batches, removedBatches}`,
      )
      .option("--parallel <n>", "stacks a batch's job plans or applies at once (1-32; with --batches)", "4"),
    [
      ["envctl changed-stacks --base origin/main", "+ added, ~ changed, - removed"],
      ["envctl changed-stacks --base origin/main --json --removed-out removed-stacks", "what the PR workflow plans"],
      ["envctl changed-stacks --base origin/main --json --batches 200", "the same in at most 200 matrix jobs"],
    ],
  ).action(async (o: { base: string; json?: boolean; removedOut?: string; batches?: string; parallel: string }) => {
    // Arguments before any work: a bad flag is reported at once.
    const args = parseArgs(
      "changed-stacks",
      { batches: intArg(1, GITHUB_MATRIX_LIMIT).optional(), parallel: intArg(1, 32) },
      { batches: o.batches, parallel: o.parallel },
    );
    const progress = d.progress();
    const result = await changedStacks(d.root(), o.base, {
      env: d.env,
      removedOut: o.removedOut,
      log: (l) => progress.info(l),
    });
    const batched =
      args.batches === undefined ? result : { ...result, ...withBatches(result, args.batches, args.parallel) };
    d.out(o.json ? JSON.stringify(batched) : formatChangedStacks(batched));
  });

  registerDriftCommand(program, d);

  const preview = examples(
    program
      .command("preview")
      .description("throw-away environments per pull request (a CIDR from 10.64.0.0/12, a TTL)"),
    [
      ["envctl preview create pr-42-login --ttl-days 3", "derive a preview from dev and deploy it"],
      ["envctl preview list --json", "every preview, machine-readable"],
      ["envctl preview gc", "destroy the expired ones"],
    ],
  );
  const deployFlags = (c: Command) =>
    c
      .option("--no-deploy", "only edit the files")
      .option("-y, --yes", "do not prompt (CI)")
      .option("--json", "machine-readable output");

  examples(
    deployFlags(
      preview
        .command("create")
        .description("add a preview derived from --base (or extend its expiry) and deploy it")
        .argument("<name>", "pr-<number>-<branch-slug>")
        .option("--base <env>", "environment the preview is derived from", "dev")
        .option("--ttl-days <n>", "days until `preview gc` destroys it", "7"),
    ),
    [
      ["envctl preview create pr-42-login", "from dev, expires in 7 days; safe to repeat on every push"],
      ["envctl preview create pr-42-login --no-deploy --json", "only write the registry, machine-readable"],
    ],
  ).action(async (name: string, o: { base: string; ttlDays: string; deploy: boolean; json?: boolean }) => {
    const args = parseArgs(
      "preview create",
      { ttlDays: TtlDaysArg, base: NameSchema },
      { ttlDays: o.ttlDays, base: o.base },
    );
    const root = d.root();
    const { preview: p, created } = await createPreview(root, name, {
      base: args.base,
      ttlDays: args.ttlDays,
      now: d.now(),
    });
    if (o.deploy)
      await d
        .progress()
        .step(`deploy ${previewStacks(name).join(" ")}`, (log) => d.deployer(root).deploy(previewStacks(name), log));
    d.out(
      o.json
        ? JSON.stringify({ ...p, created }, null, 2)
        : `${created ? "created" : "kept"} preview ${p.name}: ${p.cidr}, expires ${p.expiresAt}`,
    );
  });

  examples(
    deployFlags(
      preview
        .command("destroy")
        .description("destroy a preview's stacks and remove it from the registry")
        .argument("<name>", "the preview"),
    ),
    [["envctl preview destroy pr-42-login --yes", "destroy its stacks, then forget it"]],
  ).action(async (name: string, o: { deploy: boolean; json?: boolean }) => {
    const root = d.root();
    const names = listPreviews(root, d.now()).map((p) => p.name);
    if (!names.includes(name)) {
      const guess = didYouMean(name, names);
      throw new RefusedError(`no preview named ${name}${guess ? `: did you mean ${guess}?` : ""}`);
    }
    if (o.deploy) await destroyStacks(d, root, name);
    await forgetPreview(root, name);
    d.out(
      o.json ? JSON.stringify({ destroyed: [name], stacksDestroyed: o.deploy }, null, 2) : `destroyed preview ${name}`,
    );
  });

  examples(
    preview
      .command("list")
      .description("every preview with its CIDR, version and expiry")
      .option("--json", "machine-readable output"),
    [["envctl preview list", "one line per preview"]],
  ).action((o: { json?: boolean }) => {
    const list = listPreviews(d.root(), d.now());
    d.out(
      o.json
        ? JSON.stringify(list, null, 2)
        : list
            .map(
              (p) =>
                `${p.name.padEnd(32)} ${p.cidr.padEnd(15)} ${(p.version ?? "-").padEnd(10)} expires ${p.expiresAt}${p.expired ? " (expired)" : ""}`,
            )
            .join("\n") || "no previews",
    );
  });

  examples(deployFlags(preview.command("gc").description("destroy previews past their expiry")), [
    ["envctl preview gc --yes", "what preview-gc.yml runs daily"],
  ]).action(async (o: { deploy: boolean; json?: boolean }) => {
    const root = d.root();
    const expired = listPreviews(root, d.now()).filter((p) => p.expired);
    for (const p of expired) {
      if (o.deploy) await destroyStacks(d, root, p.name);
      await forgetPreview(root, p.name);
      if (!o.json) d.out(`destroyed expired preview ${p.name} (expired ${p.expiresAt})`);
    }
    if (o.json) d.out(JSON.stringify({ destroyed: expired.map((p) => p.name), stacksDestroyed: o.deploy }, null, 2));
    else if (expired.length === 0) d.out("no expired previews");
  });
}

async function destroyStacks(d: ReviewDeps, root: string, name: string): Promise<void> {
  const deployer = d.deployer(root);
  if (!deployer.destroy) throw new UserError("this deployer cannot destroy stacks");
  const stacks = [...previewStacks(name)].reverse();
  await d.progress().step(`destroy ${stacks.join(" ")}`, (log) => deployer.destroy!(stacks, log));
}
