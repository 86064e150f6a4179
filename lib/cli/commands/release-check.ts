/**
 * `envctl release-check --base <rev>`: what the release files of this change do against a git
 * revision, for pipelines. The PR check fails on a change that moves traffic onto a slot whose
 * version changes in the same change; deploy.yml reads `slots` to snapshot production before it
 * applies a promotion.
 */
import { execFileSync } from "node:child_process";
import type { Command } from "commander";
import { z } from "zod";
import { compareReleases, type ReleaseChange } from "../../release/changes.ts";
import { schemaChangeProblems } from "../../release/gates/schema.ts";
import { parseRelease, type Release } from "../../release/model/release.ts";
import { EXIT } from "../exit-codes.ts";
import { UserError } from "../report.ts";

export interface ReleaseCheckDeps {
  readonly root: () => string;
  readonly load: () => Promise<{ environments: readonly { config: { name: string }; release: Release }[] }>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly setExit: (code: number) => void;
}

/** The release file of `env` at `rev`, or null when it did not exist there. */
function releaseAt(root: string, rev: string, env: string): Release | null {
  let text: string;
  try {
    text = execFileSync("git", ["show", `${rev}:environments/releases/${env}.json`], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? "");
    if (/does not exist in|exists on disk, but not in/.test(stderr)) return null;
    throw new UserError(
      `release-check: cannot read environments/releases/${env}.json at ${rev}: ${stderr.trim().split("\n")[0] || (err as Error).message}`,
    );
  }
  try {
    return parseRelease(JSON.parse(text));
  } catch {
    throw new UserError(`release-check: environments/releases/${env}.json at ${rev} is not a valid release file`);
  }
}

export function registerReleaseCheck(program: Command, d: ReleaseCheckDeps): void {
  program
    .command("release-check")
    .description(
      "what this change does to the release files against a base revision; fails when traffic moves " +
        "onto a slot whose version changes in the same change, or onto a slot whose schema range excludes the database's schema",
    )
    .requiredOption("--base <rev>", "git revision to compare with (e.g. origin/main)")
    .option("--only <env>", "only this environment")
    .option("--json", "machine-readable output")
    .action(async (o: { base: string; only?: string; json?: boolean }) => {
      const base = z
        .string()
        .regex(/^[A-Za-z0-9_./~^@{}-]{1,200}$/, "must be a git revision")
        .safeParse(o.base);
      if (!base.success) throw new UserError(`release-check: --base ${base.error.issues[0]!.message}`);
      const root = d.root();
      try {
        execFileSync("git", ["rev-parse", "--verify", "--quiet", `${base.data}^{commit}`], {
          cwd: root,
          stdio: "ignore",
        });
      } catch {
        throw new UserError(`release-check: --base ${base.data} is not a commit of this repository`);
      }
      const project = await d.load();
      const envs = project.environments.filter((e) => !o.only || e.config.name === o.only);
      if (o.only && envs.length === 0) throw new UserError(`release-check: unknown environment ${o.only}`);
      const bases = new Map(envs.map((e) => [e.config.name, releaseAt(root, base.data, e.config.name)]));
      const changes: ReleaseChange[] = envs.map((e) => compareReleases(bases.get(e.config.name)!, e.release));
      const schemaProblems = envs.flatMap((e) => schemaChangeProblems(bases.get(e.config.name)!, e.release));
      const changed = changes.filter((c) => c.added || c.slots.length > 0 || c.weights);
      if (o.json) d.out(JSON.stringify(changed, null, 2));
      else
        d.out(
          changed.length === 0
            ? "no release changes"
            : changed
                .map((c) =>
                  [
                    `${c.environment}:${c.added ? " new environment" : ""}`,
                    ...c.slots.map(
                      (s) => `  ${s.slot}: ${s.from ?? "empty"} → ${s.to ?? "empty"} (${s.what.join(", ")})`,
                    ),
                    ...(c.weights
                      ? [
                          `  weights: blue ${c.weights.from.blue} → ${c.weights.to.blue}, green ${c.weights.from.green} → ${c.weights.to.green}`,
                        ]
                      : []),
                  ].join("\n"),
                )
                .join("\n"),
        );
      const problems = changes.flatMap((c) => c.problems);
      if (problems.length > 0) {
        d.err(
          `refused: ${problems.length === 1 ? "a release change mixes" : "release changes mix"} a ` +
            `new version with traffic:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
        d.setExit(EXIT.invalid);
      }
      if (schemaProblems.length > 0) {
        d.err(
          `refused: ${schemaProblems.length === 1 ? "a release change breaks" : "release changes break"} the ` +
            `database's expand/contract rules (README "Database changes"):\n${schemaProblems.map((p) => `  - ${p}`).join("\n")}`,
        );
        d.setExit(EXIT.invalid);
      }
    });
}
