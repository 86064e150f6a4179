import { z } from "zod";
import { NOTIFY_EVENTS, NotifyEventSchema, NotifySeveritySchema } from "../../release/model/events.ts";

/**
 * Where a webhook URL or a signing key comes from: an environment variable of the process running
 * envctl (`{ env: "SLACK_WEBHOOK_URL" }`, e.g. a CI secret) or a Secrets Manager secret of the
 * environment's region (`{ secret: "webapp/prod/slack-webhook" }`). Never the value itself: an
 * environment file is committed.
 */
export const SecretRefSchema = z.union(
  [
    z.strictObject({
      env: z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "must be an environment variable name (UPPER_SNAKE_CASE)"),
    }),
    z.strictObject({
      secret: z
        .string()
        .regex(
          /^[A-Za-z0-9/_+=.@-]{1,512}$/,
          "must be a Secrets Manager secret name (letters, digits and /_+=.@-, at most 512)",
        ),
    }),
  ],
  {
    error:
      'must be { env: "VARIABLE" } or { secret: "secret-name" }: webhook URLs and signing keys come ' +
      "from the environment or Secrets Manager, never from a committed file",
  },
);
export type SecretRef = z.infer<typeof SecretRefSchema>;

const SNS_TOPIC_ARN = /^arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;

const Common = {
  /** Names the target in the history and in messages: unique per environment. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, "must be 1-40 lower-case letters, digits and '-', starting with a letter"),
  /** The events sent to this target. @default every event */
  events: z
    .array(NotifyEventSchema)
    .min(1, "must list at least one event (leave it out for every event)")
    .default([...NOTIFY_EVENTS]),
  /** Events below this severity are not sent. @default "info" */
  minSeverity: NotifySeveritySchema.default("info"),
};

export const NotifyTargetSchema = z.discriminatedUnion(
  "kind",
  [
    /** A Slack incoming webhook (its URL is a credential). */
    z.strictObject({ kind: z.literal("slack"), ...Common, url: SecretRefSchema }),
    /** Any HTTPS endpoint: the JSON payload, signed with HMAC-SHA256 in `X-Envstack-Signature`. */
    z.strictObject({ kind: z.literal("webhook"), ...Common, url: SecretRefSchema, signingKey: SecretRefSchema }),
    /** An SNS topic (e-mail and other subscriptions through it). */
    z.strictObject({
      kind: z.literal("sns"),
      ...Common,
      topicArn: z.string().regex(SNS_TOPIC_ARN, "must be an SNS topic ARN: arn:aws:sns:<region>:<account>:<topic>"),
    }),
  ],
  { error: "must have kind slack, webhook or sns" },
);
export type NotifyTarget = z.infer<typeof NotifyTargetSchema>;

/** Notifications of release events (lib/notify). Delivery never delays a mitigation. */
export const NotifySchema = z
  .strictObject({
    /** At most 10 targets (project limit). @default [] */
    targets: z.array(NotifyTargetSchema).max(10, "must list at most 10 targets (project limit)").default([]),
    /** Milliseconds one delivery attempt may take. @default 5000 */
    timeoutMs: z.number().int().min(100).max(30_000).default(5000),
    /** Attempts per delivery (network errors, timeouts, 429 and 5xx are retried). @default 3 */
    attempts: z.number().int().min(1).max(10).default(3),
    /** Wait before the second attempt, doubled before each further one, milliseconds. @default 500 */
    backoffMs: z.number().int().min(10).max(60_000).default(500),
  })
  .superRefine((n, ctx) => {
    const seen = new Map<string, number>();
    (n.targets ?? []).forEach((t, i) => {
      const first = seen.get(t.name);
      if (first !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["targets", i, "name"],
          message: `names ${t.name} again (already targets[${first}]): target names are unique`,
        });
      else seen.set(t.name, i);
    });
  });
export type NotifyConfig = z.infer<typeof NotifySchema>;
