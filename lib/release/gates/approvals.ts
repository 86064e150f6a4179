/**
 * Approvals of a change, pure: the change's id, the environment's policy (its defaults by tier, and
 * never weaker than the committed one), and which approvals count (one per person: ./principals.ts).
 * lib/cli enforces them: on a workstation from the approvals the platform recorded (`envctl
 * approve`: S3 objects the state bucket's policy lets each principal write under its own id
 * only); in CI from GitHub's reviews of the run and its commit, which envctl reads itself.
 */
import { createHash } from "node:crypto";
import type { Tier } from "../../core/primitives.ts";
import { personOf } from "./principals.ts";

/** `required` distinct approvers other than the author, among `from` when it is not empty. */
export interface ApprovalPolicy {
  readonly required: number;
  readonly from: readonly string[];
}

/** Approvals needed by default: two in the production tier, none elsewhere. */
export const DEFAULT_REQUIRED_APPROVALS: Record<Tier, number> = { development: 0, staging: 0, production: 2 };

/** The environment's policy: its `approvals`, else the tier's default. */
export function approvalPolicyOf(e: { readonly tier: Tier; readonly approvals?: ApprovalPolicy }): ApprovalPolicy {
  return e.approvals ?? { required: DEFAULT_REQUIRED_APPROVALS[e.tier], from: [] };
}

const TIER_RANK: Record<Tier, number> = { development: 0, staging: 1, production: 2 };

/** What an environment's file says about approvals: its tier and its `approvals`. */
export interface PolicySource {
  readonly tier: Tier;
  readonly approvals?: ApprovalPolicy;
}

/** The policy a change is judged by, and why it is not the working tree's own. */
export interface EffectivePolicy {
  readonly policy: ApprovalPolicy;
  /** The tier whose prompt applies (never lower than the committed one). */
  readonly tier: Tier;
  /** Set when the working tree lowers the tier or weakens the approvals of a committed version. */
  readonly lowered?: string;
}

/** Whether `b` asks for less than `a`: fewer approvals, or approvers `a` does not allow. */
function weaker(a: ApprovalPolicy, b: ApprovalPolicy): boolean {
  if (b.required < a.required) return true;
  if (a.from.length === 0) return false;
  const allowed = new Set(a.from.map((f) => f.toLowerCase()));
  return b.from.length === 0 || b.from.some((f) => !allowed.has(f.toLowerCase()));
}

/**
 * The policy of a change: the working tree's, unless it lowers the tier or weakens the approvals
 * of a committed version (`bases`: `ref` → that version, when the environment exists there). Then
 * the change needs the stronger policy's approvals and prompt: lowering a policy is itself a change
 * the old policy governs.
 */
export function effectivePolicy(
  current: PolicySource,
  bases: readonly { ref: string; source: PolicySource }[],
): EffectivePolicy {
  let policy = approvalPolicyOf(current);
  let tier = current.tier;
  const why: string[] = [];
  for (const { ref, source } of bases) {
    const base = approvalPolicyOf(source);
    if (TIER_RANK[source.tier] > TIER_RANK[tier]) {
      why.push(`tier ${current.tier} (${ref}: ${source.tier})`);
      tier = source.tier;
    }
    if (weaker(base, policy)) {
      why.push(`approvals ${describePolicy(approvalPolicyOf(current))} (${ref}: ${describePolicy(base)})`);
      policy = { required: Math.max(base.required, policy.required), from: base.from.length ? base.from : policy.from };
    }
  }
  return { policy, tier, ...(why.length ? { lowered: why.join(", ") } : {}) };
}

function describePolicy(p: ApprovalPolicy): string {
  return `${p.required} required${p.from.length ? ` from ${p.from.join(", ")}` : ""}`;
}

/**
 * The id of a change: a hash of the environment, the release file's state it starts from (its
 * record's `seq`), what it does (summary and release-file diff), the stacks it deploys and a digest
 * of their synthesized Terraform (`terraform`). The author and an approver derive the same id from
 * the same change in the same checkout; once the release file moves on (another seq) or the code
 * or configuration behind the stacks changes, an approval of the old change matches nothing.
 */
/** A break-glass change (outside the release calendar) needs one approval more than the policy's. */
export function policyFor(policy: ApprovalPolicy, what: { readonly breakGlass?: string }): ApprovalPolicy {
  return what.breakGlass === undefined ? policy : { ...policy, required: policy.required + 1 };
}

export function changeIdOf(
  env: string,
  baseSeq: number,
  what: { readonly summary: string; readonly diff?: string; readonly stacks: readonly string[] },
  terraform = "",
): string {
  const text = JSON.stringify([env, baseSeq, what.summary, what.diff ?? "", [...what.stacks], terraform]);
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** `pattern` with `*` matching any run of characters; exact otherwise, ignoring case. */
export function identityMatches(identity: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i", // GitHub logins and IAM names are case-insensitive
  );
  return re.test(identity);
}

export interface ApprovalVerdict {
  readonly ok: boolean;
  /** The approvers that count, distinct, in the order given. */
  readonly counted: readonly string[];
  /** Approvals that do not count, and why. */
  readonly ignored: readonly { readonly by: string; readonly why: string }[];
  /** One line: what is missing, or who approved. */
  readonly message: string;
}

/**
 * Counts `approvers` for a change by `author` under `policy`, one per person (./principals.ts):
 * never the author, nor anyone outside a non-empty `from`, nor an identity that names no person
 * (an assumed-role session name is the caller's choice).
 */
export function judgeApprovals(policy: ApprovalPolicy, author: string, approvers: readonly string[]): ApprovalVerdict {
  const counted: string[] = [];
  const seen = new Set<string>();
  const ignored: { by: string; why: string }[] = [];
  const writer = personOf(author);
  for (const by of approvers) {
    const person = personOf(by);
    if (!person.ok) ignored.push({ by, why: person.why });
    else if (!writer.ok || person.key === writer.key) ignored.push({ by, why: "is the change's author" });
    else if (policy.from.length > 0 && !policy.from.some((p) => identityMatches(by, p)))
      ignored.push({ by, why: "is not in approvals.from" });
    else if (seen.has(person.key)) ignored.push({ by, why: "approved already" });
    else {
      seen.add(person.key);
      counted.push(by);
    }
  }
  const ok = counted.length >= policy.required;
  const why = ignored.length ? ` (not counted: ${ignored.map((i) => `${i.by} ${i.why}`).join("; ")})` : "";
  const message = ok
    ? policy.required === 0
      ? "no approval required"
      : `approved by ${counted.join(", ")}`
    : `needs ${policy.required} approval(s) from someone other than the author ` +
      `${author}${policy.from.length ? ` among ${policy.from.join(", ")}` : ""}; has ` +
      `${counted.length}${counted.length ? ` (${counted.join(", ")})` : ""}${why}`;
  return { ok, counted, ignored, message };
}

/** The author a scheduled change is judged against when the ledger proves none: a person no approver can be. */
export const UNPROVEN_AUTHOR = "arn:aws:iam::000000000000:user/envstack-unproven-author";

/**
 * A scheduled change when it starts: its author is the one person the ledger proves scheduled it
 * (`authors`, written under their own aws:userid). When the ledger proves no single author, one
 * approval more is needed, so an author among the approvers still leaves `required` others. Pure.
 */
export function judgeScheduledStart(
  policy: ApprovalPolicy,
  authors: readonly string[],
  approvers: readonly string[],
): ApprovalVerdict & { readonly author: string } {
  const people = new Set(authors.map((a) => personOf(a)).flatMap((p) => (p.ok ? [p.key] : [])));
  if (authors.length === 1 && people.size === 1)
    return { ...judgeApprovals(policy, authors[0]!, approvers), author: authors[0]! };
  const v = judgeApprovals({ ...policy, required: policy.required + 1 }, UNPROVEN_AUTHOR, approvers);
  const why =
    authors.length === 0 ? "no author is recorded in the ledger" : `the ledger records ${authors.length} authors`;
  const message = v.message.replace(` from someone other than the author ${UNPROVEN_AUTHOR}`, "");
  return {
    ...v,
    author: UNPROVEN_AUTHOR,
    message: `${message} (${why}: one approval more than the policy's ${policy.required})`,
  };
}
