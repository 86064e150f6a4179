/**
 * Where envctl takes what an approval judgement needs, and only there:
 *
 * - in CI (GITHUB_ACTIONS=true), the approvers of this run and commit, read from GitHub's API by
 *   envctl itself (lib/review/github-approvals.ts), in a checkout of exactly that commit;
 * - never from environment variables: ENVSTACK_APPROVED_BY and ENVSTACK_CHANGE_AUTHOR (what an
 *   earlier envctl took from CI) are refused wherever they are set, since anyone can set them;
 * - the committed versions of an environment's file (git HEAD and origin/main), whose policy a
 *   change in the working tree may not weaken without those policies' approvals;
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadProject } from "../config/load.ts";
import type { PolicySource } from "../release/gates/approvals.ts";
import { RefusedError } from "../release/model/errors.ts";
import { type GithubFetch, githubRun, readGithubApprovals } from "../review/github-approvals.ts";

/** Refuses when a variable that once carried approvers is set: envctl never takes approvers from the environment. */
export function refuseApproverVariables(env: NodeJS.ProcessEnv, name: string): void {
  const set = ["ENVSTACK_APPROVED_BY", "ENVSTACK_CHANGE_AUTHOR"].filter((k) => env[k] !== undefined && env[k] !== "");
  if (set.length === 0) return;
  throw new RefusedError(
    `${name}: ${set.join(" and ")} ${set.length > 1 ? "are" : "is"} set, but envctl never takes approvers or authors from environment variables ` +
      `(anyone can set them); nothing was changed. In CI envctl reads the approvals from GitHub itself; on a workstation each approver runs 'envctl ` +
      `approve'. Unset ${set.join(" and ")}`,
  );
}

function git(root: string, args: string[], input?: Buffer): Buffer {
  return execFileSync("git", ["-C", root, ...args], {
    stdio: [input ? "pipe" : "ignore", "pipe", "pipe"],
    ...(input ? { input } : {}),
    maxBuffer: 256 * 1024 * 1024,
  });
}

function gitText(root: string, args: string[]): string | undefined {
  try {
    return git(root, args).toString("utf8").trim();
  } catch {
    return undefined;
  }
}

/** The commit the checkout at `root` is at, and whether files other than the release files differ from it; undefined outside git. */
export function checkoutOf(root: string): { commit: string; dirty: string[] } | undefined {
  const commit = gitText(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
  if (!commit) return undefined;
  const status =
    gitText(root, ["status", "--porcelain", "--untracked-files=no", "--", ".", ":!environments/releases"]) ?? "?";
  return { commit, dirty: status.split("\n").filter(Boolean) };
}

/**
 * The approvers GitHub knows for this run and commit, after checking that the job is a GitHub
 * Actions job (its variables and token), that GitHub vouches for the run (this repository, this
 * commit, still running) and that the checkout is that commit, unmodified. Every failure refuses:
 * GITHUB_ACTIONS=true on a workstation finds no run, no token, or another checkout.
 */
export async function githubApprovalsOfRun(
  name: string,
  env: NodeJS.ProcessEnv,
  fetch: GithubFetch,
  root: string,
): Promise<{ author: string; approvers: string[]; sources: readonly string[] }> {
  const notCi = (why: string) =>
    new RefusedError(
      `${name}: GITHUB_ACTIONS=true, but ${why}; nothing was changed. envctl reads CI's approvals from GitHub for the run and commit it applies; on a ` +
        `workstation, unset GITHUB_ACTIONS and have each approver run 'envctl approve'`,
    );
  let sha: string;
  try {
    sha = githubRun(env).sha;
  } catch (err) {
    throw notCi(`this is no GitHub Actions job: it ${(err as Error).message}`);
  }
  const checkout = checkoutOf(root);
  if (!checkout) throw notCi(`${root} is not a git checkout: which commit it holds cannot be told`);
  if (checkout.commit !== sha) throw notCi(`the checkout is at ${checkout.commit}, not at the run's commit ${sha}`);
  if (checkout.dirty.length > 0)
    throw notCi(
      `the checkout differs from the run's commit ${sha.slice(0, 12)} (${checkout.dirty.slice(0, 5).join("; ")})`,
    );
  let found: Awaited<ReturnType<typeof readGithubApprovals>>;
  try {
    found = await readGithubApprovals(name, env, fetch);
  } catch (err) {
    throw notCi(`GitHub does not vouch for it: ${(err as Error).message}`);
  }
  // The actor who started the run never approves it either (GitHub's "prevent self-review").
  const approvers = found.approvers.filter((a) => a.toLowerCase() !== found.actor.toLowerCase());
  return { author: found.author, approvers, sources: found.sources };
}

/**
 * The environment's policy in each committed version the working tree may differ from: git HEAD
 * and origin/main (when they exist and their environments/ differ from the working tree's).
 * Outside a git checkout there is none (docs/operations/threat-model.md). A committed file that
 * cannot be read refuses: its policy cannot be ignored.
 */
export async function committedPolicies(root: string, name: string): Promise<{ ref: string; source: PolicySource }[]> {
  const top = gitText(root, ["rev-parse", "--show-toplevel"]);
  if (!top) return [];
  const dir = relative(top, root) || ".";
  const envDir = dir === "." ? "environments" : `${dir}/environments`;
  const out: { ref: string; source: PolicySource }[] = [];
  for (const ref of ["HEAD", "origin/main"]) {
    if (!gitText(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])) continue;
    try {
      git(top, ["diff", "--quiet", ref, "--", envDir]);
      continue; // the working tree's environments are this version's
    } catch {
      // they differ (or git could not tell): read that version's policy
    }
    const tmp = mkdtempSync(join(tmpdir(), "envctl-base-"));
    try {
      const tar = git(top, ["archive", "--format=tar", ref, "--", envDir]);
      execFileSync("tar", ["-x", "-C", tmp], { input: tar, stdio: ["pipe", "ignore", "pipe"] });
      const base = join(tmp, dir);
      mkdirSync(base, { recursive: true });
      for (const f of ["lib", "node_modules", "cdktf.json", "package.json", "tsconfig.json"]) {
        try {
          symlinkSync(join(root, f), join(base, f));
        } catch {
          // absent in this project: the environment files do not need it
        }
      }
      const project = await loadProject(base, { focus: [name] });
      const e = project.environments.find((x) => x.config.name === name)?.config;
      if (e) out.push({ ref, source: { tier: e.tier, ...(e.approvals ? { approvals: e.approvals } : {}) } });
    } catch (err) {
      if (/not found|did not match any file|pathspec/i.test(String((err as { stderr?: Buffer }).stderr ?? "")))
        continue;
      throw new RefusedError(
        `${name}: the committed policy at ${ref} cannot be read (${(err as Error).message.split("\n")[0]}); a change cannot be judged by a weaker ` +
          `one: nothing was changed`,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return out;
}
