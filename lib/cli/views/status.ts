/**
 * The view of `envctl status` (and the report after every release command): pure functions of a
 * loaded environment and its history.
 */
import type { LoadedEnvironment } from "../../config/load.ts";
import { describeRecord } from "../../release/analysis.ts";
import type { AnalysisRecord, RolloutStep } from "../../release/model.ts";

export interface StatusView {
  environment: string;
  tier: string;
  live: string;
  slots: Record<string, { version: string | null; weight: number }>;
  rollout: { target: string; step: number; steps: (number | string)[]; nextPercent: number | null; paused: boolean } | null;
  pending: { stacks: string[]; command: string; since: string } | null;
  lastChange: { by: string; at: string; command: string } | null;
  /** The newest canary analysis in the history (what the gate measured and decided). */
  lastAnalysis: (AnalysisRecord & { at: string }) | null;
  /** Maintenance mode (the 503 page ahead of the weighted rule); absent when off. */
  maintenance?: { since: string; by: string; message: string; allowCidrs: string[]; allowHeader: string | null };
}

/** A step as status shows it: its percent, or `pause` / `pause 600 s`. */
function stepLabel(s: RolloutStep): number | string {
  return "percent" in s ? s.percent : s.pause === "manual" ? "pause" : `pause ${s.pause} s`;
}

function nextPercent(steps: readonly RolloutStep[]): number | null {
  for (const s of steps) if ("percent" in s) return s.percent;
  return null;
}

/** The newest record of the history that carries an analysis. */
export function lastAnalysisOf(history: readonly { at: string; analysis?: AnalysisRecord }[]): (AnalysisRecord & { at: string }) | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.analysis) return { ...h.analysis, at: h.at };
  }
  return null;
}

export function statusOf(e: LoadedEnvironment, lastAnalysis: (AnalysisRecord & { at: string }) | null = null): StatusView {
  const r = e.release;
  return {
    environment: e.config.name,
    tier: e.config.tier,
    live: r.live,
    slots: { blue: { ...r.slots.blue }, green: { ...r.slots.green } },
    rollout: r.rollout
      ? { target: r.rollout.target, step: r.rollout.nextStep, steps: r.rollout.steps.map(stepLabel), nextPercent: nextPercent(r.rollout.steps.slice(r.rollout.nextStep)), paused: r.rollout.paused }
      : null,
    pending: r.pending ? { stacks: r.pending.stacks, command: r.pending.command, since: r.pending.since } : null,
    lastChange: r.lastChange ? { by: r.lastChange.by, at: r.lastChange.at, command: r.lastChange.command } : null,
    lastAnalysis,
    ...(r.maintenance ? { maintenance: { since: r.maintenance.since, by: r.maintenance.by, message: r.maintenance.message, allowCidrs: [...r.maintenance.allowCidrs], allowHeader: r.maintenance.allowHeader?.name ?? null } } : {}),
  };
}

/** "MAINTENANCE since … by …; bypass …": what status prints while the page is up. */
export function maintenanceText(v: StatusView): string | null {
  const m = v.maintenance;
  if (!m) return null;
  const bypass = [...(m.allowCidrs.length ? [`CIDRs ${m.allowCidrs.join(", ")}`] : []), ...(m.allowHeader ? [`header ${m.allowHeader}`] : [])];
  return `MAINTENANCE since ${m.since} by ${m.by}: users get the 503 page${bypass.length ? `; bypass: ${bypass.join("; ")}` : "; no bypass"} — end it with 'envctl maintenance ${v.environment} off'`;
}

/** "rollout of green: 1/3 steps applied (10 % → 50 % → 100 %), next 50 %" */
export function rolloutText(v: StatusView): string {
  const r = v.rollout;
  if (!r) return "no rollout";
  return `rollout of ${r.target}: ${r.step}/${r.steps.length} steps applied (${r.steps.map((s) => (typeof s === "number" ? `${s} %` : s)).join(" → ")})${r.paused ? `, PAUSED: continue with 'envctl rollout ${v.environment} --continue'` : r.nextPercent !== null ? `, next ${r.nextPercent} %` : ", awaiting completion"}`;
}

export function formatStatus(views: StatusView[]): string {
  const slot = (v: StatusView, s: "blue" | "green") =>
    `${s}${v.live === s ? "*" : " "} ${(v.slots[s]!.version ?? "-").padEnd(10)} ${String(v.slots[s]!.weight).padStart(3)} %`;
  return views.map((v) => {
    const lines = [`${v.environment} (${v.tier})  live: ${v.live}`, `  ${slot(v, "blue")}    ${slot(v, "green")}`];
    const m = maintenanceText(v);
    if (m) lines.push(`  ${m}`);
    if (v.rollout) lines.push(`  ${rolloutText(v)}`);
    if (v.pending) lines.push(`  PENDING: deploy of ${v.pending.stacks.join(", ")} by '${v.pending.command}' since ${v.pending.since} did not finish — run 'envctl reconcile ${v.environment}'`);
    lines.push(`  last change: ${v.lastChange ? `${v.lastChange.by} at ${v.lastChange.at}: ${v.lastChange.command}` : "none"}`);
    if (v.lastAnalysis) lines.push(`  last analysis (${v.lastAnalysis.at}): ${describeRecord(v.lastAnalysis)}`);
    return lines.join("\n");
  }).join("\n\n");
}
