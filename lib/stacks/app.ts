import { App } from "cdktf";
import type { Project } from "../config/load.ts";
import { BootstrapStack } from "./bootstrap-stack.ts";
import { EnvironmentStack } from "./environment-stack.ts";
import { GlobalStack } from "./global-stack.ts";
import type { Target } from "./target.ts";
import { TrafficStack } from "./traffic-stack.ts";
import { WorkloadsStack } from "./workloads-stack.ts";

export interface BuildOptions {
  /** Output directory. @default cdktf's (`CDKTF_OUTDIR` or `cdktf.out`) */
  readonly outdir?: string;
  /** Only these environments get stacks (the global stack then covers them alone). @default all */
  readonly only?: readonly string[];
}

/**
 * Every stack of the project: per environment `<env>` and `<env>-traffic` (and `<env>-workloads`
 * for EKS environments), per AWS account `bootstrap-<account id>` (its state bucket), and `global`
 * (the dashboard of the permanent environments, previews left out, in the first environment's account).
 */
export function buildApp(project: Project, target: Target, options: BuildOptions = {}): App {
  const app = new App({ outdir: options.outdir, skipValidation: false });
  const envs = project.environments.filter((e) => !options.only || options.only.includes(e.config.name));
  const first = project.environments[0]!.config;
  const projectTags = {
    Project: first.project,
    ManagedBy: "cdktf",
    Owner: first.owner,
    CostCenter: first.costCenter,
    Environment: "shared",
  };

  // One state bucket per account: every environment's stacks keep their state in their own account.
  const accounts = new Map(project.environments.map((e) => [e.config.account.id, e.config.account]));
  for (const account of [...accounts.values()].filter(
    (a) => envs.some((e) => e.config.account.id === a.id) || a.id === first.account.id,
  )) {
    new BootstrapStack(app, { project: first.project, region: first.region, target, account, tags: projectTags });
  }
  const infra = envs.map(({ config, release }) => {
    const stack = new EnvironmentStack(app, { env: config, release, target });
    new TrafficStack(app, { env: config, release, infrastructure: stack, target });
    if (config.compute.kind === "eks") new WorkloadsStack(app, { env: config, release, infrastructure: stack, target });
    return { name: config.name, stack, preview: config.expiresAt !== undefined };
  });
  // Previews stay off the dashboard: they come and go with pull requests, and a preview that is
  // registered but not deployed yet has no state for the global stack to read.
  const permanent = infra.filter((e) => !e.preview).map(({ name, stack }) => ({ name, stack }));
  new GlobalStack(app, {
    project: first.project,
    region: first.region,
    target,
    account: first.account,
    tags: projectTags,
    environments: permanent,
  });
  return app;
}
