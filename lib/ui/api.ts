/**
 * The HTTP API under /api: reads of the environments, and (unless read-only) the actions, each
 * validated by its zod schema (bad input: 400 with the problems, each naming environment, field
 * and rule; nothing runs) and run through the release core as envctl runs it. An action answers
 * with its outcome when it ends within `settleMs`, else 202 and its operation id; its progress
 * streams on /api/events.
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { zodProblems } from "../config/errors.ts";
import { unknownEnvironmentMessage } from "../config/suggest.ts";
import { readAudit } from "../release/store/index.ts";
import { actionRoutes } from "./api-actions.ts";
import { type ApiOptions, type Env, errors, ok, on, param, problem } from "./api-common.ts";
import type { ReleaseCore } from "./core.ts";
import { environmentOf, historyOf, overviewOf, rolloutOf } from "./data.ts";
import type { Operations } from "./operations.ts";
import { PlanCache } from "./plan-cache.ts";
import * as S from "./schemas.ts";

export function apiRoutes(core: ReleaseCore, ops: Operations, o: ApiOptions): OpenAPIHono<Env> {
  const api = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const subject = c.req.param("name") ?? "request";
      return c.json(
        { error: "invalid request: nothing was changed", problems: zodProblems(subject, result.error) },
        400,
      );
    },
  });
  const plans = new PlanCache(core);
  /** The project and one environment of it, or the 404 naming the known ones. */
  const find = async (name: string) => {
    const project = await core.load();
    const e = project.environments.find((x) => x.config.name === name);
    const known = project.environments.map((x) => x.config.name);
    return { project, e, missing: problem(name, unknownEnvironmentMessage(name, known)) };
  };
  const get = (path: string, summary: string, request: object, response: object) =>
    createRoute({ method: "get", path, summary, request, responses: { ...response, ...errors } });

  on(
    api,
    get("/session", "this session's CSRF token and the console's mode", {}, ok(S.SessionSchema, "the session")),
    (c) =>
      c.json(
        { csrf: o.session(c).csrf, readOnly: o.readOnly, actor: core.actor(), tokenRequired: o.tokenRequired },
        200,
      ),
  );
  on(
    api,
    get("/environments", "every environment and the recent activity", {}, ok(S.OverviewSchema, "the overview")),
    async (c) => c.json(overviewOf(await core.load(), { now: core.now() }), 200),
  );
  on(
    api,
    get(
      "/environments/{name}",
      "one environment",
      { params: S.NameParams },
      ok(S.EnvironmentSchema, "the environment"),
    ),
    async (c) => {
      const { project, e, missing } = await find(param(c).name);
      if (!e) return c.json(missing, 404);
      const card = overviewOf({ ...project, environments: [e] }, { now: core.now() }).environments[0];
      return c.json({ ...environmentOf(e), status: card }, 200);
    },
  );
  on(
    api,
    get(
      "/environments/{name}/config",
      "settings and secret names (never values), public and sensitive counts",
      { params: S.NameParams },
      ok(S.ConfigSchema, "the names"),
    ),
    async (c) => {
      const { e, missing } = await find(param(c).name);
      return e ? c.json(environmentOf(e).config, 200) : c.json(missing, 404);
    },
  );
  on(
    api,
    get(
      "/environments/{name}/status",
      "the release file's state",
      { params: S.NameParams },
      ok(S.StatusSchema, "the status"),
    ),
    async (c) => {
      const { project, e, missing } = await find(param(c).name);
      return e
        ? c.json(overviewOf({ ...project, environments: [e] }, { now: core.now() }).environments[0], 200)
        : c.json(missing, 404);
    },
  );
  on(
    api,
    get(
      "/environments/{name}/history",
      "the history, newest first, with actor and approvers",
      { params: S.NameParams },
      ok(S.HistorySchema, "the history"),
    ),
    async (c) => {
      const { project, e, missing } = await find(param(c).name);
      return e ? c.json(historyOf(project.root, e.config.name), 200) : c.json(missing, 404);
    },
  );
  on(
    api,
    get(
      "/environments/{name}/history/{seq}",
      "one change by its number",
      { params: S.SeqParams },
      ok(S.ChangeSchema, "the change"),
    ),
    async (c) => {
      const { name, seq } = param(c);
      const { project, e, missing } = await find(name);
      if (!e) return c.json(missing, 404);
      const change = readAudit(project.root, name).find((a) => a.seq === seq);
      return change ? c.json(change, 200) : c.json(problem(name, `has no change ${seq} in its history`, "seq"), 404);
    },
  );
  on(
    api,
    get(
      "/environments/{name}/rollout",
      "the rollout: steps, weights over time, evidence, verdicts in words, its traffic plan",
      { params: S.NameParams },
      ok(S.RolloutViewSchema, "the rollout"),
    ),
    async (c) => {
      const name = param(c).name;
      const running = ops.runningRollout(name);
      const view = rolloutOf(
        await core.load(),
        name,
        core.now(),
        running?.lines.map((l) => l.text),
        await plans.of(name, running?.action),
      );
      return view ? c.json(view, 200) : c.json((await find(name)).missing, 404);
    },
  );
  on(
    api,
    get(
      "/environments/{name}/health",
      "what runs now: the ALB's weights, target health per slot, the gate's alarms (a part that cannot be read is {error})",
      { params: S.NameParams },
      ok(S.HealthSchema, "the observation"),
    ),
    async (c) => {
      const name = param(c).name;
      const seen = await core.observe(name);
      return seen ? c.json(seen, 200) : c.json((await find(name)).missing, 404);
    },
  );
  on(
    api,
    get(
      "/environments/{name}/metrics",
      "the last hour per slot in 5-minute periods: requests, target 5xx, p99 ({error} when CloudWatch cannot be read)",
      { params: S.NameParams },
      ok(S.MetricsSchema, "the metrics"),
    ),
    async (c) => {
      const name = param(c).name;
      const m = await core.metrics(name);
      return m ? c.json(m, 200) : c.json((await find(name)).missing, 404);
    },
  );
  on(
    api,
    get(
      "/operations/{id}",
      "one action of this console: its progress lines and outcome",
      { params: S.OperationParams },
      ok(S.OperationSchema, "the operation"),
    ),
    (c) => {
      const op = ops.get(param(c).id);
      return op ? c.json(op, 200) : c.json(problem("operation", "no such operation in this console"), 404);
    },
  );

  if (!o.readOnly) actionRoutes(api, core, ops, o, find, problem);
  return api;
}

export type { ApiOptions };
