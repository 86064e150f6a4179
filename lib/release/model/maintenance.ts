/** Maintenance mode as the release file holds it: the 503 page, who may bypass it, since when. */
import { z } from "zod";

/** ALB limits: a fixed response's body is at most 1024 characters; a rule has at most 5 condition values. */
export const MAINTENANCE_LIMITS = { messageChars: 1024, allowCidrs: 5 } as const;

/** The page reaches the traffic stack's Terraform JSON, where `${` and `%{` start a template. */
const NO_TEMPLATE = /[$%]\{/;
const NO_TEMPLATE_RULE = "must not contain a Terraform template sequence (${ or %{)";

/** A CIDR block the ALB's source-ip condition accepts (IPv4 `a.b.c.d/n` or IPv6). */
const CidrSchema = z
  .string()
  .regex(
    /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:3[0-2]|[12]?\d)$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*\/(?:12[0-8]|1[01]\d|\d?\d)$/,
    "must be a CIDR block such as 203.0.113.0/24",
  );

/** A Secrets Manager secret: its name (`[A-Za-z0-9/_+=.@-]`, at most 512) or its ARN. */
export const SecretIdSchema = z
  .string()
  .regex(
    /^(?:arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$/,
    "must be a Secrets Manager secret name or ARN",
  );

/** What the ALB accepts as a header condition value: 1-128 visible ASCII characters. */
export const HEADER_VALUE = /^[\x21-\x7e]{1,128}$/;

/** An HTTP header name (RFC 9110 token, at most 40 characters: the ALB's limit). */
export const HeaderNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/, "must be an HTTP header name of at most 40 characters");

/**
 * Maintenance mode: while set, the traffic stack puts a fixed-response 503 rule ahead of the
 * weighted rule (testers reach the slots through `allowCidrs` or the `allowHeader`). Set and
 * cleared by `envctl maintenance` (lib/release/maintenance.ts).
 */
export const MaintenanceSchema = z.strictObject({
  /** The page served with the 503 (plain text or HTML), at most 1024 characters (the ALB's limit for a fixed response). */
  message: z
    .string()
    .min(1, "must not be empty")
    .max(
      MAINTENANCE_LIMITS.messageChars,
      `must be at most ${MAINTENANCE_LIMITS.messageChars} characters (the ALB's limit for a fixed response)`,
    )
    .refine((m) => !NO_TEMPLATE.test(m), NO_TEMPLATE_RULE),
  /** Source CIDRs that bypass the page (testers), at most 5 (the ALB's condition values per rule). */
  allowCidrs: z
    .array(CidrSchema)
    .max(
      MAINTENANCE_LIMITS.allowCidrs,
      `must list at most ${MAINTENANCE_LIMITS.allowCidrs} CIDR blocks (the ALB's condition values per rule)`,
    )
    .default([]),
  /**
   * A request header that bypasses the page: its name, and the Secrets Manager secret holding its
   * value (id and the version envctl wrote to the listener). The value itself is never in this
   * file, the Terraform JSON, a plan or the state: envctl copies it from the secret to the
   * listener rule (lib/aws/maintenance.ts).
   */
  allowHeader: z
    .preprocess(
      (v, ctx) => {
        if (v !== null && typeof v === "object" && "values" in v) {
          ctx.addIssue({
            code: "custom",
            message:
              "must not hold the header's values: they are secrets (keep the value in Secrets Manager, run " +
              "'envctl maintenance <env> on --allow-header <name> --bypass-secret <id>', and rotate the old value)",
          });
          return z.NEVER;
        }
        return v;
      },
      z
        .strictObject({
          name: HeaderNameSchema,
          secret: z.strictObject({ id: SecretIdSchema, version: z.string().min(1, "must not be empty") }),
        })
        .nullable(),
    )
    .default(null),
  /** When it was switched on. */
  since: z.iso.datetime(),
  by: z.string().min(1),
});
export type Maintenance = z.infer<typeof MaintenanceSchema>;
