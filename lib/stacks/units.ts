/**
 * The project's stacks as units of synthesis: each unit is built from its own inputs alone, never
 * from another unit's constructs, so a unit can be built (and cached) on its own.
 *
 * - `bootstrap-<account id>`: one per account (its state bucket), from the project's first environment
 *   and the account;
 * - an environment: `<env>`, `<env>-traffic` (and `<env>-workloads` on EKS), from its configuration
 *   and its release file (its stacks reference each other: they are built together);
 * - `global`: the dashboard, from the permanent environments' configuration (it reads their state).
 *
 * The order is the order of a full synthesis: bootstraps, environments, global.
 */

import { type App, App as CdktfApp } from "cdktf";
import { globalHost } from "../config/global-host.ts";
import type { Project } from "../config/load.ts";
import type { Environment } from "../config/schema.ts";
import type { Release } from "../release/model/release.ts";
import { BootstrapStack } from "./bootstrap-stack.ts";
import { EnvironmentStack } from "./environment-stack.ts";
import { GlobalStack } from "./global-stack.ts";
import type { Target } from "./target.ts";
import { TrafficStack } from "./traffic-stack.ts";
import { WorkloadsStack } from "./workloads-stack.ts";

export type UnitKind = "bootstrap" | "environment" | "global";

export interface SynthUnit {
  /** `bootstrap-<id>`, `env:<name>` or `global`. */
  readonly id: string;
  readonly kind: UnitKind;
  /** The stacks it synthesizes, in synthesis order. */
  readonly stacks: readonly string[];
  /** Everything its stacks are built from besides the code and the target (plain JSON: the cache key hashes it). */
  readonly inputs: unknown;
  build(app: App, target: Target): void;
}

/** The environment unit's stacks. */
export function environmentStacks(env: Environment): string[] {
  return [env.name, `${env.name}-traffic`, ...(env.compute.kind === "eks" ? [`${env.name}-workloads`] : [])];
}

export function environmentUnit(config: Environment, release: Release): SynthUnit {
  return {
    id: `env:${config.name}`,
    kind: "environment",
    stacks: environmentStacks(config),
    inputs: { config, release },
    build(app, target) {
      const stack = new EnvironmentStack(app, { env: config, release, target });
      new TrafficStack(app, { env: config, release, infrastructure: stack, target });
      if (config.compute.kind === "eks")
        new WorkloadsStack(app, { env: config, release, infrastructure: stack, target });
    },
  };
}

/** Every unit of the project, in synthesis order. */
export function projectUnits(project: Project): SynthUnit[] {
  const first = project.environments[0]?.config;
  if (!first) return [];
  const tags = {
    Project: first.project,
    ManagedBy: "cdktf",
    Owner: first.owner,
    CostCenter: first.costCenter,
    Environment: "shared",
  };
  const shared = { project: first.project, region: first.region, tags };
  // One state bucket per account (the last environment naming an account gives its settings).
  const accounts = new Map(project.environments.map((e) => [e.config.account.id, e.config.account]));
  const bootstraps = [...accounts.values()].map(
    (account): SynthUnit => ({
      id: `bootstrap-${account.id}`,
      kind: "bootstrap",
      stacks: [`bootstrap-${account.id}`],
      inputs: { ...shared, account },
      build: (app, target) => new BootstrapStack(app, { ...shared, target, account }),
    }),
  );
  // Previews stay off the dashboard: they come and go with pull requests, and a preview that is
  // registered but not deployed yet has no state for the global stack to read.
  const permanent = project.environments.filter((e) => e.config.expiresAt === undefined).map((e) => e.config);
  // The dashboard's account and region are the ones the configuration names (lib/config/global-host.ts).
  const host = globalHost(permanent) ?? first;
  const where = { ...shared, region: host.region, account: host.account };
  const global: SynthUnit = {
    id: "global",
    kind: "global",
    stacks: ["global"],
    inputs: { ...where, environments: permanent },
    build: (app, target) => new GlobalStack(app, { ...where, target, environments: permanent }),
  };
  return [...bootstraps, ...project.environments.map((e) => environmentUnit(e.config, e.release)), global];
}

/**
 * The units a command acting on `stacks` needs: the units owning them (an environment's stack
 * brings its sibling stacks: they are built together). Stacks no unit owns are returned apart.
 */
export function unitsOwning(
  units: readonly SynthUnit[],
  stacks: readonly string[],
): { units: SynthUnit[]; unknown: string[] } {
  const owner = new Map(units.flatMap((u) => u.stacks.map((s) => [s, u] as const)));
  const wanted = new Set(stacks.map((s) => owner.get(s)).filter((u) => u !== undefined));
  return { units: units.filter((u) => wanted.has(u)), unknown: stacks.filter((s) => !owner.has(s)) };
}

/** An app holding the units' stacks, ready to check and synthesize into `outdir`. */
export function appOf(units: readonly SynthUnit[], target: Target, outdir?: string): App {
  const app = new CdktfApp({ outdir, skipValidation: false });
  for (const u of units) u.build(app, target);
  return app;
}
