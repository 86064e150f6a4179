/**
 * Approvals of a change, pure: the change's id, the environment's policy (its defaults by tier),
 * and which recorded approvals count. lib/cli enforces them on a workstation (approvals recorded
 * with `envctl approve`, lib/release/store/approvals.ts); the CI workflows enforce the same rule
 * from the platform's reviews (`envctl approvals verify`).
 */
import { createHash } from "node:crypto";
import type { Tier } from "../../core/primitives.ts";

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

/**
 * The id of a change: a hash of the environment, the release file's state it starts from (its
 * record's `seq`), what it does (summary and release-file diff) and the stacks it deploys. The
 * author and an approver derive the same id from the same change; once the release file moves on
 * (another seq), an approval of the old change no longer matches anything.
 */
/** A break-glass change (outside the release calendar) needs one approval more than the policy's. */
export function policyFor(policy: ApprovalPolicy, what: { readonly breakGlass?: string }): ApprovalPolicy {
  return what.breakGlass === undefined ? policy : { ...policy, required: policy.required + 1 };
}

export function changeIdOf(
  env: string,
  baseSeq: number,
  what: { readonly summary: string; readonly diff?: string; readonly stacks: readonly string[] },
): string {
  const text = JSON.stringify([env, baseSeq, what.summary, what.diff ?? "", [...what.stacks]]);
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** `pattern` with `*` matching any run of characters; exact otherwise. */
export function identityMatches(identity: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
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
 * Counts `approvers` for a change by `author` under `policy`: the author never counts, nor anyone
 * outside a non-empty `from`, and each person once.
 */
export function judgeApprovals(policy: ApprovalPolicy, author: string, approvers: readonly string[]): ApprovalVerdict {
  const counted: string[] = [];
  const ignored: { by: string; why: string }[] = [];
  for (const by of approvers) {
    if (sameIdentity(by, author)) ignored.push({ by, why: "is the change's author" });
    else if (policy.from.length > 0 && !policy.from.some((p) => identityMatches(by, p)))
      ignored.push({ by, why: "is not in approvals.from" });
    else if (counted.some((c) => sameIdentity(c, by))) ignored.push({ by, why: "approved already" });
    else counted.push(by);
  }
  const ok = counted.length >= policy.required;
  const why = ignored.length ? ` (not counted: ${ignored.map((i) => `${i.by} ${i.why}`).join("; ")})` : "";
  const message = ok
    ? policy.required === 0
      ? "no approval required"
      : `approved by ${counted.join(", ")}`
    : `needs ${policy.required} approval(s) from someone other than the author ${author}${policy.from.length ? ` among ${policy.from.join(", ")}` : ""}; has ${counted.length}${counted.length ? ` (${counted.join(", ")})` : ""}${why}`;
  return { ok, counted, ignored, message };
}

/** Identities compare case-insensitively (GitHub logins are; ARNs from STS are stable in case). */
function sameIdentity(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
