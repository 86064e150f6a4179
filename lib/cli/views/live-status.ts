/**
 * The view of `envctl status --live`: the release file's view beside what runs (an observation,
 * lib/review/live.ts), differences marked. Pure.
 */
import type { Slot } from "../../core/primitives.ts";
import { describeRecord } from "../../release/judge/record.ts";
import type { SlotWorkload } from "../../release/ports/index.ts";
import type { AlarmState, LiveObservation, TargetHealth } from "../../review/live.ts";
import { isUnreadable } from "../../review/live.ts";
import { maintenanceText, rolloutText, type StatusView } from "./status.ts";

export interface LiveSlotRow {
  slot: Slot;
  live: boolean;
  version: string | null;
  weight: { file: number; alb: number | null };
  targets: TargetHealth | null;
  alarms: { name: string; state: AlarmState }[] | null;
  /** EKS: the slot's Deployment (null: none; "unknown": unreadable); absent for EC2. */
  deployment?: SlotWorkload | null | "unknown";
  /** `≠` the ALB serves another weight than the file says; `!` traffic on an unhealthy or alarming slot; `?` unknown. */
  marks: ("≠" | "!" | "?")[];
}

export interface LiveStatusView extends StatusView {
  observedAt: string;
  slotsLive: LiveSlotRow[];
  /** Sentences: where what runs differs from the file, or could not be read. Empty: in agreement. */
  differences: string[];
  /** Sentences: traffic reaching unhealthy targets or alarming slots. */
  warnings: string[];
}

const SLOT_ORDER: readonly Slot[] = ["blue", "green"];

/**
 * The release file's view beside what runs (pure): per slot the file's weight and the ALB's,
 * target health and the gate's alarm states, with the differences marked. Anything that could
 * not be read is a difference ("unknown"), never a silent agreement.
 */
export function liveStatusOf(view: StatusView, obs: LiveObservation): LiveStatusView {
  const differences: string[] = [];
  const warnings: string[] = [];
  if (isUnreadable(obs.weights)) differences.push(`ALB weights unknown: ${obs.weights.error}`);
  if (isUnreadable(obs.health)) differences.push(`target health unknown: ${obs.health.error}`);
  if (isUnreadable(obs.alarms)) differences.push(`alarm states unknown: ${obs.alarms.error}`);
  const m = obs.maintenance;
  if (m !== undefined) {
    if (isUnreadable(m)) differences.push(`maintenance rules unknown: ${m.error}`);
    else if (view.maintenance && !(m.page && m.page.statusCode === "503" && m.page.priority < m.weightedPriority))
      differences.push(
        "the release file says maintenance is on, but the listener serves no maintenance page ahead of the weighted rule",
      );
    else if (!view.maintenance && m.priorities.length > 0)
      differences.push(
        `the release file says maintenance is off, but the listener has maintenance rules at priorities ${m.priorities.join(", ")}`,
      );
  }
  if (obs.workloads !== undefined && isUnreadable(obs.workloads))
    differences.push(`Deployments unknown: ${obs.workloads.error}`);
  const slotsLive = SLOT_ORDER.map((slot): LiveSlotRow => {
    const file = view.slots[slot]!;
    const alb = isUnreadable(obs.weights) ? null : (obs.weights[slot] ?? 0);
    const targets = isUnreadable(obs.health) ? null : (obs.health[slot] ?? { healthy: 0, unhealthy: 0, other: 0 });
    const alarms = isUnreadable(obs.alarms)
      ? null
      : obs.alarms.filter((a) => a.slot === slot).map(({ name, state }) => ({ name, state }));
    const marks: LiveSlotRow["marks"] = [];
    if (alb === null || targets === null || alarms === null) marks.push("?");
    if (alb !== null && alb !== file.weight) {
      marks.push("≠");
      differences.push(`${slot}: the ALB serves ${alb} %, the release file says ${file.weight} %`);
    }
    const serving = Math.max(file.weight, alb ?? 0) > 0;
    if (serving && targets && targets.healthy === 0) {
      marks.push("!");
      warnings.push(
        `${slot} receives traffic but has no healthy target (${targets.unhealthy} unhealthy, ${targets.other} other)`,
      );
    }
    const bad = (alarms ?? []).filter((a) => a.state === "ALARM" || a.state === "missing");
    if (serving && bad.length > 0) {
      if (!marks.includes("!")) marks.push("!");
      warnings.push(
        `${slot} receives traffic with ${bad.map((a) => `${a.name} ${a.state === "missing" ? "missing" : "in ALARM"}`).join(", ")}`,
      );
    }
    const deployment =
      obs.workloads === undefined
        ? undefined
        : isUnreadable(obs.workloads)
          ? ("unknown" as const)
          : obs.workloads[slot];
    if (deployment === "unknown") {
      if (!marks.includes("?")) marks.push("?");
    } else if (deployment !== undefined && file.version !== null) {
      if (deployment === null || deployment.version !== file.version) {
        if (!marks.includes("≠")) marks.push("≠");
        differences.push(
          `${slot}: the cluster runs ${deployment === null ? "no Deployment" : (deployment.version ?? "no version")}, the release file says ${file.version}`,
        );
      } else if (serving && deployment.ready < deployment.desired) {
        if (!marks.includes("!")) marks.push("!");
        warnings.push(`${slot} receives traffic with ${deployment.ready}/${deployment.desired} pods Ready`);
      }
    }
    return {
      slot,
      live: view.live === slot,
      version: file.version,
      weight: { file: file.weight, alb },
      targets,
      alarms,
      ...(deployment !== undefined ? { deployment } : {}),
      marks,
    };
  });
  return { ...view, observedAt: obs.observedAt, slotsLive, differences, warnings };
}

const pad = (s: string, n: number) => s.padEnd(n);
const targetsText = (t: TargetHealth | null) =>
  t === null
    ? "unknown"
    : `${t.healthy} healthy${t.unhealthy ? `, ${t.unhealthy} unhealthy` : ""}${t.other ? `, ${t.other} other` : ""}`;
const ALARM_SHORT: Record<AlarmState, string> = {
  OK: "OK",
  ALARM: "ALARM",
  INSUFFICIENT_DATA: "no data",
  missing: "MISSING",
};
const deploymentText = (d: LiveSlotRow["deployment"]) =>
  d === undefined
    ? ""
    : d === "unknown"
      ? "unknown"
      : d === null
        ? "none"
        : `${d.ready}/${d.desired} Ready ${d.version ?? "-"}`;
const alarmsText = (env: string, slot: Slot, a: LiveSlotRow["alarms"]) =>
  a === null
    ? "unknown"
    : a.length === 0
      ? "none"
      : a.map((x) => `${x.name.replace(`${env}-app-${slot}-`, "")} ${ALARM_SHORT[x.state]}`).join(", ");

/** The text view of `status --live`: one block per environment, marks in the first column. */
export function formatLiveStatus(views: LiveStatusView[]): string {
  return views
    .map((v) => {
      const header = `${v.environment} (${v.tier})  live: ${v.live}  observed ${v.observedAt.replace(/\.\d+Z$/, "Z")}`;
      const tw = Math.max(22, ...v.slotsLive.map((r) => targetsText(r.targets).length + 1));
      // EKS: the Deployment column (pods Ready of desired, the version its template runs).
      const eks = v.slotsLive.some((r) => r.deployment !== undefined);
      const dw = Math.max(16, ...v.slotsLive.map((r) => deploymentText(r.deployment).length + 1));
      const deploymentCell = (r: LiveSlotRow) => (eks ? `${pad(deploymentText(r.deployment), dw)} ` : "");
      const table = [
        [
          `     ${pad("slot", 7)} ${pad("version", 10)} ${"file".padStart(5)}  ${"ALB".padStart(5)}  `,
          `${pad("targets", tw)} ${eks ? `${pad("deployment", dw)} ` : ""}alarms`,
        ].join(""),
        ...v.slotsLive.map((r) => {
          const mark = r.marks.join("").padEnd(3);
          const alb = (r.weight.alb === null ? "?" : `${r.weight.alb} %`).padStart(5);
          return [
            `  ${mark}${pad(`${r.slot}${r.live ? "*" : ""}`, 7)} ${pad(r.version ?? "-", 10)} `,
            `${`${r.weight.file} %`.padStart(5)}  ${alb}  ${pad(targetsText(r.targets), tw)} `,
            `${deploymentCell(r)}${alarmsText(v.environment, r.slot, r.alarms)}`,
          ].join("");
        }),
      ];
      const lines = [header, ...table];
      const mt = maintenanceText(v);
      if (mt) lines.push(`  ${mt}`);
      if (v.rollout) lines.push(`  ${rolloutText(v)}`);
      if (v.pending)
        lines.push(
          `  PENDING: deploy of ${v.pending.stacks.join(", ")} by ` +
            `'${v.pending.command}' since ${v.pending.since} did not finish — run 'envctl reconcile ${v.environment}'`,
        );
      lines.push(
        `  last analysis: ${v.lastAnalysis ? `(${v.lastAnalysis.at}) ${describeRecord(v.lastAnalysis)}` : "none recorded"}`,
      );
      for (const d of v.differences) lines.push(`  ≠ ${d}`);
      for (const w of v.warnings) lines.push(`  ! ${w}`);
      if (v.differences.length === 0 && v.warnings.length === 0)
        lines.push("  the ALB serves what the release file says");
      return lines.join("\n");
    })
    .join("\n\n");
}

/** Flat facts of a live view, for `--watch` off a terminal: a line per fact that changed. */
export function liveFacts(v: LiveStatusView): Record<string, string> {
  const facts: Record<string, string> = { [`${v.environment} live slot`]: v.live };
  for (const r of v.slotsLive) {
    const k = `${v.environment} ${r.slot}`;
    facts[`${k} version`] = r.version ?? "-";
    facts[`${k} weight (file)`] = `${r.weight.file} %`;
    facts[`${k} weight (ALB)`] = r.weight.alb === null ? "unknown" : `${r.weight.alb} %`;
    facts[`${k} targets`] = targetsText(r.targets);
    facts[`${k} alarms`] = alarmsText(v.environment, r.slot, r.alarms);
    if (r.deployment !== undefined) facts[`${k} deployment`] = deploymentText(r.deployment);
  }
  facts[`${v.environment} rollout`] = v.rollout
    ? `${v.rollout.target} ${v.rollout.step}/${v.rollout.steps.length}${v.rollout.paused ? " (paused)" : ""}`
    : "none";
  facts[`${v.environment} pending`] = v.pending ? v.pending.stacks.join(", ") : "none";
  facts[`${v.environment} last analysis`] = v.lastAnalysis
    ? `${v.lastAnalysis.at} ${describeRecord(v.lastAnalysis)}`
    : "none";
  return facts;
}
