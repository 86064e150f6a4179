/**
 * envctl's notifications of release events (lib/notify): targets become known as projects load;
 * URLs and keys are resolved at delivery (an environment variable, or a Secrets Manager secret read
 * in the environment's region). Tests replace the transports through {@link Deps}.
 */
import { notifySecretReader } from "../aws/notify-secrets.ts";
import { snsPublisher } from "../aws/sns.ts";
import type { Project } from "../config/load.ts";
import type { NotifyConfig } from "../config/schema/notify.ts";
import { type BackgroundNotifier, createNotifier, nodeFetch, settleBound } from "../notify/notifier.ts";
import type { Clock } from "../release/ports/index.ts";
import { appendNote } from "../release/store/index.ts";
import { awsClientTarget, readTarget } from "../stacks/target.ts";
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
  const notifyConfigs = new Map<string, { notify: NotifyConfig; region: string }>();
  let notifyRoot: string | undefined;
  const secretReaders = new Map<string, (id: string) => Promise<string>>();
  const notifier: BackgroundNotifier = createNotifier({
    configOf: (name) => notifyConfigs.get(name),
    resolve: async (ref, name) => {
      if ("env" in ref) {
        const v = env[ref.env];
        if (!v) throw new Error(`environment variable ${ref.env} is not set`);
        return v;
      }
      const region = notifyConfigs.get(name)?.region ?? "us-east-1";
      const read =
        deps.notifySecret ??
        secretReaders.get(region) ??
        secretReaders
          .set(region, notifySecretReader(awsClientTarget(readTarget(env, notifyRoot ?? root()), region)))
          .get(region)!;
      return read(ref.secret);
    },
    fetch: deps.notifyFetch ?? nodeFetch,
    sns: (region) => deps.sns?.(region) ?? snsPublisher(awsClientTarget(readTarget(env, notifyRoot ?? root()), region)),
    // Real time between attempts, never the release's clock: a delivery's backoff must not move a rollout's (virtual) time.
    sleep: deps.notifySleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms).unref?.())),
    now: clock.now,
    record: (name, r) => appendNote(notifyRoot ?? root(), name, r),
  });
  const notifyProject = (project: Project) => {
    notifyRoot = project.root;
    for (const e of project.environments)
      notifyConfigs.set(e.config.name, { notify: e.config.notify, region: e.config.region });
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
