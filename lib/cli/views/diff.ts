/** The view of `envctl diff`: two environments side by side, differences marked, with their cost estimates. */

import { estimateMonthlyCost } from "../../config/cost-estimate.ts";
import type { LoadedEnvironment } from "../../config/load.ts";
import type { Environment } from "../../config/schema.ts";
import { PRICES_AS_OF } from "../../cost/prices.ts";
import { isWeightStep } from "../../release/model/policy.ts";

/** "1 day", "14 days". */
export function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
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
      compute: `ec2 ${c.instanceType}`,
      "capacity (min/desired/max)": `${c.capacity.min}/${c.capacity.desired}/${c.capacity.max}`,
      "auto-scaling": c.autoScaling.enabled ? `CPU target ${c.autoScaling.targetCpuPercent} %` : "off",
    };
  }
  return {
    compute:
      `eks ${c.kubernetesVersion}: ` +
      `${c.nodeGroups.map((g) => `${g.name} ${g.instanceTypes.join("/")}${g.capacityType === "SPOT" ? " spot" : ""}`).join(", ")}`,
    "capacity (min/desired/max)": c.nodeGroups
      .map((g) => `${g.capacity.min}/${g.capacity.desired}/${g.capacity.max}`)
      .join(", "),
    "auto-scaling": c.autoScaling.enabled
      ? `HPA CPU ${c.autoScaling.targetCpuPercent} %, max ${c.autoScaling.maxReplicas}`
      : "off",
  };
}

function aspects(e: LoadedEnvironment, extra: Record<string, string>): Record<string, string> {
  const c = e.config;
  const r = e.release;
  return {
    tier: c.tier,
    region: c.region,
    network: `${c.network.cidr}, ${c.network.azCount} AZs, NAT ${c.network.natGateways}`,
    ...compute(c),
    "live slot": r.live,
    "versions (blue/green)": `${r.slots.blue.version ?? "-"} / ${r.slots.green.version ?? "-"}`,
    "weights (blue/green)": `${r.slots.blue.weight} / ${r.slots.green.weight}`,
    database: `${c.database.instanceClass}, ${c.database.allocatedStorageGb} GB, ${c.database.multiAz ? "multi-AZ" : "single-AZ"}`,
    backups: `${plural(c.database.backupRetentionDays, "day")}${c.database.deletionProtection ? ", deletion protection" : ""}`,
    cache: `${c.cache.nodeType} × ${1 + c.cache.replicas}${c.cache.automaticFailover ? ", failover" : ""}`,
    monitoring: `${c.monitoring.level}, 5xx > ${c.monitoring.thresholds.errorRatePercent} %, p99 > ${c.monitoring.thresholds.latencyP99Seconds} s`,
    TLS: c.certificateArn ? "HTTPS (TLS 1.2+)" : "HTTP only",
    "log level": c.logLevel,
    canary: c.release.canary
      .map((s) => (isWeightStep(s) ? `${s.percent} %` : s.pause === "manual" ? "pause" : `pause ${s.pause} s`))
      .join(" → "),
    ...extra,
  };
}

/** Side-by-side comparison of two environments; `extra` adds rows (e.g. cost estimates). */
export function comparisonMatrix(
  a: LoadedEnvironment,
  b: LoadedEnvironment,
  extra: [Record<string, string>, Record<string, string>] = [{}, {}],
): MatrixRow[] {
  const left = aspects(a, extra[0]);
  const right = aspects(b, extra[1]);
  return Object.keys(left).map((k) => ({
    aspect: k,
    values: [left[k]!, right[k] ?? "-"],
    differs: left[k] !== right[k],
  }));
}

export function formatMatrix(names: [string, string], rows: MatrixRow[]): string {
  const w0 = Math.max(6, ...rows.map((r) => r.aspect.length));
  const w1 = Math.max(names[0].length, ...rows.map((r) => r.values[0].length));
  const header = `  ${"".padEnd(w0)}  ${names[0].padEnd(w1)}  ${names[1]}`;
  return [
    header,
    ...rows.map((r) => `${r.differs ? "≠" : " "} ${r.aspect.padEnd(w0)}  ${r.values[0].padEnd(w1)}  ${r.values[1]}`),
  ].join("\n");
}

/** Extra rows of `envctl diff`: the monthly cost estimates. */
export function costRows(a: Environment, b: Environment): [Record<string, string>, Record<string, string>] {
  const row = (e: Environment) => ({
    [`est. monthly cost (${PRICES_AS_OF})`]: `$${estimateMonthlyCost(e).total.toFixed(2)}`,
  });
  return [row(a), row(b)];
}
