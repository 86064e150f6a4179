/**
 * Read-only views for `envctl status` (also `--live`: the file beside what runs) and `envctl
 * diff`: pure functions of the loaded project and, for `--live`, of a live observation.
 */
import type { LoadedEnvironment } from "../config/load.ts";
import { isWeightStep } from "../config/release-policy.ts";
import type { AnalysisRecord, RolloutStep } from "../config/release.ts";
import { describeRecord } from "./analysis.ts";
import type { Environment, Slot } from "../config/schema.ts";

/** "1 day", "14 days". */
export function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

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
  };
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
    if (v.rollout) lines.push(`  ${rolloutText(v)}`);
    if (v.pending) lines.push(`  PENDING: deploy of ${v.pending.stacks.join(", ")} by '${v.pending.command}' since ${v.pending.since} did not finish — run 'envctl reconcile ${v.environment}'`);
    lines.push(`  last change: ${v.lastChange ? `${v.lastChange.by} at ${v.lastChange.at}: ${v.lastChange.command}` : "none"}`);
    if (v.lastAnalysis) lines.push(`  last analysis (${v.lastAnalysis.at}): ${describeRecord(v.lastAnalysis)}`);
    return lines.join("\n");
  }).join("\n\n");
}

export interface MatrixRow {
  aspect: string;
  values: [string, string];
  differs: boolean;
}

function compute(e: Environment): Record<string, string> {
  const c = e.compute;
  if (c.kind === "ec2") {
    return {
      "compute": `ec2 ${c.instanceType}`,
      "capacity (min/desired/max)": `${c.capacity.min}/${c.capacity.desired}/${c.capacity.max}`,
      "auto-scaling": c.autoScaling.enabled ? `CPU target ${c.autoScaling.targetCpuPercent} %` : "off",
    };
  }
  return {
    "compute": `eks ${c.kubernetesVersion}: ${c.nodeGroups.map((g) => `${g.name} ${g.instanceTypes.join("/")}${g.capacityType === "SPOT" ? " spot" : ""}`).join(", ")}`,
    "capacity (min/desired/max)": c.nodeGroups.map((g) => `${g.capacity.min}/${g.capacity.desired}/${g.capacity.max}`).join(", "),
    "auto-scaling": c.autoScaling.enabled ? `HPA CPU ${c.autoScaling.targetCpuPercent} %, max ${c.autoScaling.maxReplicas}` : "off",
  };
}

function aspects(e: LoadedEnvironment, extra: Record<string, string>): Record<string, string> {
  const c = e.config;
  const r = e.release;
  return {
    "tier": c.tier,
    "region": c.region,
    "network": `${c.network.cidr}, ${c.network.azCount} AZs, NAT ${c.network.natGateways}`,
    ...compute(c),
    "live slot": r.live,
    "versions (blue/green)": `${r.slots.blue.version ?? "-"} / ${r.slots.green.version ?? "-"}`,
    "weights (blue/green)": `${r.slots.blue.weight} / ${r.slots.green.weight}`,
    "database": `${c.database.instanceClass}, ${c.database.allocatedStorageGb} GB, ${c.database.multiAz ? "multi-AZ" : "single-AZ"}`,
    "backups": `${plural(c.database.backupRetentionDays, "day")}${c.database.deletionProtection ? ", deletion protection" : ""}`,
    "cache": `${c.cache.nodeType} × ${1 + c.cache.replicas}${c.cache.automaticFailover ? ", failover" : ""}`,
    "monitoring": `${c.monitoring.level}, 5xx > ${c.monitoring.thresholds.errorRatePercent} %, p99 > ${c.monitoring.thresholds.latencyP99Seconds} s`,
    "TLS": c.certificateArn ? "HTTPS (TLS 1.2+)" : "HTTP only",
    "log level": c.logLevel,
    "canary": c.release.canary.map((s) => (isWeightStep(s) ? `${s.percent} %` : s.pause === "manual" ? "pause" : `pause ${s.pause} s`)).join(" → "),
    ...extra,
  };
}

/** Side-by-side comparison of two environments; `extra` adds rows (e.g. cost estimates). */
export function comparisonMatrix(a: LoadedEnvironment, b: LoadedEnvironment, extra: [Record<string, string>, Record<string, string>] = [{}, {}]): MatrixRow[] {
  const left = aspects(a, extra[0]);
  const right = aspects(b, extra[1]);
  return Object.keys(left).map((k) => ({ aspect: k, values: [left[k]!, right[k] ?? "-"], differs: left[k] !== right[k] }));
}

export function formatMatrix(names: [string, string], rows: MatrixRow[]): string {
  const w0 = Math.max(6, ...rows.map((r) => r.aspect.length));
  const w1 = Math.max(names[0].length, ...rows.map((r) => r.values[0].length));
  const header = `  ${"".padEnd(w0)}  ${names[0].padEnd(w1)}  ${names[1]}`;
  return [header, ...rows.map((r) => `${r.differs ? "≠" : " "} ${r.aspect.padEnd(w0)}  ${r.values[0].padEnd(w1)}  ${r.values[1]}`)].join("\n");
}

// ------------------------------------------------------------------ status --live

/** A part of the live observation that could not be read: shown as unknown, never as fine. */
export interface Unreadable {
  readonly error: string;
}

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA" | "missing";

/** Registered targets of a slot's target group by health. */
export interface TargetHealth {
  readonly healthy: number;
  readonly unhealthy: number;
  /** initial, draining, unused, unavailable. */
  readonly other: number;
}

/** What runs, read from AWS at `observedAt`: the ALB's weights, target health, the gate's alarms. */
export interface LiveObservation {
  readonly observedAt: string;
  readonly weights: Record<Slot, number> | Unreadable;
  readonly health: Record<Slot, TargetHealth> | Unreadable;
  /** The gate's alarms of both slots (slotAlarmNames), in that order. */
  readonly alarms: readonly { name: string; slot: Slot; state: AlarmState }[] | Unreadable;
}

export interface LiveSlotRow {
  slot: Slot;
  live: boolean;
  version: string | null;
  weight: { file: number; alb: number | null };
  targets: TargetHealth | null;
  alarms: { name: string; state: AlarmState }[] | null;
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

const isUnreadable = (x: unknown): x is Unreadable => typeof x === "object" && x !== null && "error" in x;
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
  const slotsLive = SLOT_ORDER.map((slot): LiveSlotRow => {
    const file = view.slots[slot]!;
    const alb = isUnreadable(obs.weights) ? null : (obs.weights[slot] ?? 0);
    const targets = isUnreadable(obs.health) ? null : (obs.health[slot] ?? { healthy: 0, unhealthy: 0, other: 0 });
    const alarms = isUnreadable(obs.alarms) ? null : obs.alarms.filter((a) => a.slot === slot).map(({ name, state }) => ({ name, state }));
    const marks: LiveSlotRow["marks"] = [];
    if (alb === null || targets === null || alarms === null) marks.push("?");
    if (alb !== null && alb !== file.weight) {
      marks.push("≠");
      differences.push(`${slot}: the ALB serves ${alb} %, the release file says ${file.weight} %`);
    }
    const serving = Math.max(file.weight, alb ?? 0) > 0;
    if (serving && targets && targets.healthy === 0) {
      marks.push("!");
      warnings.push(`${slot} receives traffic but has no healthy target (${targets.unhealthy} unhealthy, ${targets.other} other)`);
    }
    const bad = (alarms ?? []).filter((a) => a.state === "ALARM" || a.state === "missing");
    if (serving && bad.length > 0) {
      if (!marks.includes("!")) marks.push("!");
      warnings.push(`${slot} receives traffic with ${bad.map((a) => `${a.name} ${a.state === "missing" ? "missing" : "in ALARM"}`).join(", ")}`);
    }
    return { slot, live: view.live === slot, version: file.version, weight: { file: file.weight, alb }, targets, alarms, marks };
  });
  return { ...view, observedAt: obs.observedAt, slotsLive, differences, warnings };
}

const pad = (s: string, n: number) => s.padEnd(n);
const targetsText = (t: TargetHealth | null) => (t === null ? "unknown" : `${t.healthy} healthy${t.unhealthy ? `, ${t.unhealthy} unhealthy` : ""}${t.other ? `, ${t.other} other` : ""}`);
const ALARM_SHORT: Record<AlarmState, string> = { OK: "OK", ALARM: "ALARM", INSUFFICIENT_DATA: "no data", missing: "MISSING" };
const alarmsText = (env: string, slot: Slot, a: LiveSlotRow["alarms"]) =>
  a === null ? "unknown" : a.length === 0 ? "none" : a.map((x) => `${x.name.replace(`${env}-app-${slot}-`, "")} ${ALARM_SHORT[x.state]}`).join(", ");

/** The text view of `status --live`: one block per environment, marks in the first column. */
export function formatLiveStatus(views: LiveStatusView[]): string {
  return views.map((v) => {
    const header = `${v.environment} (${v.tier})  live: ${v.live}  observed ${v.observedAt.replace(/\.\d+Z$/, "Z")}`;
    const tw = Math.max(22, ...v.slotsLive.map((r) => targetsText(r.targets).length + 1));
    const table = [
      `     ${pad("slot", 7)} ${pad("version", 10)} ${"file".padStart(5)}  ${"ALB".padStart(5)}  ${pad("targets", tw)} alarms`,
      ...v.slotsLive.map((r) => {
        const mark = r.marks.join("").padEnd(3);
        return `  ${mark}${pad(`${r.slot}${r.live ? "*" : ""}`, 7)} ${pad(r.version ?? "-", 10)} ${`${r.weight.file} %`.padStart(5)}  ${(r.weight.alb === null ? "?" : `${r.weight.alb} %`).padStart(5)}  ${pad(targetsText(r.targets), tw)} ${alarmsText(v.environment, r.slot, r.alarms)}`;
      }),
    ];
    const lines = [header, ...table];
    if (v.rollout) lines.push(`  ${rolloutText(v)}`);
    if (v.pending) lines.push(`  PENDING: deploy of ${v.pending.stacks.join(", ")} by '${v.pending.command}' since ${v.pending.since} did not finish — run 'envctl reconcile ${v.environment}'`);
    lines.push(`  last analysis: ${v.lastAnalysis ? `(${v.lastAnalysis.at}) ${describeRecord(v.lastAnalysis)}` : "none recorded"}`);
    for (const d of v.differences) lines.push(`  ≠ ${d}`);
    for (const w of v.warnings) lines.push(`  ! ${w}`);
    if (v.differences.length === 0 && v.warnings.length === 0) lines.push("  the ALB serves what the release file says");
    return lines.join("\n");
  }).join("\n\n");
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
  }
  facts[`${v.environment} rollout`] = v.rollout ? `${v.rollout.target} ${v.rollout.step}/${v.rollout.steps.length}${v.rollout.paused ? " (paused)" : ""}` : "none";
  facts[`${v.environment} pending`] = v.pending ? v.pending.stacks.join(", ") : "none";
  facts[`${v.environment} last analysis`] = v.lastAnalysis ? `${v.lastAnalysis.at} ${describeRecord(v.lastAnalysis)}` : "none";
  return facts;
}
