/**
 * Maintenance mode (`envctl maintenance <env> on|off`): a 503 page ahead of the weighted rule, in
 * the traffic stack, switched like a rollback: written to the listener directly first (the fast
 * band's rules, one API call each), read back, announced, then the release file changed and the
 * traffic stack deployed by the deploy protocol; once the deploy has put the stack's own rules in
 * place, the fast ones are removed, and the engine's next plan finds nothing to change. The
 * environment stack is never touched.
 */
import { type Context, environment, locked } from "./command-context.ts";
import * as core from "./core.ts";
import { applyTransition, refusePending, syncBypass } from "./deploy-protocol.ts";
import { releaseDiff, showDeployDryRun } from "./dry-run.ts";
import { emit } from "./emit.ts";
import { describeCause, RefusedError } from "./model/errors.ts";
import type { Maintenance } from "./model/maintenance.ts";
import type { Release } from "./model/release.ts";
import type { MaintenanceRules, ReleaseEnvironment } from "./ports/index.ts";
import { trafficStack } from "./release-stacks.ts";
import { withRetries } from "./retry.ts";

/** What `maintenance on` asks for (who and when come from the command). */
export interface MaintenanceRequest {
  readonly message: string;
  readonly allowCidrs: readonly string[];
  /** A header that bypasses the page, its value in the Secrets Manager secret `secretId` (never here). */
  readonly allowHeader: { readonly name: string; readonly secretId: string } | null;
}

/** The page people get unless `--message` says otherwise. */
export const DEFAULT_MAINTENANCE_MESSAGE =
  "<html><body><h1>Down for maintenance</h1><p>We will be back shortly.</p></body></html>";

type Header = Maintenance["allowHeader"];

const sameRequest = (m: Maintenance | undefined, q: MaintenanceRequest, header: Header) =>
  m !== undefined &&
  m.message === q.message &&
  JSON.stringify(m.allowCidrs) === JSON.stringify(q.allowCidrs) &&
  JSON.stringify(m.allowHeader) === JSON.stringify(header);

/** True when the listener serves the page (a 503) ahead of the weighted rule. */
export function servesPage(rules: MaintenanceRules, message?: string): boolean {
  return (
    rules.page !== null &&
    rules.page.statusCode === "503" &&
    rules.page.priority < rules.weightedPriority &&
    (message === undefined || rules.page.body === message)
  );
}

/** Switches maintenance on (`request`) or off (null). */
export async function maintenance(ctx: Context, env: string, request: MaintenanceRequest | null): Promise<Release> {
  const e = environment(ctx, env);
  const r = ctx.store.load(env);
  refusePending(r);
  const on = request !== null;
  const header = on ? await bypassHeader(ctx, e, request) : null;
  if (on && sameRequest(r.maintenance, request, header)) {
    ctx.progress.info(
      `${env}: nothing to change: in maintenance since ${r.maintenance!.since} with this page and these bypasses`,
    );
    if (header && !ctx.options.dryRun) await syncBypass(ctx, e);
    return r;
  }
  if (!on && !r.maintenance) {
    ctx.progress.info(`${env}: nothing to change: not in maintenance`);
    return r;
  }
  if (on && r.rollout && !r.rollout.paused) {
    throw new RefusedError(
      `${env} has a rollout of ${r.rollout.target} in progress (step ` +
        `${r.rollout.nextStep}/${r.rollout.steps.length}): its analysis would judge the maintenance ` +
        `page; stop it first ('envctl abort ${env}'), then switch maintenance on`,
    );
  }
  const transition = (x: Release) =>
    on
      ? core.maintenanceOn(x, {
          ...request,
          allowCidrs: [...request.allowCidrs],
          allowHeader: header,
          since: ctx.clock.now().toISOString(),
          by: ctx.actor,
        })
      : core.maintenanceOff(x);
  const stacks = [trafficStack(e)];
  const why = on
    ? `maintenance on: a 503 page ahead of the weighted rule${describeBypass(request)}`
    : "maintenance off: the weighted rule serves again";
  if (ctx.options.dryRun) {
    const next = transition(r);
    const first = `write the ${on ? "page" : "removal"} to the listener directly`;
    showDeployDryRun(ctx, { env, before: r, after: next, stacks, first });
    return r;
  }
  await ctx.approve(e, { summary: `${ctx.command}: ${why}`, diff: releaseDiff(env, r, transition(r)), stacks });
  const direct = ctx.options.deploy ? await writeNow(ctx, e, request && { ...request, allowHeader: header }) : false;
  emit(ctx, env, on ? "maintenance-on" : "maintenance-off", {
    reason: `${why}${direct ? "" : " (applied by the deploy)"}`,
    release: r,
  });
  const done = await locked(ctx, env, () =>
    applyTransition(ctx, env, stacks, transition, on ? "maintenance-on" : "maintenance-off", { note: why }),
  );
  if (ctx.options.deploy) await converge(ctx, e, request);
  return done;
}

function describeBypass(q: MaintenanceRequest): string {
  const parts = [
    ...(q.allowCidrs.length ? [`CIDRs ${q.allowCidrs.join(", ")}`] : []),
    ...(q.allowHeader ? [`header ${q.allowHeader.name}`] : []),
  ];
  return parts.length ? ` (bypass: ${parts.join("; ")})` : "";
}

/**
 * The bypass header as the release file records it: the secret's id and its current version (the
 * value checked, never read into the core). It exists only as a rule envctl writes (the traffic
 * stack cannot hold it without its value reaching the plan and the state), so it needs the deploy.
 */
async function bypassHeader(ctx: Context, e: ReleaseEnvironment, q: MaintenanceRequest): Promise<Header> {
  if (!q.allowHeader) return null;
  if (!ctx.options.deploy)
    throw new RefusedError(
      `${e.name}: --allow-header needs the deploy: envctl writes the bypass rule itself, from the secret ` +
        `${q.allowHeader.secretId}, because Terraform would put its value in the plan and the state (drop --no-deploy)`,
    );
  try {
    const version = await withRetries(2, () => ctx.maintenance(e).bypassVersion(q.allowHeader!.secretId), ctx.clock);
    return { name: q.allowHeader.name, secret: { id: q.allowHeader.secretId, version } };
  } catch (err) {
    throw new RefusedError(`${e.name}: nothing changed: ${describeCause(err)}`);
  }
}

/** The direct write and its read-back; false (with a note) when the deploy must do it alone. */
async function writeNow(
  ctx: Context,
  e: ReleaseEnvironment,
  request: (Omit<MaintenanceRequest, "allowHeader"> & { allowHeader: Header }) | null,
): Promise<boolean> {
  const t0 = performance.now();
  const sw = ctx.maintenance(e);
  try {
    if (request) {
      const m: Maintenance = {
        ...request,
        allowCidrs: [...request.allowCidrs],
        since: ctx.clock.now().toISOString(),
        by: ctx.actor,
      };
      await withRetries(3, () => sw.on(m), ctx.clock);
    } else {
      await withRetries(3, () => sw.remove("all"), ctx.clock);
    }
    const back = await withRetries(3, () => sw.read(), ctx.clock);
    const ms = Math.round(performance.now() - t0);
    const ok = request ? servesPage(back, request.message) : back.page === null;
    if (!ok) {
      ctx.progress.info(
        `${e.name}: wrote maintenance ${request ? "on" : "off"} to the listener, but it reads back ` +
          `${back.page ? `a page at priority ${back.page.priority}` : "no page"}; the deploy follows`,
      );
      return false;
    }
    ctx.progress.info(
      `${e.name}: the listener ${
        request
          ? `serves the maintenance page (503, priority ` +
            `${back.page!.priority}, ahead of the weighted rule at ${back.weightedPriority})`
          : "serves the weighted rule again (no maintenance rule)"
      }; written and read back in ${ms} ms`,
    );
    return true;
  } catch (err) {
    ctx.progress.info(
      `${e.name}: could not write maintenance ${request ? "on" : "off"} to the listener directly (${describeCause(err)}); deploying the traffic stack instead`,
    );
    return false;
  }
}

/** After the deploy: the fast rules go (the stack's serve the page now), and the result is read back. */
async function converge(ctx: Context, e: ReleaseEnvironment, request: MaintenanceRequest | null): Promise<void> {
  const sw = ctx.maintenance(e);
  try {
    if (request) await withRetries(3, () => sw.remove("fast"), ctx.clock);
    const back = await withRetries(3, () => sw.read(), ctx.clock);
    const ok = request ? servesPage(back, request.message) : back.page === null && back.priorities.length === 0;
    ctx.progress.info(
      ok
        ? `${e.name}: converged: ${request ? `the traffic stack's page serves at priority ${back.page!.priority}` : "no maintenance rule is left"}`
        : `${e.name}: after the deploy the listener reads back ` +
            `${back.page ? `a page at priority ${back.page.priority}` : "no page"} and maintenance ` +
            `rules at ${back.priorities.join(", ") || "none"}: check 'envctl status ${e.name} --live'`,
    );
  } catch (err) {
    ctx.progress.info(
      `${e.name}: could not read the maintenance rules back after the deploy (${describeCause(err)}): check 'envctl status ${e.name} --live'`,
    );
  }
}
