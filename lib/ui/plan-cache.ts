/**
 * The traffic plans the rollout view shows, kept a minute per environment and request: the page is
 * fetched again at every poll of a step baking, the plan of a rollout changes only with its rate
 * (a rollout this console runs: the rate it was started with; otherwise the load balancer's history).
 */
import type { TrafficPlan } from "../release/rollout/plan.ts";
import type { Action, ReleaseCore } from "./core.ts";

const KEEP_MS = 60_000;

export class PlanCache {
  private readonly plans = new Map<string, { at: number; plan: TrafficPlan | { error: string } | null }>();

  constructor(private readonly core: ReleaseCore) {}

  /** `action`: the rollout this console runs in `env`, if any (its rate is the plan's). */
  async of(env: string, action?: Action): Promise<TrafficPlan | { error: string } | null> {
    const req =
      action?.kind === "rollout"
        ? {
            ...(action.rps !== undefined ? { rps: action.rps } : {}),
            ...(action.errorRate !== undefined ? { errorRatePercent: action.errorRate } : {}),
          }
        : {};
    const key = `${env} ${JSON.stringify(req)}`;
    const hit = this.plans.get(key);
    if (hit && Date.now() - hit.at < KEEP_MS) return hit.plan;
    const plan = (await this.core.plan(env, req)) ?? null;
    this.plans.set(key, { at: Date.now(), plan });
    if (this.plans.size > 100) this.plans.delete(this.plans.keys().next().value!);
    return plan;
  }
}
