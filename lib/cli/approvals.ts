/**
 * Approvals as envctl enforces them (the rule itself is pure: lib/release/gates/approvals.ts), and the
 * account check of a deploy. On a workstation a change of an environment that requires approvals
 * is refused until enough people recorded one with `envctl approve <env> <change-id>` (identity:
 * their STS caller identity); in CI the workflow's `envctl approvals verify` step has read them
 * from the platform (environment reviewers, PR reviews) into ENVSTACK_APPROVED_BY and
 * ENVSTACK_CHANGE_AUTHOR, and envctl judges them again. Every approved change is recorded in the
 * environment's history (a note of kind `approval`: the change, its author, its approvers).
 */
import type { AwsClientOptions } from "../aws/clients.ts";
import type { CallerIdentity } from "../aws/identity.ts";
import type { Project } from "../config/load.ts";
import type { Environment } from "../config/schema.ts";
import type { Deployer } from "../deploy/runner.ts";
import { approvalPolicyOf, changeIdOf, judgeApprovals, policyFor } from "../release/gates/approvals.ts";
import { RefusedError } from "../release/model/errors.ts";
import type { Approval, Approve, ReleaseEnvironment } from "../release/ports/index.ts";
import { requestApproval } from "../release/store/approvals.ts";
import { appendNote, loadRelease } from "../release/store/index.ts";
import type { ComposeIo } from "./compose.ts";
import { UserError } from "./report.ts";
import type { Common } from "./shell.ts";

/** The person behind the environment's credentials: STS GetCallerIdentity with the base credentials (before the deploy role, whose session name anyone can choose). */
export async function personOf(o: AwsClientOptions): Promise<CallerIdentity> {
  return (await import("../aws/identity.ts")).callerIdentity(o, true);
}

/** What is approved and recorded: the history's `approval` note. */
export interface ApprovalNote {
  readonly kind: "approval";
  readonly at: string;
  readonly changeId: string;
  readonly summary: string;
  readonly author: string;
  readonly approvers: readonly string[];
  readonly source: "envctl approve" | "github";
}

/** The approvers CI read from the platform: `ENVSTACK_APPROVED_BY` (comma-separated) and `ENVSTACK_CHANGE_AUTHOR`. */
function ciApprovals(env: NodeJS.ProcessEnv): { author: string; approvers: string[] } | undefined {
  if (env.GITHUB_ACTIONS !== "true") return undefined;
  const author = env.ENVSTACK_CHANGE_AUTHOR?.trim();
  if (!author)
    throw new RefusedError(
      "in CI, approvals come from the platform: run 'envctl approvals verify <env> --github' in the job first (it sets ENVSTACK_CHANGE_AUTHOR and ENVSTACK_APPROVED_BY); nothing was changed",
    );
  return {
    author,
    approvers: (env.ENVSTACK_APPROVED_BY ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  };
}

/**
 * Refuses the change unless the environment's approvals are met (nothing to do when it requires
 * none). Records the change as waiting (workstation) and, once approved, its approvers in the
 * history. Fail closed: an identity or approvals file that cannot be read refuses the change.
 */
export async function enforceApprovals(a: {
  root: string;
  env: NodeJS.ProcessEnv;
  config: Environment;
  what: Approval;
  now: Date;
  identity: () => Promise<CallerIdentity>;
}): Promise<void> {
  const policy = policyFor(approvalPolicyOf(a.config), a.what);
  if (policy.required === 0) return;
  const name = a.config.name;
  const seq = loadRelease(a.root, name).lastChange?.seq ?? 0;
  const changeId = changeIdOf(name, seq, a.what);
  const at = a.now.toISOString();
  const ci = ciApprovals(a.env);
  let author: string;
  let approvers: readonly string[];
  if (ci) {
    ({ author, approvers } = ci);
  } else {
    try {
      author = (await a.identity()).arn;
    } catch (err) {
      throw new RefusedError(
        `${name} needs ${policy.required} approval(s) per change, and who you are cannot be read (STS GetCallerIdentity: ${(err as Error).message}); nothing was changed. 'envctl doctor ${name}' checks the credentials`,
      );
    }
    const req = await requestApproval(a.root, name, {
      changeId,
      summary: a.what.summary,
      ...(a.what.diff ? { diff: a.what.diff } : {}),
      stacks: [...a.what.stacks],
      author,
      at,
    });
    approvers = req.approvals.map((x) => x.by);
  }
  const verdict = judgeApprovals(policy, author, approvers);
  if (!verdict.ok) {
    const how = ci
      ? ""
      : `\n  change ${changeId} is recorded as waiting; each approver runs: envctl approve ${name} ${changeId}\n  then run this command again (unchanged: the same change has the same id)`;
    throw new RefusedError(
      `${name}: change ${changeId} ${verdict.message}; nothing was changed (--yes answers the prompt, it is no approval)${how}`,
    );
  }
  const note: ApprovalNote = {
    kind: "approval",
    at,
    changeId,
    summary: a.what.summary,
    author,
    approvers: verdict.counted,
    source: ci ? "github" : "envctl approve",
  };
  appendNote(a.root, name, note);
}

/** Refuses (naming both accounts) when the credentials for `e` are of another account than its own; fails closed when they cannot be read. */
export async function checkAccount(
  e: Environment,
  o: AwsClientOptions,
  identity?: (o: AwsClientOptions) => Promise<CallerIdentity>,
): Promise<void> {
  const id = await import("../aws/identity.ts");
  if (!identity) return id.assertAccount(o);
  const refused = id.accountMismatch(e.name, e.account.id, await identity(o));
  if (refused) throw refused;
}

/** The environments whose stacks are among `stacks` (`<env>`, `<env>-traffic`, `<env>-workloads`). */
function environmentsOf(stacks: readonly string[], envs: readonly Environment[]): Environment[] {
  return envs.filter((e) =>
    stacks.some((s) => s === e.name || s === `${e.name}-traffic` || s === `${e.name}-workloads`),
  );
}

/**
 * The deployer, after a check that the credentials are of each deployed environment's account:
 * a mismatch is refused before synthesis and the engine, naming both accounts (the providers'
 * allowed_account_ids would refuse too, at plan).
 */
export function accountCheckedDeployer(
  inner: Deployer,
  envs: readonly Environment[],
  aws: (e: Environment) => AwsClientOptions,
  identity?: (o: AwsClientOptions) => Promise<CallerIdentity>,
): Deployer {
  const check = async (stacks: readonly string[]) => {
    for (const e of environmentsOf(stacks, envs)) await checkAccount(e, aws(e), identity);
  };
  return {
    deploy: async (stacks, log) => {
      await check(stacks);
      return inner.deploy(stacks, log);
    },
    ...(inner.destroy
      ? {
          destroy: async (stacks: readonly string[], log: (line: string) => void) => {
            await check(stacks);
            return inner.destroy!(stacks, log);
          },
        }
      : {}),
  };
}

/** Commands that take traffic back to safety: never held up by approvals. */
const MITIGATION = /^(rollback|abort)\b/;

/**
 * The release's approve port for one command. Recorded approvals first (approvals.required > 0:
 * production by default); then production changes need a yes, asked once, after the change was
 * validated, showing it. --yes only answers the question: it never counts as an approval.
 */
export function approvalGate(a: {
  readonly io: ComposeIo;
  readonly project: Project;
  readonly command: string;
  readonly o: Common;
  readonly configOf: (e: ReleaseEnvironment) => Environment;
  readonly aws: (e: Environment) => AwsClientOptions;
}): Approve {
  const { io, project, command, o, configOf, aws } = a;
  const { deps, env, clock, err, confirm, approved, approvalsMet } = io;
  return async (e, what) => {
    // Before anything is written: the credentials must be of the environment's account (real adapters, or tests' identity).
    if (!deps.deployer || deps.identity) await checkAccount(configOf(e), aws(configOf(e)), deps.identity);
    // Once per command and environment (a rollout's later steps, its automatic rollback);
    // mitigations (rollback, abort) never wait for approvals: they are recorded with their author.
    if (!approvalsMet.has(e.name) && !MITIGATION.test(command)) {
      const identity = () => (deps.identity ?? personOf)(aws(configOf(e)));
      await enforceApprovals({ root: project.root, env, config: configOf(e), what, now: clock.now(), identity });
    }
    approvalsMet.add(e.name);
    if (e.tier !== "production" || o.yes || approved.has(e.name)) return;
    const stacks = `stacks to deploy: ${what.stacks.join(" ") || "none"}`;
    err([`${e.name} (production): ${what.summary}`, ...(what.diff ? [what.diff.trimEnd()] : []), stacks].join("\n"));
    if (!(await confirm(`Apply this to ${e.name} (production)?`))) throw new UserError("cancelled, nothing changed");
    approved.add(e.name);
  };
}
