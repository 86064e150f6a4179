/** envctl commands for pipelines and reviewers: plan summaries, drift, previews, cost, changed stacks. */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import type { Project } from "../config/load.ts";
import { estimateMonthlyCost } from "../cost/estimate.ts";
import { PRICES_AS_OF } from "../cost/prices.ts";
import type { Deployer } from "../deploy/runner.ts";
import { RefusedError } from "../release/core.ts";
import { changedStacks } from "../review/changed-stacks.ts";
import { detectDrift, driftStacks, formatDrift } from "../review/drift.ts";
import { summarize, toMarkdown, type PlanJson } from "../review/plan-summary.ts";
import { createPreview, forgetPreview, listPreviews, previewStacks } from "../review/previews.ts";
import type { Progress } from "./progress.ts";
import { NameSchema } from "../config/schema.ts";
import { parseArgs, TtlDaysArg } from "./args.ts";
import { UserError } from "./report.ts";

export interface ReviewDeps {
  readonly load: () => Promise<Project>;
  readonly root: () => string;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly setExit: (code: number) => void;
  readonly deployer: (root: string) => Deployer;
  readonly progress: () => Progress;
  readonly now: () => Date;
}

/** Exit codes of these commands (beside envctl's 0/1/4/5). */
export const REVIEW_EXIT = { drift: 2, blocked: 6 } as const;

const money = (n: number) => `$${n.toFixed(2)}`;

export function registerReviewCommands(program: Command, d: ReviewDeps): void {
  program.command("plan-summary")
    .description("summarize engine plans (tofu show -json) for reviewers; the file name is the stack")
    .argument("<plans...>", "plan JSON files, named <stack>.json")
    .option("--json", "machine-readable output")
    .option("--fail-on <what>", "exit 6 when a stateful resource would be replaced or deleted ('stateful')")
    .option("--only <env>", "only this environment's stacks")
    .action((files: string[], o: { json?: boolean; failOn?: string; only?: string }) => {
      const failOn = z.enum(["stateful"], { error: "must be 'stateful'" }).optional().safeParse(o.failOn);
      if (!failOn.success) throw new UserError(`plan-summary: --fail-on must be 'stateful'`);
      const plans = files.map((f) => {
        let plan: PlanJson;
        try {
          plan = JSON.parse(readFileSync(f, "utf8")) as PlanJson;
        } catch (e) {
          throw new UserError(`${f}: not a readable JSON plan (${(e as Error).message})`);
        }
        return { stack: basename(f).replace(/\.json$/, "").replace(/\.plan$/, ""), plan };
      });
      const all = summarize(plans);
      const summary = o.only ? { stacks: all.stacks.filter((s) => s.environment === o.only), blocking: all.blocking.filter((b) => b.environment === o.only) } : all;
      d.out(o.json ? JSON.stringify(summary, null, 2) : toMarkdown(summary));
      if (failOn.data === "stateful" && summary.blocking.length > 0) {
        d.err(`blocked: stateful resources would be replaced or deleted:\n${summary.blocking.map((b) => `  - ${b.stack}: ${b.action} ${b.address}`).join("\n")}`);
        d.setExit(REVIEW_EXIT.blocked);
      }
    });

  program.command("cost")
    .description(`monthly cost estimate per environment (price table of ${PRICES_AS_OF})`)
    .argument("[env]", "one environment (default: all)")
    .option("--json", "machine-readable output")
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const project = await d.load();
      const envs = project.environments.filter((e) => !name || e.config.name === name);
      if (name && envs.length === 0) throw new RefusedError(`unknown environment ${name}`);
      const estimates = envs.map((e) => ({ environment: e.config.name, ...estimateMonthlyCost(e.config) }));
      if (o.json) return d.out(JSON.stringify(estimates, null, 2));
      d.out(estimates.map((e) => [
        `${e.environment}: ${money(e.total)} / month`,
        ...e.lines.map((l) => `  ${l.item.padEnd(58)} ${String(l.quantity).padStart(6)} × ${money(l.unitMonthly).padStart(9)} = ${money(l.monthly).padStart(10)}`),
      ].join("\n")).join("\n\n") + `\n\nprices as of ${PRICES_AS_OF}; estimates exclude data transfer, logs and metrics`);
    });

  program.command("changed-stacks")
    .description("stacks whose synthesized Terraform differs from a base revision")
    .requiredOption("--base <rev>", "git revision to compare with")
    .option("--json", "machine-readable output")
    .action((o: { base: string; json?: boolean }) => {
      const stacks = changedStacks(d.root(), o.base, d.env);
      d.out(o.json ? JSON.stringify(stacks) : stacks.join("\n"));
    });

  program.command("drift")
    .description("plan every stack refresh-only and report drift (exit 2 when anything drifted)")
    .argument("[env]", "one environment (default: every one but previews)")
    .option("--json", "machine-readable output")
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const root = d.root();
      const { synthesizeProject } = await import("../stacks/synth.ts"); // every construct: loaded only here
      const project = await synthesizeProject(root, d.env);
      const results = await detectDrift(root, driftStacks(project.environments, name));
      d.out(o.json ? JSON.stringify(results, null, 2) : formatDrift(results));
      if (results.some((r) => r.status === "drifted")) d.setExit(REVIEW_EXIT.drift);
    });

  const preview = program.command("preview").description("throw-away environments per pull request");
  const deployFlags = (c: Command) => c.option("--no-deploy", "only edit the files").option("-y, --yes", "do not prompt (CI)").option("--json", "machine-readable output");

  deployFlags(preview.command("create").argument("<name>", "pr-<number>-<branch-slug>")
    .option("--base <env>", "environment the preview is derived from", "dev")
    .option("--ttl-days <n>", "days until `preview gc` destroys it", "7"))
    .action(async (name: string, o: { base: string; ttlDays: string; deploy: boolean; json?: boolean }) => {
      const args = parseArgs("preview create", { ttlDays: TtlDaysArg, base: NameSchema }, { ttlDays: o.ttlDays, base: o.base });
      const root = d.root();
      const { preview: p, created } = await createPreview(root, name, { base: args.base, ttlDays: args.ttlDays, now: d.now() });
      if (o.deploy) await d.progress().step(`deploy ${previewStacks(name).join(" ")}`, (log) => d.deployer(root).deploy(previewStacks(name), log));
      d.out(o.json ? JSON.stringify({ ...p, created }, null, 2) : `${created ? "created" : "kept"} preview ${p.name}: ${p.cidr}, expires ${p.expiresAt}`);
    });

  deployFlags(preview.command("destroy").argument("<name>"))
    .action(async (name: string, o: { deploy: boolean }) => {
      const root = d.root();
      if (!listPreviews(root, d.now()).some((p) => p.name === name)) throw new RefusedError(`no preview named ${name}`);
      if (o.deploy) await destroyStacks(d, root, name);
      await forgetPreview(root, name);
      d.out(`destroyed preview ${name}`);
    });

  preview.command("list").option("--json", "machine-readable output").action((o: { json?: boolean }) => {
    const list = listPreviews(d.root(), d.now());
    d.out(o.json ? JSON.stringify(list, null, 2) : list.map((p) => `${p.name.padEnd(32)} ${p.cidr.padEnd(15)} ${(p.version ?? "-").padEnd(10)} expires ${p.expiresAt}${p.expired ? " (expired)" : ""}`).join("\n") || "no previews");
  });

  deployFlags(preview.command("gc").description("destroy previews past their expiry"))
    .action(async (o: { deploy: boolean }) => {
      const root = d.root();
      const expired = listPreviews(root, d.now()).filter((p) => p.expired);
      for (const p of expired) {
        if (o.deploy) await destroyStacks(d, root, p.name);
        await forgetPreview(root, p.name);
        d.out(`destroyed expired preview ${p.name} (expired ${p.expiresAt})`);
      }
      if (expired.length === 0) d.out("no expired previews");
    });
}

async function destroyStacks(d: ReviewDeps, root: string, name: string): Promise<void> {
  const deployer = d.deployer(root);
  if (!deployer.destroy) throw new UserError("this deployer cannot destroy stacks");
  const stacks = [...previewStacks(name)].reverse();
  await d.progress().step(`destroy ${stacks.join(" ")}`, (log) => deployer.destroy!(stacks, log));
}
