/**
 * envctl's notifications of release events (lib/notify): targets become known as projects load;
 * URLs and keys are resolved at delivery (an environment variable, or a Secrets Manager secret read
 * in the environment's region). Every AWS call (SNS Publish, the secrets) is made as every other
 * call of envctl for that environment is: in its account, under its deploy role when it has one
 * (never the ambient credentials). Tests replace the transports through {@link Deps}.
 */

import type { AwsClientOptions } from "../aws/clients.ts";
import { notifySecretReader } from "../aws/notify-secrets.ts";
import { snsPublisher } from "../aws/sns.ts";
import type { Project } from "../config/load.ts";
import type { NotifyConfig } from "../config/schema/notify.ts";
import { type BackgroundNotifier, createNotifier, nodeFetch, settleBound } from "../notify/notifier.ts";
import type { Clock } from "../release/ports/index.ts";
import { appendNote } from "../release/store/index.ts";
import { readTarget } from "../stacks/target.ts";
import { environmentAws } from "./compose.ts";
import type { Deps } from "./deps.ts";

/** The notifier of one envctl invocation and what the shell does with it. */
export interface ShellNotifications {
  readonly notifier: BackgroundNotifier;
  /** Makes the project's environments' notification targets known to {@link notifier}. */
  notifyProject(project: Project): void;
  /** The run the notifications link to: `$ENVSTACK_RUN_URL`, else the GitHub Actions run. */
  runLink(): string | undefined;
  /** Waits for the deliveries still running, bounded by the slowest target's timeouts and backoff (at most 30 s). */
  settleNotifications(): Promise<void>;
}

export function shellNotifications(
  deps: Deps,
  env: NodeJS.ProcessEnv,
  clock: Clock,
  root: () => string,
  err: (text: string) => void,
): ShellNotifications {
  const notifyConfigs = new Map<string, { notify: NotifyConfig; region: string; aws: AwsClientOptions }>();
  let notifyRoot: string | undefined;
  const secretReaders = new Map<string, (id: string) => Promise<string>>();
  const awsOf = (name: string) => {
    const o = notifyConfigs.get(name)?.aws;
    if (!o) throw new Error(`${name} is not an environment of this project: no account to notify from`);
    return o;
  };
  const notifier: BackgroundNotifier = createNotifier({
    configOf: (name) => notifyConfigs.get(name),
    resolve: async (ref, name) => {
      if ("env" in ref) {
        const v = env[ref.env];
        if (!v) throw new Error(`environment variable ${ref.env} is not set`);
        return v;
      }
      const read =
        deps.notifySecret ??
        secretReaders.get(name) ??
        secretReaders.set(name, notifySecretReader(awsOf(name))).get(name)!;
      return read(ref.secret);
    },
    fetch: deps.notifyFetch ?? nodeFetch,
    sns: (region, name) => {
      const aws = { ...awsOf(name), region };
      return deps.sns?.(region, aws) ?? snsPublisher(aws);
    },
    // Real time between attempts, never the release's clock: a delivery's backoff must not move a rollout's (virtual) time.
    sleep: deps.notifySleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms).unref?.())),
    now: clock.now,
    record: (name, r) => appendNote(notifyRoot ?? root(), name, r),
  });
  const notifyProject = (project: Project) => {
    notifyRoot = project.root;
    const target = readTarget(env, project.root);
    for (const e of project.environments)
      notifyConfigs.set(e.config.name, {
        notify: e.config.notify,
        region: e.config.region,
        aws: environmentAws(target, e.config),
      });
  };
  const runLink = () =>
    env.ENVSTACK_RUN_URL ||
    (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined);
  const settleNotifications = async () => {
    const left = await notifier.settle(settleBound([...notifyConfigs.values()].map((c) => c.notify)));
    if (left > 0)
      err(
        `note: ${left} notification(s) still undelivered when envctl stopped waiting; recorded in the history as abandoned`,
      );
  };

  return { notifier, notifyProject, runLink, settleNotifications };
}
