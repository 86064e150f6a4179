/** What the API's routes share: the error responses, envctl's exit codes as HTTP statuses, route registration. */
import type { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Problem } from "../config/errors.ts";
import type { AuthVars, Session } from "./auth.ts";
import type { ActionOutcome } from "./core.ts";
import * as S from "./schemas.ts";

export interface ApiOptions {
  readonly readOnly: boolean;
  readonly tokenRequired: boolean;
  /** How long an action's request waits for its outcome before answering 202. @default 1500 */
  readonly settleMs?: number;
  /** The session of a request (made when it has none). */
  readonly session: (c: Context) => Session;
}

export type Env = { Variables: AuthVars };

const json = { "application/json": { schema: S.ErrorSchema } };
export const errors = {
  400: {
    description: "invalid input: the problems, each naming environment, field and rule; nothing changed",
    content: json,
  },
  404: { description: "no such environment (or change, or operation)", content: json },
};
export const actionErrors = {
  ...errors,
  409: {
    description: "refused (as envctl refuses: state, approvals, account, gate), nothing changed by this request",
    content: json,
  },
  423: { description: "the environment is locked by another envctl or console action", content: json },
  500: { description: "internal error", content: json },
  502: { description: "a deploy failed; the release file is marked pending", content: json },
};

/** The HTTP status of a failed action: envctl's exit code, mapped. */
export function statusOf(o: Extract<ActionOutcome, { ok: false }>): 400 | 409 | 423 | 500 | 502 {
  if (o.problems.length > 0) return 400;
  if (o.exitCode === 5) return 423;
  if (o.exitCode === 4 || o.exitCode === 10) return 502;
  if (o.exitCode === 70) return 500;
  return 409;
}

export type Handler = (c: Context<Env>) => Response | Promise<Response>;
/** Registers a route; its request is validated by the route's schemas (the default hook answers 400) before the handler. */
export const on = (api: OpenAPIHono<Env>, route: ReturnType<typeof createRoute>, handler: Handler) =>
  api.openapi(route, handler as never);
// biome-ignore lint/suspicious/noExplicitAny: the route's schema validated it
export const param = (c: Context<Env>): any => (c.req.valid as (t: string) => unknown)("param");
// biome-ignore lint/suspicious/noExplicitAny: the route's schema validated it
export const body = (c: Context<Env>): any => (c.req.valid as (t: string) => unknown)("json");

export const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { "application/json": { schema } } },
});

/** One problem as the API reports it: `<subject>: <rule>`, and the problem itself. */
export const problem = (subject: string, message: string, path = ""): { error: string; problems: Problem[] } => ({
  error: `${subject}: ${message}`,
  problems: [{ subject, path, message }],
});
