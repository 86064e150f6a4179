/** Drift: what changed behind the engine's back, from a refresh-only plan of each stack. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unknownEnvironmentMessage } from "../config/suggest.ts";
import { Engine, stackDir } from "../engine/engine.ts";
import { RefusedError } from "../release/model/errors.ts";

export interface DriftedResource {
  address: string;
  /** Top-level attributes whose recorded and real values differ. */
  attributes: string[];
  /** Each attribute's class, once classified (./drift-severity.ts). */
  classes?: readonly { readonly attribute: string; readonly severity: string; readonly rule: string }[];
}

export interface StackDrift {
  stack: string;
  status: "in sync" | "drifted";
  resources: DriftedResource[];
  /** The worst class of the stack's drift, once classified; null when in sync. */
  severity?: string | null;
}

/** Attributes that change by themselves (time, derived tags): never drift. */
export const VOLATILE_ATTRIBUTES = ["latest_restorable_time", "tags_all"] as const;

/** Attribute names whose values differ between two resource objects (sorted), minus `ignored`. */
export function changedAttributes(before: unknown, after: unknown, ignored: readonly string[] = []): string[] {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const skip = new Set<string>([...VOLATILE_ATTRIBUTES, ...ignored]);
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((k) => !skip.has(k) && JSON.stringify(b[k]) !== JSON.stringify(a[k]))
    .sort();
}

/** `lifecycle.ignore_changes` of every resource of a synthesized stack, by address. */
// biome-ignore lint/suspicious/noExplicitAny: the engine's JSON, untyped
export function ignoredByConfig(stackJson: any): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  // biome-ignore lint/suspicious/noExplicitAny: the engine's JSON, untyped
  for (const [type, byName] of Object.entries((stackJson?.resource ?? {}) as Record<string, Record<string, any>>)) {
    for (const [name, config] of Object.entries(byName)) {
      const ignored = config?.lifecycle?.ignore_changes;
      if (Array.isArray(ignored)) out[`${type}.${name}`] = ignored;
    }
  }
  return out;
}

/** Drift of one stack from its refresh-only plan; attributes the configuration ignores are not drift. */
// biome-ignore lint/suspicious/noExplicitAny: the engine's JSON, untyped
export function driftFromPlan(stack: string, plan: any, ignored: Record<string, string[]> = {}): StackDrift {
  // biome-ignore lint/suspicious/noExplicitAny: the engine's JSON, untyped
  const resources = ((plan.resource_drift ?? []) as any[])
    .filter((d) => d.mode !== "data")
    .map((d) => ({
      address: d.address as string,
      attributes: d.change.actions.includes("delete")
        ? ["(deleted)"]
        : changedAttributes(d.change.before, d.change.after, ignored[d.address] ?? []),
    }))
    .filter((d) => d.attributes.length > 0)
    .sort((x, y) => x.address.localeCompare(y.address));
  return { stack, status: resources.length ? "drifted" : "in sync", resources };
}

/**
 * The stacks `envctl drift [env]` plans: the named environment's, else those of every permanent
 * environment (previews come and go with their pull requests; name one to check it).
 */
export function driftStacks(
  environments: readonly { config: { name: string; compute: { kind: string }; expiresAt?: string } }[],
  name?: string,
): string[] {
  const envs = environments.filter((e) => (name ? e.config.name === name : e.config.expiresAt === undefined));
  if (name && envs.length === 0)
    throw new RefusedError(
      unknownEnvironmentMessage(
        name,
        environments.map((e) => e.config.name),
      ),
    );
  return envs.flatMap((e) => [
    e.config.name,
    `${e.config.name}-traffic`,
    ...(e.config.compute.kind === "eks" ? [`${e.config.name}-workloads`] : []),
  ]);
}

/** The engine is not installed where drift looks for it. */
export class EngineMissingError extends Error {
  constructor(binary: string) {
    super(
      `drift plans every stack with the Terraform engine, and ` +
        `'${binary}' is not on PATH: install Terraform, or use OpenTofu with ` +
        `TERRAFORM_BINARY_NAME=tofu (the engine this project builds: 'npm run setup:engine', then ` +
        `put the 'tofu' of ~/.cache/envstack/engine/manifest.json on PATH)`,
    );
    this.name = "EngineMissingError";
  }
}

/** Runs one step of the work, showing it (envctl's Progress.step has this shape). */
export type StepRunner = <T>(title: string, fn: () => Promise<T>) => Promise<T>;

/**
 * Runs a refresh-only plan of each synthesized stack (in order) and reports its drift, one
 * progress step per stack. Fails before the first stack when the engine is missing.
 */
export async function detectDrift(
  root: string,
  stacks: readonly string[],
  engine: Engine = Engine.fromEnv(),
  step: StepRunner = (_t, fn) => fn(),
): Promise<StackDrift[]> {
  if (!engine.locate()) throw new EngineMissingError(engine.binary);
  const out: StackDrift[] = [];
  for (const [i, stack] of stacks.entries()) {
    const dir = stackDir(root, stack);
    const drift = await step(`drift ${i + 1}/${stacks.length}: ${stack} (init, refresh-only plan)`, async () => {
      await engine.init(dir);
      const { json } = await engine.planJson(dir, "drift.tfplan", ["-refresh-only", "-lock=false"]);
      return driftFromPlan(stack, json, ignoredByConfig(JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8"))));
    });
    out.push(drift);
  }
  return out;
}

export function formatDrift(results: StackDrift[]): string {
  return results
    .map((r) =>
      [`${r.stack}: ${r.status}`, ...r.resources.map((d) => `  ~ ${d.address}: ${d.attributes.join(", ")}`)].join("\n"),
    )
    .join("\n");
}
