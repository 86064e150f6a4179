/** What a --dry-run shows: the release-file diff and what the command would deploy or write. */
import { createTwoFilesPatch } from "diff";
import type { Context } from "./command-context.ts";
import type { Release } from "./model/release.ts";
import type { Weights } from "./model/slots.ts";
import { unrecordedEdit, unrecordedNote } from "./model/unrecorded.ts";
import type { TrafficPlan } from "./rollout/plan.ts";
import { releaseText } from "./store/release-file.ts";

/** What a --dry-run would do: the release-file diff and what it would deploy or write. */
export interface DryRunPlan {
  readonly environment: string;
  /** Unified diff of the release file (current → proposed). */
  readonly diff: string;
  /** Stacks it would deploy. */
  readonly deploy: readonly string[];
  readonly proposed: Release;
  /** In words: what it would do (the text a dry run prints after the diff). */
  readonly summary: string;
  /** A rollout's traffic plan (lib/release/rollout/plan.ts), or why there is none. */
  readonly trafficPlan?: TrafficPlan | { readonly error: string };
}

/** A dry run's result: to the `dryRun` receiver when there is one (--json), else printed. */
export function showDryRun(ctx: Context, plan: DryRunPlan): void {
  if (ctx.dryRun) ctx.dryRun(plan);
  else {
    if (plan.diff) ctx.out(plan.diff);
    ctx.out(plan.summary);
  }
}

/**
 * The dry run of a change that deploys `stacks` (after `first`, e.g. a direct write to the ALB),
 * or, with --no-deploy, only edits the file.
 */
export function showDeployDryRun(
  ctx: Context,
  c: {
    readonly env: string;
    readonly before: Release;
    readonly after: Release;
    readonly stacks: readonly string[];
    readonly first?: string;
    readonly labels?: [string, string];
  },
): void {
  const deploying = ctx.options.deploy && c.stacks.length > 0;
  showDryRun(ctx, {
    environment: c.env,
    diff: releaseDiff(c.env, c.before, c.after, c.labels),
    deploy: deploying ? [...c.stacks] : [],
    proposed: c.after,
    summary: !deploying
      ? "would deploy: nothing (--no-deploy)"
      : `would ${c.first ? `${c.first}, then deploy` : "deploy"}: ${c.stacks.join(" ")}`,
  });
}

export function releaseDiff(
  env: string,
  before: Release,
  after: Release,
  labels: [string, string] = ["current", "proposed"],
): string {
  const file = `environments/releases/${env}.json`;
  // An edit no record accounts for is part of what this change applies: it is said first.
  const edit = unrecordedEdit(before);
  const said = edit ? `# ${unrecordedNote(before, edit)}\n` : "";
  return said + createTwoFilesPatch(file, file, releaseText(before), releaseText(after), labels[0], labels[1]);
}

/** Weights as the messages show them: `blue 90 / green 10`. */
export function formatWeights(w: Weights): string {
  return `blue ${w.blue} / green ${w.green}`;
}
