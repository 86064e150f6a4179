/**
 * The rollout as a sequence of reconcile steps over its typed context (./context.ts), in the style
 * of Argo Rollouts: each step looks at the state, does its part, and says whether the run goes on.
 *
 *   1. rejudgeInterruptedStep  a weight step applied before an interruption is judged again
 *   2. canarySteps             each weight step: deploy, read back, bake; each pause: wait
 *   3. postSwitchWatch         the new slot at 100 % keeps being analysed
 *   4. complete                the canary becomes the live slot
 */

import { calendarOf } from "../calendar.ts";
import * as core from "../core.ts";
import { formatWeights } from "../dry-run.ts";
import { emit } from "../emit.ts";
import { calendarAt, fitsWindow, hasCalendar, localTime } from "../gates/calendar.ts";
import { GateStoppedError, SupersededError } from "../model/errors.ts";
import type { Release } from "../model/release.ts";
import { weightsOf } from "../model/slots.ts";
import { bake, judgeStep } from "./bake.ts";
import { applyWeightStep, verifyApplied } from "./observe.ts";
import { commitOnly, interrupted, type RolloutContext } from "./run-context.ts";

/** `next`: go on with the following step; `stop`: the run ends here (e.g. at a manual pause). */
export type StepOutcome = "next" | "stop";

export interface ReconcileStep {
  readonly name: string;
  run(rc: RolloutContext): Promise<StepOutcome>;
}

const rejudgeInterruptedStep: ReconcileStep = {
  name: "rejudge the interrupted step",
  async run(rc) {
    if (!rc.resumed) return "next";
    // The applied step was interrupted before its verdict: judge it again, from the start.
    const ro = rc.state.release.rollout!;
    const i = ro.nextStep - 1;
    await verifyApplied(rc);
    await judgeStep(rc, i, ro.steps[i] as { percent: number; bakeSeconds: number });
    return "next";
  },
};

const canarySteps: ReconcileStep = {
  name: "canary steps",
  async run(rc) {
    const { ctx, env } = rc;
    for (;;) {
      const ro = rc.state.release.rollout!;
      if (ro.paused) {
        printPaused(rc.ctx.progress, rc.state.release);
        return "stop";
      }
      if (ro.nextStep >= ro.steps.length) return "next";
      const i = ro.nextStep;
      const step = ro.steps[i]!;
      if ("percent" in step) {
        if (i > 0 && (await holdForCalendar(rc, step.bakeSeconds))) return "stop";
        ctx.progress.info(`${env}: step ${i + 1}/${ro.steps.length}: ${rc.canary} → ${step.percent} %`);
        await applyWeightStep(rc);
        await judgeStep(rc, i, step);
      } else {
        const paused = await commitOnly(
          rc,
          (x) => core.advanceRollout(x),
          step.pause === "manual" ? "paused" : "rollout-pause",
        );
        if (step.pause === "manual")
          emit(ctx, env, "paused", {
            reason: `the rollout of ${rc.canary} waits at a manual pause after step ${i}/${ro.steps.length}: continue with 'envctl rollout ${env} --continue'`,
            release: paused,
          });
        if (typeof step.pause === "number") {
          ctx.progress.info(
            `${env}: step ${i + 1}/${ro.steps.length}: pause ${step.pause} s at ${formatWeights(rc.state.expected)}, still analysing`,
          );
          await bake(rc, step.pause, i, rc.state.expected[rc.canary], false);
        }
      }
    }
  },
};

const postSwitchWatch: ReconcileStep = {
  name: "post-switch watch",
  async run(rc) {
    const seconds = rc.analysis.postSwitchWatchSeconds;
    if (seconds > 0) {
      rc.ctx.progress.info(
        `${rc.env}: ${rc.canary} serves 100 %; post-switch watch for ${seconds} s (the old slot ${rc.stable} keeps its version)`,
      );
      await judgeStep(rc, "watch", { percent: 100, bakeSeconds: seconds });
    }
    return "next";
  },
};

const complete: ReconcileStep = {
  name: "complete",
  async run(rc) {
    const r = await commitOnly(rc, (x) => core.completeRollout(x), "rollout-complete");
    emit(rc.ctx, rc.env, "promotion", {
      reason: `rollout complete: ${rc.canary} (${slotLabel(r.slots[rc.canary])}) is live`,
      release: r,
    });
    rc.ctx.progress.info(
      `${rc.env}: rollout complete: ${rc.canary} (${slotLabel(r.slots[rc.canary])}) is live; 'envctl ` +
        `rollback ${rc.env}' returns to ${rc.stable} (${slotLabel(r.slots[rc.stable])})`,
    );
    return "next";
  },
};

export const RECONCILE_STEPS: readonly ReconcileStep[] = [
  rejudgeInterruptedStep,
  canarySteps,
  postSwitchWatch,
  complete,
];

/** Runs the steps in order until one stops the run; a signal returns the traffic (or leaves it). */
export async function reconcile(
  rc: RolloutContext,
  steps: readonly ReconcileStep[] = RECONCILE_STEPS,
): Promise<Release> {
  try {
    for (const step of steps) {
      if ((await step.run(rc)) === "stop") break;
    }
    return rc.state.release;
  } catch (err) {
    if (rc.ctx.signal?.aborted && !(err instanceof GateStoppedError) && !(err instanceof SupersededError))
      return interrupted(rc);
    throw err;
  }
}

/**
 * At the release window's end (or a freeze's start) a rollout stops before its next weight step, at
 * the weight it has: recorded, notified, and resumed with `envctl rollout <env>` in the next window
 * (which judges the held step again first). True when it held.
 */
async function holdForCalendar(rc: RolloutContext, bakeSeconds: number): Promise<boolean> {
  const { ctx, env } = rc;
  const cal = calendarOf(rc.environment);
  const now = ctx.clock.now();
  const state = calendarAt(cal, now);
  if (!hasCalendar(cal) || fitsWindow(state, now, bakeSeconds) || ctx.options.breakGlass !== undefined) return false;
  const why = state.open
    ? `the next step's ${bakeSeconds} s bake would end after the window closes at ${localTime(cal, state.closesAt!)}`
    : `the release calendar is closed (${state.reason})`;
  const next = state.open ? calendarAt(cal, state.closesAt!) : state;
  const opening = !next.open && next.nextOpening ? ` (${localTime(cal, next.nextOpening)})` : "";
  const note =
    `held at ${formatWeights(rc.state.expected)}: ${why}; resume in the next window${opening} ` +
    `with 'envctl rollout ${env}', or 'envctl abort ${env}'`;
  const held = await commitOnly(rc, (x) => x, "window-hold", { note });
  emit(ctx, env, "window-hold", { reason: `the rollout of ${rc.canary} ${note}`, release: held });
  ctx.progress.info(`${env}: the rollout of ${rc.canary} ${note}`);
  return true;
}

export function printPaused(progress: { info(line: string): void }, r: Release): void {
  const ro = r.rollout!;
  progress.info(
    `${r.environment}: the rollout of ${ro.target} waits at a manual pause after step ` +
      `${ro.nextStep - 1}/${ro.steps.length}; the ALB serves ` +
      `${formatWeights(weightsOf(r))}. Continue: 'envctl rollout ${r.environment} --continue'; stop: 'envctl abort ${r.environment}'`,
  );
}

/** A slot as a person reads it: its version, and the settings it runs when it carries any. */
function slotLabel(s: { readonly version: string | null; readonly settings?: { readonly checksum: string } }): string {
  return `${s.version ?? "empty"}${s.settings ? `, settings ${s.settings.checksum}` : ""}`;
}
