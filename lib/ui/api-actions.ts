/**
 * The API's actions (not served read-only): each validated by its schema, production's typed
 * confirmation checked, then run as an operation through the release core (./operations.ts).
 */
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Problem } from "../config/errors.ts";
import { type ApiOptions, actionErrors, body, type Env, ok, on, param, statusOf } from "./api-common.ts";
import type { Action, ReleaseCore } from "./core.ts";
import type { Operations, OperationView } from "./operations.ts";
import * as S from "./schemas.ts";

export function actionRoutes(
  api: OpenAPIHono<Env>,
  _core: ReleaseCore,
  ops: Operations,
  o: ApiOptions,
  find: (
    name: string,
  ) => Promise<{ e?: { config: { tier: string } }; missing: { error: string; problems: Problem[] } }>,
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
        202: {
          description: "still running: follow it on /api/events or /api/operations/{id}",
          content: { "application/json": { schema: S.OperationSchema } },
        },
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
    const settled = await Promise.race([
      done.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), settleMs)),
    ]);
    if (!settled) return c.json(view as OperationView, 202);
    const outcome = view.outcome!;
    if (outcome.ok) return c.json(view, 200);
    return c.json(
      { error: outcome.message, exitCode: outcome.exitCode, problems: [...outcome.problems], operation: view.id },
      statusOf(outcome),
    );
  };

  on(
    api,
    post(
      "promote",
      "promote: the source's live version (or `version`) into this environment's idle slot",
      S.PromoteBody,
    ),
    async (c) => {
      const { name } = param(c);
      const b = body(c);
      return run(c, name, b.confirm, {
        kind: "promote",
        from: b.from,
        to: name,
        ...(b.version ? { version: b.version } : {}),
      });
    },
  );
  on(api, post("shift", "shift: set the weights and deploy the traffic stack", S.ShiftBody), async (c) => {
    const { name } = param(c);
    const b = body(c);
    return run(c, name, b.confirm, { kind: "shift", env: name, to: b.to, percent: b.percent });
  });
  on(
    api,
    post("rollout", "rollout: start, resume, or continue from a manual pause (long: answers 202)", S.RolloutBody),
    async (c) => {
      const { name } = param(c);
      const b = body(c);
      return run(c, name, b.confirm, {
        kind: "rollout",
        env: name,
        continue: b.continue,
        ...(b.rps !== undefined ? { rps: b.rps } : {}),
        ...(b.errorRate !== undefined ? { errorRate: b.errorRate } : {}),
      });
    },
  );
  for (const kind of ["abort", "rollback"] as const)
    on(
      api,
      post(
        kind,
        kind === "abort"
          ? "abort the rollout: weights back to where it started, at once"
          : "roll back: all traffic to the previous live slot, at once",
        S.ConfirmBody,
      ),
      async (c) => {
        const { name } = param(c);
        return run(c, name, body(c).confirm, { kind, env: name });
      },
    );
  on(
    api,
    post("approve", "approve a change waiting for approval, as the console's AWS identity", S.ApproveBody),
    async (c) => {
      const { name } = param(c);
      return run(c, name, name, { kind: "approve", env: name, changeId: body(c).changeId });
    },
  );
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
  on(
    api,
    post(
      "pause",
      "pause: interrupt the rollout this console runs; the traffic stays where it is (resume: rollout)",
      S.ConfirmBody,
    ),
    async (c) => {
      const { name } = param(c);
      const running = ops.runningRollout(name);
      if (!running) return c.json(problem(name, "has no rollout running in this console to pause"), 409);
      ops.interrupt(running.id);
      return c.json(running, 200);
    },
  );
}
