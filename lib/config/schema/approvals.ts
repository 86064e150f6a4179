/**
 * Who must approve a change of an environment before envctl applies it (lib/release/gates/approvals.ts
 * counts them; lib/cli enforces them): `required` distinct approvers who are not the change's
 * author, among `from` when it is not empty.
 */
import { z } from "zod";

/** An approver: a GitHub login (CI) or an AWS principal ARN from STS GetCallerIdentity (workstation); `*` matches any run of characters. */
const APPROVER = /^[\w*:/+=,.@-]{1,256}$/;

export const ApprovalsSchema = z
  .strictObject({
    /** Distinct approvers a change needs, its author never counted (project limit 10). @default 2 in the production tier, else 0 */
    required: z.number().int("must be a whole number").min(0).max(10, "must be at most 10 (project limit)"),
    /**
     * Who may approve: GitHub logins and AWS principal ARNs (e.g. `arn:aws:sts::111111111111:assumed-role/Approver/*`).
     * Approvals by anyone else do not count. @default [] (anyone but the author)
     */
    from: z
      .array(
        z
          .string()
          .regex(
            APPROVER,
            "must be a GitHub login or an AWS principal ARN (letters, digits, :/+=,.@_- and * as a wildcard; at most 256)",
          ),
      )
      .max(100, "must list at most 100 approvers (project limit)")
      .default([]),
  })
  .superRefine((a, ctx) => {
    const wildcard = a.from.some((f) => f.includes("*"));
    if (!wildcard && a.from.length > 0 && new Set(a.from).size < a.required) {
      ctx.addIssue({
        code: "custom",
        path: ["from"],
        message: `names ${new Set(a.from).size} approver(s), fewer than required (${a.required}): no change could ever be approved`,
      });
    }
  });
