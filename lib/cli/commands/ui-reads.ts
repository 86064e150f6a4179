/**
 * What the console reads for `envctl ui` beyond the release files, through the release's ports
 * (the AWS adapters load on first use; tests replace them through envctl's `Deps`): the last
 * hour's metrics per slot, and the traffic plan of a rollout. Never throws: a read that fails is `{ error }`.
 */
import { lazyMetrics, lazyTraffic, lazyTrafficHistory } from "../../aws/lazy.ts";
import { loadProject } from "../../config/load.ts";
import { describeCause } from "../../release/model/errors.ts";
import { arnSuffix, type SlotMetrics } from "../../release/ports/index.ts";
import { type PlanRequest, type TrafficPlan, trafficPlan } from "../../release/rollout/plan.ts";
import type { Shell } from "../shell.ts";

async function configOf(shell: Shell, name: string) {
  const project = await loadProject(shell.root(), { focus: [name] });
  const e = project.environments.find((x) => x.config.name === name);
  return e ? { e: e.config, release: e.release, aws: shell.awsOptions(project.root)(e.config) } : undefined;
}

/** The last hour per slot in 5-minute periods (requests, target 5xx, p99); undefined: no such environment. */
export async function recentMetrics(shell: Shell, name: string) {
  const found = await configOf(shell, name);
  if (!found) return undefined;
  const { e, aws } = found;
  try {
    const rule = await (shell.deps.traffic?.(e) ?? lazyTraffic(e.name, aws)).read();
    const end = shell.clock.now();
    const start = new Date(end.getTime() - 3600_000);
    const w = await (shell.deps.metrics?.(e) ?? lazyMetrics(aws)).read({
      loadBalancer: arnSuffix(rule.loadBalancerArn),
      targetGroups: { blue: arnSuffix(rule.targetGroupArns.blue), green: arnSuffix(rule.targetGroupArns.green) },
      start,
      end,
      periodSeconds: 300,
      slowSeconds: e.release.analysis.maxLatencyP99Seconds,
    });
    const sums = (m: SlotMetrics) => ({ requests: m.requests, target5xx: m.target5xx, p99Seconds: m.p99Seconds });
    return {
      start: start.toISOString(),
      end: end.toISOString(),
      periodSeconds: 300,
      totals: { blue: sums(w.slots.blue), green: sums(w.slots.green) },
      periods: w.periods.map((p) => ({
        start: p.start.toISOString(),
        blue: sums(p.slots.blue),
        green: sums(p.slots.green),
      })),
    };
  } catch (err) {
    return { error: describeCause(err) };
  }
}

/**
 * The traffic plan of `name`'s rollout (its running rollout's steps, else the policy's), as
 * `envctl analysis plan` computes it: from `req` (the rate a rollout was started with), else the
 * load balancer's history. Undefined: no such environment.
 */
export async function rolloutPlan(
  shell: Shell,
  name: string,
  req: PlanRequest,
): Promise<TrafficPlan | { error: string } | undefined> {
  const found = await configOf(shell, name);
  if (!found) return undefined;
  const { e, aws, release } = found;
  try {
    return await trafficPlan(
      {
        traffic: () => shell.deps.traffic?.(e) ?? lazyTraffic(e.name, aws),
        trafficHistory: () => shell.deps.trafficHistory?.(e) ?? lazyTrafficHistory(aws),
        clock: shell.clock,
      },
      e,
      req,
      release.rollout?.steps ?? e.release.canary,
    );
  } catch (err) {
    return { error: describeCause(err) };
  }
}
