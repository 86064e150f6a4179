/** Read-only views for `envctl status` and `envctl diff`: pure functions of the loaded project. */
import type { LoadedEnvironment } from "../config/load.ts";
import { isWeightStep } from "../config/release-policy.ts";
import type { AnalysisRecord, RolloutStep } from "../config/release.ts";
import { describeRecord } from "./analysis.ts";
import type { Environment } from "../config/schema.ts";

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

export function formatStatus(views: StatusView[]): string {
  const slot = (v: StatusView, s: "blue" | "green") =>
    `${s}${v.live === s ? "*" : " "} ${(v.slots[s]!.version ?? "-").padEnd(10)} ${String(v.slots[s]!.weight).padStart(3)} %`;
  return views.map((v) => {
    const lines = [`${v.environment} (${v.tier})  live: ${v.live}`, `  ${slot(v, "blue")}    ${slot(v, "green")}`];
    if (v.rollout) lines.push(`  rollout of ${v.rollout.target}: ${v.rollout.step}/${v.rollout.steps.length} steps applied (${v.rollout.steps.map((s) => (typeof s === "number" ? `${s} %` : s)).join(" → ")})${v.rollout.paused ? `, PAUSED: continue with 'envctl rollout ${v.environment} --continue'` : v.rollout.nextPercent !== null ? `, next ${v.rollout.nextPercent} %` : ", awaiting completion"}`);
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
    "backups": `${c.database.backupRetentionDays} days${c.database.deletionProtection ? ", deletion protection" : ""}`,
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
