/**
 * What a rollout reads and checks through the ports: the weight step's deploy and its read-back,
 * the ALB every poll (did anyone else move the traffic?), and one observation of the canary's
 * alarms and both slots' metrics. Reads are retried; what cannot be read fails closed.
 */

import { locked } from "../command-context.ts";
import * as core from "../core.ts";
import { applyTransition } from "../deploy-protocol.ts";
import { formatWeights } from "../dry-run.ts";
import { slotReadiness } from "../gates/readiness.ts";
import type { Observation } from "../judge/analysis.ts";
import { DeployFailedError, describeCause, SupersededError } from "../model/errors.ts";
import type { Weights } from "../model/slots.ts";
import { arnSuffix } from "../ports/index.ts";
import { trafficStack } from "../release-stacks.ts";
import { withRetries } from "../retry.ts";
import { adopt, ensureMine, type RolloutContext, rollBack } from "./run-context.ts";

/** A read of CloudWatch or the ALB failed after its retries. */
export class ReadFailure extends Error {}

/** Writes the next weight step and deploys the traffic stack; a failed deploy rolls back. */
export async function applyWeightStep(rc: RolloutContext): Promise<void> {
  const { ctx, env } = rc;
  // EKS: no step moves traffic to a slot whose Deployment is not Ready (fail closed: unreadable is not Ready).
  const workloads = ctx.workloads(rc.environment);
  const version = rc.state.release.slots[rc.canary].version;
  if (workloads && version !== null) {
    const reason = await slotReadiness(workloads, rc.canary, version);
    if (reason) await rollBack(rc, `${reason}: the step does not move traffic to a slot that is not Ready`);
  }
  try {
    await locked(
      ctx,
      env,
      async () => {
        ensureMine(rc, ctx.store.load(env));
        adopt(
          rc,
          await applyTransition(
            ctx,
            env,
            [trafficStack(rc.environment)],
            (x) => core.advanceRollout(x),
            "rollout-step",
          ),
        );
      },
      300,
    );
  } catch (err) {
    if (!(err instanceof DeployFailedError) || ctx.signal?.aborted) throw err;
    await rollBack(rc, `the deploy of the step failed: ${err.message.split("\n")[0]}`);
  }
  await verifyApplied(rc);
}

/** The ALB must serve the weights this rollout applied. */
export async function verifyApplied(rc: RolloutContext): Promise<void> {
  const live = await readAlb(rc);
  if (!core.sameWeights(live, rc.state.expected))
    await rollBack(
      rc,
      `the ALB serves ${formatWeights(live)} after the deploy, not the ${formatWeights(rc.state.expected)} applied`,
    );
}

/** The weights the ALB serves (and, once, the CloudWatch dimensions of its rule). */
export async function readAlb(rc: RolloutContext): Promise<Weights> {
  const { ctx, analysis: a } = rc;
  try {
    const rule = await withRetries(a.readAttempts, () => ctx.traffic(rc.environment).read(), ctx.clock, ctx.signal);
    rc.state.dimensions ??= {
      loadBalancer: arnSuffix(rule.loadBalancerArn),
      targetGroups: { blue: arnSuffix(rule.targetGroupArns.blue), green: arnSuffix(rule.targetGroupArns.green) },
    };
    return rule.weights;
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    return rollBack(
      rc,
      `could not read the ALB's weighted rule after ${a.readAttempts} attempts: ${describeCause(err)}`,
    );
  }
}

/** Stops quietly when someone else moved traffic off the canary; fails closed when traffic moved onto it. */
export async function checkOwnership(rc: RolloutContext): Promise<void> {
  const { env, canary } = rc;
  ensureMine(rc, rc.ctx.store.load(env));
  const live = await readAlb(rc);
  const expected = rc.state.expected;
  if (core.sameWeights(live, expected)) return;
  if (live[canary] < expected[canary]) {
    throw new SupersededError(
      env,
      `${env}: the ALB now serves ${formatWeights(live)}, not the ` +
        `${formatWeights(expected)} this rollout set: traffic was moved off ` +
        `${canary} outside this rollout (envctl abort or rollback on another machine?). This rollout ` +
        `stopped without touching traffic; this machine's release file still shows the rollout: update it (git pull) or run 'envctl abort ${env}'`,
    );
  }
  await rollBack(
    rc,
    `the ALB serves ${formatWeights(live)}: more traffic on ${canary} than the ${formatWeights(expected)} this rollout set, changed outside it`,
  );
}

/** One poll: the canary's alarms and both slots' metrics since `windowStart` (response-time buckets at `latencyEdges`). */
export async function observe(
  rc: RolloutContext,
  windowStart: Date,
  latencyEdges?: readonly number[],
): Promise<Observation> {
  const { ctx, analysis: a } = rc;
  const now = ctx.clock.now();
  const end = new Date(Math.max(now.getTime(), windowStart.getTime() + 1000));
  const read = <T>(what: string, fn: () => Promise<T>) =>
    withRetries(a.readAttempts, fn, ctx.clock, ctx.signal).catch((err) => {
      if (ctx.signal?.aborted) throw err;
      throw new ReadFailure(`could not read ${what} after ${a.readAttempts} attempts: ${describeCause(err)}`);
    });
  const [alarms, metrics] = await Promise.all([
    read("the CloudWatch alarms", () => ctx.alarms(rc.environment).read(rc.canary)),
    read("the CloudWatch metrics", () =>
      ctx.metrics(rc.environment).read({
        ...rc.state.dimensions!,
        start: windowStart,
        end,
        periodSeconds: a.metricPeriodSeconds,
        slowSeconds: a.maxLatencyP99Seconds,
        ...(latencyEdges ? { latencyEdges } : {}),
      }),
    ),
  ]);
  return { canary: rc.canary, stable: rc.stable, windowStart, windowEnd: end, metrics, alarms };
}
