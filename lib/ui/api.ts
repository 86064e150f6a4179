/**
 * The HTTP API under /api: reads of the environments, and (unless read-only) the actions, each
 * validated by its zod schema (bad input: 400 with the problems, each naming environment, field
 * and rule; nothing runs) and run through the release core as envctl runs it. An action answers
 * with its outcome when it ends within `settleMs`, else 202 and its operation id; its progress
 * streams on /api/events.
 */
import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type Problem, zodProblems } from "../config/errors.ts";
import { unknownEnvironmentMessage } from "../config/suggest.ts";
import { readAudit } from "../release/store/index.ts";
import type { AuthVars, Session } from "./auth.ts";
import type { Action, ActionOutcome, ReleaseCore } from "./core.ts";
import { environmentOf, historyOf, overviewOf, rolloutOf } from "./data.ts";
import type { OperationView, Operations } from "./operations.ts";
import * as S from "./schemas.ts";

export interface ApiOptions {
  readonly readOnly: boolean;
  readonly tokenRequired: boolean;
  /** How long an action's request waits for its outcome before answering 202. @default 1500 */
  readonly settleMs?: number;
  /** The session of a request (made when it has none). */
  readonly session: (c: Context) => Session;
}

type Env = { Variables: AuthVars };

const json = { "application/json": { schema: S.ErrorSchema } };
const errors = {
  400: { description: "invalid input: the problems, each naming environment, field and rule; nothing changed", content: json },
  404: { description: "no such environment (or change, or operation)", content: json },
};
const actionErrors = {
  ...errors,
  409: { description: "refused (as envctl refuses: state, approvals, account, gate), nothing changed by this request", content: json },
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

type Handler = (c: Context<Env>) => Response | Promise<Response>;
/** Registers a route; its request is validated by the route's schemas (the default hook answers 400) before the handler. */
const on = (api: OpenAPIHono<Env>, route: ReturnType<typeof createRoute>, handler: Handler) => api.openapi(route, handler as never);
// biome-ignore lint/suspicious/noExplicitAny: the route's schema validated it
const param = (c: Context<Env>): any => (c.req.valid as (t: string) => unknown)("param");
// biome-ignore lint/suspicious/noExplicitAny: the route's schema validated it
const body = (c: Context<Env>): any => (c.req.valid as (t: string) => unknown)("json");

const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { "application/json": { schema } } },
});

export function apiRoutes(core: ReleaseCore, ops: Operations, o: ApiOptions): OpenAPIHono<Env> {
  const api = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const subject = c.req.param("name") ?? "request";
      return c.json({ error: "invalid request: nothing was changed", problems: zodProblems(subject, result.error) }, 400);
    },
  });
  const problem = (subject: string, message: string, path = ""): { error: string; problems: Problem[] } => ({
    error: `${subject}: ${message}`,
    problems: [{ subject, path, message }],
  });
  /** The project and one environment of it, or the 404 naming the known ones. */
  const find = async (name: string) => {
    const project = await core.load();
    const e = project.environments.find((x) => x.config.name === name);
    const known = project.environments.map((x) => x.config.name);
    return { project, e, missing: problem(name, unknownEnvironmentMessage(name, known)) };
  };
  const get = (path: string, summary: string, request: object, response: object) =>
    createRoute({ method: "get", path, summary, request, responses: { ...response, ...errors } });

  on(api, get("/session", "this session's CSRF token and the console's mode", {}, ok(S.SessionSchema, "the session")), (c) =>
    c.json({ csrf: o.session(c).csrf, readOnly: o.readOnly, actor: core.actor(), tokenRequired: o.tokenRequired }, 200),
  );
  on(api, get("/environments", "every environment and the recent activity", {}, ok(S.OverviewSchema, "the overview")), async (c) =>
    c.json(overviewOf(await core.load(), core.now()), 200),
  );
  on(api, get("/environments/{name}", "one environment", { params: S.NameParams }, ok(S.EnvironmentSchema, "the environment")), async (c) => {
    const { project, e, missing } = await find(param(c).name);
    if (!e) return c.json(missing, 404);
    const card = overviewOf({ ...project, environments: [e] }, core.now()).environments[0];
    return c.json({ ...environmentOf(e), status: card }, 200);
  });
  on(api, 
    get("/environments/{name}/config", "settings and secret names (never values), public and sensitive counts", { params: S.NameParams }, ok(S.ConfigSchema, "the names")),
    async (c) => {
      const { e, missing } = await find(param(c).name);
      return e ? c.json(environmentOf(e).config, 200) : c.json(missing, 404);
    },
  );
  on(api, get("/environments/{name}/status", "the release file's state", { params: S.NameParams }, ok(S.StatusSchema, "the status")), async (c) => {
    const { project, e, missing } = await find(param(c).name);
    return e ? c.json(overviewOf({ ...project, environments: [e] }, core.now()).environments[0], 200) : c.json(missing, 404);
  });
  on(api, get("/environments/{name}/history", "the history, newest first, with actor and approvers", { params: S.NameParams }, ok(S.HistorySchema, "the history")), async (c) => {
    const { project, e, missing } = await find(param(c).name);
    return e ? c.json(historyOf(project.root, e.config.name), 200) : c.json(missing, 404);
  });
  on(api, get("/environments/{name}/history/{seq}", "one change by its number", { params: S.SeqParams }, ok(S.ChangeSchema, "the change")), async (c) => {
    const { name, seq } = param(c);
    const { project, e, missing } = await find(name);
    if (!e) return c.json(missing, 404);
    const change = readAudit(project.root, name).find((a) => a.seq === seq);
    return change ? c.json(change, 200) : c.json(problem(name, `has no change ${seq} in its history`, "seq"), 404);
  });
  on(api, get("/environments/{name}/rollout", "the rollout: steps, weights over time, evidence, verdicts in words", { params: S.NameParams }, ok(S.RolloutViewSchema, "the rollout")), async (c) => {
    const name = param(c).name;
    const view = rolloutOf(await core.load(), name, core.now());
    return view ? c.json(view, 200) : c.json((await find(name)).missing, 404);
  });
  on(api, get("/operations/{id}", "one action of this console: its progress lines and outcome", { params: S.OperationParams }, ok(S.OperationSchema, "the operation")), (c) => {
    const op = ops.get(param(c).id);
    return op ? c.json(op, 200) : c.json(problem("operation", "no such operation in this console"), 404);
  });

  if (!o.readOnly) actionRoutes(api, core, ops, o, find, problem);
  return api;
}

function actionRoutes(
  api: OpenAPIHono<Env>,
  _core: ReleaseCore,
  ops: Operations,
  o: ApiOptions,
  find: (name: string) => Promise<{ e?: { config: { tier: string } }; missing: { error: string; problems: Problem[] } }>,
  problem: (subject: string, message: string, path?: string) => { error: string; problems: Problem[] },
): void {
  const settleMs = o.settleMs ?? 1500;
  const post = <B extends z.ZodType>(action: string, summary: string, body: B) =>
    createRoute({
      method: "post",
      path: `/environments/{name}/${action}`,
      summary,
      request: { params: S.NameParams, body: { content: { "application/json": { schema: body } }, required: true } },
      responses: {
        ...ok(S.OperationSchema, "done: the operation and its outcome"),
        202: { description: "still running: follow it on /api/events or /api/operations/{id}", content: { "application/json": { schema: S.OperationSchema } } },
        ...actionErrors,
      },
    });

  /** Validates the environment and production's typed confirmation, starts the action, answers. */
  const run = async (c: Context<Env>, name: string, confirm: string | undefined, action: Action) => {
    const { e, missing } = await find(name);
    if (!e) return c.json(missing, 404);
    if (e.config.tier === "production" && confirm !== name)
      return c.json(problem(name, `is production: type its name (${name}) to confirm`, "confirm"), 400);
    const { view, done } = ops.start(action, confirm === name);
    const settled = await Promise.race([done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), settleMs))]);
    if (!settled) return c.json(view as OperationView, 202);
    const outcome = view.outcome!;
    if (outcome.ok) return c.json(view, 200);
    return c.json({ error: outcome.message, exitCode: outcome.exitCode, problems: [...outcome.problems], operation: view.id }, statusOf(outcome));
  };

  on(api, post("promote", "promote: the source's live version (or `version`) into this environment's idle slot", S.PromoteBody), async (c) => {
    const { name } = param(c);
    const b = body(c);
    return run(c, name, b.confirm, { kind: "promote", from: b.from, to: name, ...(b.version ? { version: b.version } : {}) });
  });
  on(api, post("shift", "shift: set the weights and deploy the traffic stack", S.ShiftBody), async (c) => {
    const { name } = param(c);
    const b = body(c);
    return run(c, name, b.confirm, { kind: "shift", env: name, to: b.to, percent: b.percent });
  });
  on(api, post("rollout", "rollout: start, resume, or continue from a manual pause (long: answers 202)", S.RolloutBody), async (c) => {
    const { name } = param(c);
    const b = body(c);
    return run(c, name, b.confirm, { kind: "rollout", env: name, continue: b.continue });
  });
  for (const kind of ["abort", "rollback"] as const)
    on(api, post(kind, kind === "abort" ? "abort the rollout: weights back to where it started, at once" : "roll back: all traffic to the previous live slot, at once", S.ConfirmBody), async (c) => {
      const { name } = param(c);
      return run(c, name, body(c).confirm, { kind, env: name });
    });
  on(api, post("approve", "approve a change waiting for approval, as the console's AWS identity", S.ApproveBody), async (c) => {
    const { name } = param(c);
    return run(c, name, name, { kind: "approve", env: name, changeId: body(c).changeId });
  });
  on(api, post("maintenance", "maintenance mode on or off", S.MaintenanceBody), async (c) => {
    const { name } = param(c);
    const b = body(c);
    return run(c, name, b.confirm, {
      kind: "maintenance",
      env: name,
      state: b.state,
      ...(b.message !== undefined ? { message: b.message } : {}),
      ...(b.allowCidrs ? { allowCidrs: b.allowCidrs } : {}),
    });
  });
  on(api, post("pause", "pause: interrupt the rollout this console runs; the traffic stays where it is (resume: rollout)", S.ConfirmBody), async (c) => {
    const { name } = param(c);
    const running = ops.runningRollout(name);
    if (!running) return c.json(problem(name, "has no rollout running in this console to pause"), 409);
    ops.interrupt(running.id);
    return c.json(running, 200);
  });
}
