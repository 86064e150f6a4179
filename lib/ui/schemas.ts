/**
 * The API's input and output schemas (zod): they validate every request and generate the OpenAPI
 * document served at /api/openapi.json, so the two cannot drift.
 */
import { z } from "@hono/zod-openapi";
import { SlotSchema } from "../core/primitives.ts";
import { MaintenanceSchema } from "../release/model/maintenance.ts";
import { VersionSchema } from "../release/model/slots.ts";

export const EnvName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, "must be an environment name (a-z, 0-9, '-')")
  .openapi({ param: { name: "name", in: "path" }, example: "staging" });

export const NameParams = z.object({ name: EnvName });
export const SeqParams = z.object({
  name: EnvName,
  seq: z
    .string()
    .regex(/^(?:0|[1-9][0-9]{0,8})$/, "must be a change number (the history's seq)")
    .transform(Number)
    .openapi({ param: { name: "seq", in: "path" }, type: "string", example: "4" }),
});
export const OperationParams = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{16}$/, "must be an operation id (16 hex digits)")
    .openapi({ param: { name: "id", in: "path" } }),
});

/** Production's prompt, typed: the environment's name again. */
const Confirm = z
  .string()
  .max(64)
  .optional()
  .openapi({ description: "the environment's name typed again: required for a production environment (its prompt)" });

export const PromoteBody = z
  .strictObject({ from: EnvName.openapi({ param: undefined }), version: VersionSchema.optional(), confirm: Confirm })
  .openapi("PromoteRequest");
export const ShiftBody = z
  .strictObject({
    to: z.enum(SlotSchema.options, { error: "must be blue or green" }),
    percent: z
      .number({ error: "must be a whole number 0-100" })
      .int("must be a whole number 0-100")
      .min(0, "must be 0-100")
      .max(100, "must be 0-100"),
    confirm: Confirm,
  })
  .openapi("ShiftRequest");
export const RolloutBody = z
  .strictObject({
    continue: z.boolean().default(false),
    rps: z
      .number({ error: "must be a number of requests per second" })
      .min(0.001, "must be at least 0.001")
      .max(1_000_000, "must be at most 1000000")
      .optional()
      .openapi({ description: "the traffic plan's request rate (envctl rollout --rps); default: the ALB's history" }),
    errorRate: z
      .number({ error: "must be a percentage" })
      .min(0, "must be 0-100")
      .max(100, "must be 0-100")
      .optional()
      .openapi({ description: "the stable slot's error rate, percent (envctl rollout --error-rate)" }),
    confirm: Confirm,
  })
  .openapi("RolloutRequest");
export const ConfirmBody = z.strictObject({ confirm: Confirm }).openapi("ConfirmRequest");
export const ApproveBody = z
  .strictObject({
    changeId: z.string().regex(/^[0-9a-f]{16}$/, "must be 16 hex digits, as the refused change printed it"),
  })
  .openapi("ApproveRequest");
export const MaintenanceBody = z
  .strictObject({
    state: z.enum(["on", "off"], { error: "must be on or off" }),
    message: MaintenanceSchema.shape.message.optional(),
    allowCidrs: MaintenanceSchema.shape.allowCidrs.unwrap().optional(),
    confirm: Confirm,
  })
  .superRefine((b, ctx) => {
    if (b.state === "off" && (b.message !== undefined || b.allowCidrs !== undefined))
      ctx.addIssue({ code: "custom", path: ["state"], message: "message and allowCidrs go with on" });
  })
  .openapi("MaintenanceRequest");

export const ProblemSchema = z
  .object({
    subject: z.string().openapi({ description: "the environment (or request part) the problem belongs to" }),
    path: z.string().openapi({ description: "the field" }),
    message: z.string().openapi({ description: "the rule it breaks" }),
  })
  .openapi("Problem");
export const ErrorSchema = z
  .object({ error: z.string(), exitCode: z.number().int().optional(), problems: z.array(ProblemSchema) })
  .openapi("Error");

export const OperationSchema = z
  .looseObject({
    id: z.string(),
    environment: z.string(),
    by: z.string(),
    startedAt: z.string(),
    status: z.enum(["running", "succeeded", "failed"]),
    lines: z.array(z.object({ at: z.string(), text: z.string() })),
  })
  .openapi("Operation");

export const SessionSchema = z
  .object({ csrf: z.string(), readOnly: z.boolean(), actor: z.string(), tokenRequired: z.boolean() })
  .openapi("Session");

const loose = (name: string, description: string) => z.looseObject({}).openapi(name, { description });
export const OverviewSchema = loose(
  "Overview",
  "every environment (tier, slots, weights, rollout, maintenance, last release) and recent activity",
);
export const EnvironmentSchema = loose(
  "Environment",
  "one environment: status, configuration names, services, settings diff",
);
export const ConfigSchema = z
  .object({
    settings: z.array(z.string()),
    secrets: z.array(z.string()).openapi({ description: "names only: values never leave Secrets Manager" }),
    counts: z.object({ public: z.number(), sensitive: z.number() }),
  })
  .openapi("Config");
export const StatusSchema = loose(
  "Status",
  "the release file's state: slots, weights, rollout, last analysis, pending deploy, maintenance",
);
export const HistorySchema = z
  .array(z.looseObject({ seq: z.number(), at: z.string(), by: z.string(), command: z.string(), outcome: z.string() }))
  .openapi("History");
export const HealthSchema = loose(
  "Health",
  "observedAt, weights, health (healthy/unhealthy/other targets per slot), alarms, workloads; each part may be {error}",
);
export const MetricsSchema = loose(
  "Metrics",
  "start, end, periodSeconds, totals and periods per slot (requests, target5xx, p99Seconds); or {error}",
);
export const ChangeSchema = loose("Change", "one record of the history, with its analysis");
export const RolloutViewSchema = loose(
  "RolloutView",
  "the rollout's steps, the target's weight over time, each analysis with its evidence per poll and its verdict in words, the traffic plan",
);
