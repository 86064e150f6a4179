/**
 * The AWS account an environment deploys into (AWS's multi-account guidance: one account per
 * environment). Every AWS provider of the environment's stacks pins it (`allowed_account_ids`), so
 * the provider itself refuses credentials of another account; with `deployRoleArn` the providers,
 * the state backend and envctl's own clients assume that role first.
 */
import { z } from "zod";
import { NameSchema } from "../../core/primitives.ts";
import { ConfigError, zodProblems } from "../errors.ts";
import { WHEN_OBJECT } from "./common.ts";

/** An AWS account id: exactly 12 digits (AWS Account Management reference). A string: ids may start with 0. */
export const ACCOUNT_ID = /^\d{12}$/;
export const AccountIdSchema = z
  .string({ error: 'must be a 12-digit AWS account id in quotes, e.g. "111111111111"' })
  .regex(ACCOUNT_ID, 'must be a 12-digit AWS account id, e.g. "111111111111"');

/**
 * `arn:<partition>:iam::<account>:role/<path/name>`; group 1 is the account (IAM identifiers: role
 * names 1-64 characters of letters, digits and `+=,.@_-`, paths of the same characters and `/`).
 */
export const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** An S3 bucket name (S3 naming rules: 3-63 lower-case letters, digits, dots and hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const AccountSchema = z
  .strictObject({
    /** The account every AWS provider of the environment is pinned to (`allowed_account_ids`). */
    id: AccountIdSchema,
    /**
     * The role the providers, the state backend and envctl assume in `id` to deploy. Absent: the
     * ambient credentials must already be of `id`. @default none
     */
    deployRoleArn: z
      .string()
      .regex(ROLE_ARN, "must be an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>")
      .optional(),
    /** External id passed when assuming `deployRoleArn` (STS AssumeRole `ExternalId`: 2-1224 characters of `\w+=,.@:/-`). @default none */
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, "must be 2-1224 characters of letters, digits and _+=,.@:/- (STS ExternalId)")
      .optional(),
    /** Session tags passed when assuming `deployRoleArn` (STS: at most 50; keys 1-128, values 0-256 characters). @default none */
    sessionTags: z
      .record(
        z
          .string()
          .regex(
            /^[\w+=,.@:/ -]{1,128}$/,
            "must be a session tag key of 1-128 characters of letters, digits, spaces and _+=,.@:/-",
          ),
        z
          .string()
          .regex(
            /^[\w+=,.@:/ -]{0,256}$/,
            "must be a session tag value of at most 256 characters of letters, digits, spaces and _+=,.@:/-",
          ),
      )
      .refine((t) => Object.keys(t).length <= 50, "must have at most 50 session tags (STS limit)")
      .optional(),
    /** The account's state bucket (bootstrap per account). @default `<project>-tfstate-<id>` */
    stateBucket: z
      .string()
      .regex(BUCKET, "must be a valid S3 bucket name (3-63 lower-case letters, digits, '.' and '-')")
      .optional(),
    /**
     * Environments this one may share its account with. Two environments may use the same account
     * only when each names the other here. @default none
     */
    sharedWith: z.array(NameSchema).max(20, "must list at most 20 environments (project limit)").default([]),
    /**
     * The account group this environment belongs to ({@link defineAccountGroup}): every environment
     * of the group may share its account, said once where the group is defined (environments/_defaults.ts)
     * instead of each naming every other in `sharedWith`. Never in the production tier. @default none
     */
    group: NameSchema.optional(),
    /**
     * This account (in the region of its first environment) holds the `global` stack, the
     * cross-environment dashboard. Said on one account when the environments span more than one
     * (lib/config/global-host.ts). @default false
     */
    hostsGlobal: z.boolean().default(false),
  })
  .superRefine((a, ctx) => {
    const role = typeof a.deployRoleArn === "string" ? ROLE_ARN.exec(a.deployRoleArn) : null;
    if (role && typeof a.id === "string" && ACCOUNT_ID.test(a.id) && role[1] !== a.id) {
      ctx.addIssue({
        code: "custom",
        path: ["deployRoleArn"],
        message: `must be a role of the environment's account ${a.id} (found ${role[1]}): the providers only accept ${a.id}`,
      });
    }
    if (a.deployRoleArn === undefined) {
      if (a.externalId !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["externalId"],
          message: "needs deployRoleArn (it is passed when assuming that role)",
        });
      if (a.sessionTags !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["sessionTags"],
          message: "needs deployRoleArn (they are passed when assuming that role)",
        });
    }
  }, WHEN_OBJECT);

export type AccountConfig = z.infer<typeof AccountSchema>;

/** The account's state bucket: `account.stateBucket`, else `<project>-tfstate-<id>` (bucket names are global: the id keeps them apart). */
export function accountStateBucket(project: string, account: Pick<AccountConfig, "id" | "stateBucket">): string {
  return account.stateBucket ?? `${project}-tfstate-${account.id}`;
}

/** An account group as `defineAccountGroup` takes it: a name and the account's settings (no `sharedWith`). */
export const AccountGroupSchema = z.strictObject({ name: NameSchema, account: AccountSchema }).superRefine((g, ctx) => {
  if (g.account.sharedWith.length > 0)
    ctx.addIssue({
      code: "custom",
      path: ["account", "sharedWith"],
      message: "is not for a group: every environment of the group may share its account",
    });
  if (g.account.group !== undefined)
    ctx.addIssue({ code: "custom", path: ["account", "group"], message: "is the group's name: set name instead" });
}, WHEN_OBJECT);
export type AccountGroupInput = z.input<typeof AccountGroupSchema>;

/**
 * Environments that share one account, said once: `export const sandboxes = defineAccountGroup({ name:
 * "sandboxes", account: { id, deployRoleArn } })` in environments/_defaults.ts, then `account: sandboxes` in
 * each member's file. Every environment with this group and this account id may share the account
 * (lib/config/rules.ts); a production-tier environment never shares through a group. Invalid input
 * throws a {@link ConfigError} naming the group, each field and its rule.
 */
export function defineAccountGroup(input: AccountGroupInput): AccountConfig {
  const parsed = AccountGroupSchema.safeParse(input);
  if (!parsed.success) {
    const name = typeof input?.name === "string" ? input.name : "(unnamed)";
    throw new ConfigError(zodProblems(`account group ${name}`, parsed.error));
  }
  return { ...parsed.data.account, sharedWith: [], group: parsed.data.name };
}
