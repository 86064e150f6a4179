/**
 * Approvals as envctl enforces them (the rules themselves are pure: lib/release/gates/approvals.ts
 * and principals.ts), and the account check of a deploy. A change of an environment whose policy
 * (never weaker than the committed one) requires approvals goes ahead only when enough distinct
 * people other than its author approved exactly that change:
 *
 * - on a workstation, approvals recorded with `envctl approve <env> <change-id>` in the state
 *   bucket, where S3 proves who wrote each (lib/aws/approval-ledger.ts); the author is the person
 *   behind the caller's own credentials (STS), never a role session name;
 * - in CI (GITHUB_ACTIONS=true), the reviews of this run and commit, read from GitHub by envctl
 *   itself (./approval-sources.ts); never from environment variables.
 *
 * Every approved change is recorded in the environment's history (a note of kind `approval`).
 */
import type { ApprovalLedger } from "../aws/approval-ledger.ts";
import type { AwsClientOptions } from "../aws/clients.ts";
import type { CallerIdentity } from "../aws/identity.ts";
import type { Project } from "../config/load.ts";
import type { Environment } from "../config/schema.ts";
import {
  type ApprovalVerdict,
  changeIdOf,
  type EffectivePolicy,
  effectivePolicy,
  judgeApprovals,
  judgeScheduledStart,
  policyFor,
} from "../release/gates/approvals.ts";
import { personOf as personOfIdentity } from "../release/gates/principals.ts";
import { RefusedError } from "../release/model/errors.ts";
import type { Approval, Approve, ReleaseEnvironment } from "../release/ports/index.ts";
import { appendNote, loadRelease } from "../release/store/index.ts";
import type { GithubFetch } from "../review/github-approvals.ts";
import type { Target } from "../stacks/target.ts";
import { checkAccount } from "./account-check.ts";
import { checkoutOf, committedPolicies, githubApprovalsOfRun, refuseApproverVariables } from "./approval-sources.ts";
import type { ComposeIo } from "./compose.ts";
import { UserError } from "./report.ts";
import type { Common } from "./shell.ts";

/** The person behind the environment's credentials: STS GetCallerIdentity with the base credentials (before the
 * deploy role, whose session name anyone can choose). */
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

/** A change recomputed for `envctl approve`: what the author's command makes in this checkout. */
export interface RecomputedChange {
  readonly environment: string;
  readonly changeId: string;
  readonly what: Approval;
  readonly policy: EffectivePolicy;
}

/** Set by `envctl approve` on the run of the author's command: the gate records the change here and stops before anything is written. */
export interface ApprovalProbe {
  captured?: RecomputedChange;
}

/** Stops a recomputing run at the gate. */
export class ProbeStop extends RefusedError {
  constructor() {
    super("(recomputed for envctl approve; nothing was changed)");
    this.name = "ProbeStop";
  }
}

export interface EnforceArgs {
  readonly project: Project;
  readonly target: Target;
  readonly env: NodeJS.ProcessEnv;
  readonly config: Environment;
  readonly effective: EffectivePolicy;
  readonly what: Approval;
  readonly now: Date;
  readonly argv: readonly string[];
  readonly identity: () => Promise<CallerIdentity>;
  readonly ledger: () => ApprovalLedger;
  readonly github: GithubFetch;
  readonly err: (text: string) => void;
  readonly probe?: ApprovalProbe;
}

/**
 * Refuses the change unless its approvals are met (nothing to do when the policy requires none).
 * Records the change as waiting (workstation) and, once approved, its approvers in the history.
 * Fail closed: an identity, an approval or a committed policy that cannot be read refuses it.
 */
export async function enforceApprovals(a: EnforceArgs): Promise<void> {
  const name = a.config.name;
  const policy = a.effective.policy;
  if (policy.required === 0 && !a.probe) return;
  refuseApproverVariables(a.env, name);
  const seq = loadRelease(a.project.root, name).lastChange?.seq ?? 0;
  const at = a.now.toISOString();
  const lowered = a.effective.lowered
    ? ` (this checkout lowers ${a.effective.lowered}: the committed policy applies)`
    : "";
  if (a.what.scheduled === "start" && !a.probe) return startScheduled(a, seq, at, lowered);
  if (a.env.GITHUB_ACTIONS === "true" && !a.probe) {
    const changeId = changeIdOf(name, seq, a.what);
    const found = await githubApprovalsOfRun(name, a.env, a.github, a.project.root);
    for (const s of found.sources) a.err(`  ${s}`);
    return settle(a, changeId, at, found.author, found.approvers, "github", lowered);
  }
  const { terraformDigest } = await import("./change-terraform.ts");
  const changeId = changeIdOf(name, seq, a.what, await terraformDigest(a.project, a.target, name, a.what.stacks));
  if (a.probe) {
    a.probe.captured = { environment: name, changeId, what: a.what, policy: a.effective };
    throw new ProbeStop();
  }
  let me: CallerIdentity;
  try {
    me = await a.identity();
  } catch (err) {
    throw new RefusedError(
      `${name} needs ${policy.required} approval(s) per change, and who you are cannot be read (STS GetCallerIdentity: ${(err as Error).message}); ` +
        `nothing was changed. 'envctl doctor ${name}' checks the credentials`,
    );
  }
  const author = personOfIdentity(me.arn);
  if (!author.ok) throw new RefusedError(`${name}: the change's author ${me.arn} ${author.why}; nothing was changed`);
  const commit = checkoutOf(a.project.root)?.commit;
  let approvers: string[];
  try {
    const ledger = a.ledger();
    approvers = (await ledger.list(changeId, (why) => a.err(`  not counted: ${why}`))).map((x) => x.by);
    // Who scheduled a change is proven by the ledger for its start, run later by someone else (a cron job).
    if (a.what.scheduled === "schedule") await ledger.author(changeId, me, at);
    if (approvers.length < policy.required) {
      const argv = [...a.argv];
      await ledger.request({
        changeId,
        summary: a.what.summary,
        author: me.arn,
        at,
        argv,
        ...(commit ? { commit } : {}),
      });
    }
  } catch (err) {
    throw new RefusedError(
      `${name}: the approvals of change ${changeId} cannot be read or requested (${(err as Error).message}); nothing was changed (fail closed)`,
    );
  }
  return settle(a, changeId, at, me.arn, approvers, "envctl approve", lowered);
}

/**
 * A scheduled change starting (`schedule run`, a cron job in CI or on a workstation): judged by
 * the approvals ledger, never by the run's reviews or its runner: the approvals recorded for the
 * change id computed when it was scheduled, against the author the ledger proves (else one
 * approval more). Fail closed: a ledger that cannot be read refuses it.
 */
async function startScheduled(a: EnforceArgs, seq: number, at: string, lowered: string): Promise<void> {
  const name = a.config.name;
  const { terraformDigest } = await import("./change-terraform.ts");
  const changeId = changeIdOf(name, seq, a.what, await terraformDigest(a.project, a.target, name, a.what.stacks));
  const notCounted = (why: string) => a.err(`  not counted: ${why}`);
  let approvers: string[];
  let authors: string[];
  try {
    const ledger = a.ledger();
    approvers = (await ledger.list(changeId, notCounted)).map((x) => x.by);
    authors = (await ledger.authors(changeId, notCounted)).map((x) => x.by);
  } catch (err) {
    throw new RefusedError(
      `${name}: the approvals of scheduled change ${changeId} cannot be read (${(err as Error).message}); nothing was changed (fail closed)`,
    );
  }
  const verdict = judgeScheduledStart(a.effective.policy, authors, approvers);
  return settle(a, changeId, at, verdict.author, verdict, "envctl approve", lowered);
}

function settle(
  a: EnforceArgs,
  changeId: string,
  at: string,
  author: string,
  judged: readonly string[] | ApprovalVerdict,
  source: ApprovalNote["source"],
  lowered: string,
): void {
  const name = a.config.name;
  const verdict = "ok" in judged ? judged : judgeApprovals(a.effective.policy, author, judged);
  if (!verdict.ok) {
    const how =
      source === "github"
        ? ""
        : a.what.scheduled === "start"
          ? `\n  a scheduled change is approved when it is scheduled: schedule it again from a workstation ('envctl schedule'), ` +
            `then each approver runs the 'envctl approve ${name} <change id>' it prints`
          : `\n  change ${changeId} is recorded as waiting; each approver runs: envctl approve ${name} ${changeId}\n  then run this command again ` +
            `(unchanged: the same change has the same id)`;
    throw new RefusedError(
      `${name}: change ${changeId} ${verdict.message}${lowered}; nothing was changed (--yes answers the prompt, it is no approval)${how}`,
    );
  }
  const note: ApprovalNote = {
    kind: "approval",
    at,
    changeId,
    summary: a.what.summary,
    author,
    approvers: verdict.counted,
    source,
  };
  appendNote(a.project.root, name, note);
}

/** Commands that take traffic back to safety: never held up by approvals. */
const MITIGATION = /^(rollback|abort)\b/;

/**
 * The release's approve port for one command. Approvals first (by the policy in force: the
 * working tree's, never weaker than the committed one); then changes of a production-tier
 * environment (committed or not) need a yes, asked once, after the change was validated, showing
 * it. --yes only answers the question: it never counts as an approval.
 */
export function approvalGate(a: {
  readonly io: ComposeIo;
  readonly project: Project;
  readonly command: string;
  readonly o: Common;
  readonly configOf: (e: ReleaseEnvironment) => Environment;
  readonly aws: (e: Environment) => AwsClientOptions;
  readonly target: Target;
  readonly ledger: (e: Environment) => ApprovalLedger;
  readonly github: GithubFetch;
}): Approve {
  const { io, project, command, o, configOf, aws } = a;
  const { deps, env, clock, err, confirm, approved, approvalsMet } = io;
  return async (e, what) => {
    const config = configOf(e);
    // Before anything is written: the credentials must be of the environment's account (real adapters, or tests' identity).
    if (!deps.deployer || deps.identity) await checkAccount(config, aws(config), deps.identity);
    const committed = effectivePolicy(config, await committedPolicies(project.root, e.name));
    // A break-glass change (outside the release calendar) needs one approval more.
    const effective = { ...committed, policy: policyFor(committed.policy, what) };
    // Once per command and environment (a rollout's later steps, its automatic rollback);
    // mitigations (rollback, abort) never wait for approvals: they are recorded with their author.
    if (deps.approvalProbe || (!approvalsMet.has(e.name) && !MITIGATION.test(command))) {
      await enforceApprovals({
        project,
        target: a.target,
        env,
        config,
        effective,
        what,
        now: clock.now(),
        argv: io.argv,
        identity: () => (deps.identity ?? personOf)(aws(config)),
        ledger: () => a.ledger(config),
        github: a.github,
        err,
        ...(deps.approvalProbe ? { probe: deps.approvalProbe } : {}),
      });
    }
    approvalsMet.add(e.name);
    if (effective.tier !== "production" || o.yes || approved.has(e.name)) return;
    const stacks = `stacks to deploy: ${what.stacks.join(" ") || "none"}`;
    err([`${e.name} (production): ${what.summary}`, ...(what.diff ? [what.diff.trimEnd()] : []), stacks].join("\n"));
    if (!(await confirm(`Apply this to ${e.name} (production)?`))) throw new UserError("cancelled, nothing changed");
    approved.add(e.name);
  };
}
