/** Drift: what changed behind the engine's back, from a refresh-only plan of each stack. */
import { Engine, stackDir } from "../engine/engine.ts";

export interface DriftedResource {
  address: string;
  /** Top-level attributes whose recorded and real values differ. */
  attributes: string[];
}

export interface StackDrift {
  stack: string;
  status: "in sync" | "drifted";
  resources: DriftedResource[];
}

/** Attribute names whose values differ between two resource objects (sorted). */
export function changedAttributes(before: unknown, after: unknown): string[] {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((k) => !["tags_all"].includes(k) && JSON.stringify(b[k]) !== JSON.stringify(a[k]))
    .sort();
}

export function driftFromPlan(stack: string, plan: any): StackDrift {
  const resources = ((plan.resource_drift ?? []) as any[])
    .filter((d) => d.mode !== "data")
    .map((d) => ({ address: d.address as string, attributes: d.change.actions.includes("delete") ? ["(deleted)"] : changedAttributes(d.change.before, d.change.after) }))
    .filter((d) => d.attributes.length > 0)
    .sort((x, y) => x.address.localeCompare(y.address));
  return { stack, status: resources.length ? "drifted" : "in sync", resources };
}

/** Runs a refresh-only plan of each synthesized stack (in order) and reports its drift. */
export async function detectDrift(root: string, stacks: readonly string[], engine: Engine = Engine.fromEnv()): Promise<StackDrift[]> {
  const out: StackDrift[] = [];
  for (const stack of stacks) {
    const dir = stackDir(root, stack);
    await engine.init(dir);
    const { json } = await engine.planJson(dir, "drift.tfplan", ["-refresh-only", "-lock=false"]);
    out.push(driftFromPlan(stack, json));
  }
  return out;
}

export function formatDrift(results: StackDrift[]): string {
  return results.map((r) => [
    `${r.stack}: ${r.status}`,
    ...r.resources.map((d) => `  ~ ${d.address}: ${d.attributes.join(", ")}`),
  ].join("\n")).join("\n");
}
