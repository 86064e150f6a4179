import type { App } from "cdktf";
import type { Project } from "../config/load.ts";
import type { Target } from "./target.ts";
import { appOf, projectUnits } from "./units.ts";

export interface BuildOptions {
  /** Output directory. @default cdktf's (`CDKTF_OUTDIR` or `cdktf.out`) */
  readonly outdir?: string;
  /** Only these environments get stacks (with their accounts' bootstraps, the first's, and global). @default all */
  readonly only?: readonly string[];
}

/**
 * Every stack of the project in one app: per environment `<env>` and `<env>-traffic` (and
 * `<env>-workloads` for EKS environments), per AWS account `bootstrap-<account id>` (its state
 * bucket), and `global` (the dashboard of the permanent environments, previews left out, in the
 * account that says `hostsGlobal: true`, lib/config/global-host.ts). The units are lib/stacks/units.ts's; lib/stacks/synth.ts builds
 * them in batches and reuses unchanged ones.
 */
export function buildApp(project: Project, target: Target, options: BuildOptions = {}): App {
  const only = options.only;
  const kept = project.environments.filter((e) => !only || only.includes(e.config.name));
  const accounts = new Set([
    ...kept.map((e) => e.config.account.id),
    ...project.environments.slice(0, 1).map((e) => e.config.account.id),
  ]);
  const units = projectUnits(project).filter((u) =>
    u.kind === "environment"
      ? kept.some((e) => `env:${e.config.name}` === u.id)
      : u.kind === "global" || accounts.has(u.id.slice("bootstrap-".length)),
  );
  return appOf(units, target, options.outdir);
}
