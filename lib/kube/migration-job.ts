/**
 * Runs one command of a slot's image as a Kubernetes Job in an EKS environment's namespace (the
 * spec: ./job-spec.ts) and honours its outcome: the pod's log streamed line by line (redacted by the
 * caller), the Job's Complete or Failed condition waited for, the exit code taken from the pod's
 * container status, `DeadlineExceeded` reported as a timeout, an abort deleting the Job. Anything it
 * cannot read fails closed: the outcome is then "no exit code", never a success.
 *
 * RBAC it needs in the namespace (the workloads stack's `envctl-jobs` Role, bound to the deployer
 * group): create/get/list/watch/delete jobs; get/list pods, pods/log; get configmaps.
 */

import { createInterface } from "node:readline";
import { PassThrough } from "node:stream";
import type { BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import {
  APP_CONFIG_MAP,
  DATABASE_SECRET_ARN_KEY,
  namespaceOf,
  slotSettingsConfigMap,
} from "../constructs/workloads/names.ts";
import type { JobOutcome, JobRequest } from "../release/ports/index.ts";
import { type KubeTarget, kubeConfigFor, kubeLibrary } from "./config.ts";
import { jobName, migrationJob } from "./job-spec.ts";

export interface JobRunnerOptions {
  /** Between two reads of the Job's status. @default 1000 */
  readonly pollMs?: number;
  /** After the deadline, how long envctl still waits for Kubernetes to end the Job before it deletes it. @default 60 */
  readonly graceSeconds?: number;
  /** After the Job ended, how long its log may still take to arrive. @default 3000 */
  readonly logGraceMs?: number;
  /** Consecutive failed reads of the cluster before envctl gives up on the Job (and deletes it). @default 10 */
  readonly maxReadErrors?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes API objects, read defensively
type Any = any;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeOf = (err: unknown) => (err as { code?: number }).code;
const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 300);

/** The terminal state of a Job from its conditions: undefined while it runs. Pure. */
export function jobFinished(job: Any): { ok: boolean; reason?: string } | undefined {
  const conditions: Any[] = job?.status?.conditions ?? [];
  const on = (type: string) => conditions.find((c) => c.type === type && c.status === "True");
  if (on("Complete")) return { ok: true };
  const failed = on("Failed");
  if (failed) return { ok: false, reason: failed.reason ?? "Failed" };
  return undefined;
}

/** The exit code of the Job's container from its pods' statuses (the last pod that terminated). Pure. */
export function containerExitCode(pods: readonly Any[], container: string): number | undefined {
  let code: number | undefined;
  for (const p of pods) {
    const s = (p?.status?.containerStatuses ?? []).find((c: Any) => c.name === container);
    const t = s?.state?.terminated ?? s?.lastState?.terminated;
    if (typeof t?.exitCode === "number") code = t.exitCode;
  }
  return code;
}

/** The Job runner of an environment's cluster; the client is made per run (its credentials may be short-lived). */
export function kubeJobRunner(env: string, target: KubeTarget, o: JobRunnerOptions = {}) {
  const namespace = namespaceOf(env);
  return {
    async run(req: JobRequest): Promise<JobOutcome> {
      const k8s = await kubeLibrary();
      // Made again every 45 s: an EKS token lives a minute, and a migration may run for hours.
      let made: { at: number; config: KubeConfig; core: CoreV1Api; batch: BatchV1Api } | undefined;
      const clients = async () => {
        if (!made || Date.now() - made.at > 45_000) {
          const config = await kubeConfigFor(target);
          made = {
            at: Date.now(),
            config,
            core: config.makeApiClient(k8s.CoreV1Api),
            batch: config.makeApiClient(k8s.BatchV1Api),
          };
        }
        return made;
      };
      // What the slot's pods load must exist, or the pod would wait for it until its deadline.
      const configMap = async (name: string) => {
        try {
          return await (await clients()).core.readNamespacedConfigMap({ name, namespace });
        } catch (err) {
          if (codeOf(err) === 404)
            throw new Error(
              `${env}: no ConfigMap ${name} in namespace ${namespace} (deploy the ${env}-workloads stack first): nothing was run`,
            );
          throw err;
        }
      };
      const envConfig = await configMap(APP_CONFIG_MAP);
      if (req.settingsChecksum) await configMap(slotSettingsConfigMap(req.slot, req.settingsChecksum));
      const secretArn = envConfig.data?.[DATABASE_SECRET_ARN_KEY];
      const name = jobName({ env, kind: req.kind, slot: req.slot, ...(req.to !== undefined ? { to: req.to } : {}) });
      const body = migrationJob(
        {
          env,
          kind: req.kind,
          slot: req.slot,
          image: req.image,
          version: req.version,
          ...(req.settingsChecksum ? { settingsChecksum: req.settingsChecksum } : {}),
          command: req.command,
          ...(req.to !== undefined ? { to: req.to } : {}),
          ...(secretArn ? { databaseSecretArn: secretArn } : {}),
          deadlineSeconds: req.deadlineSeconds,
        },
        name,
      );
      const where = `kubernetes job ${name} in namespace ${namespace}`;
      if (req.signal?.aborted)
        return { exitCode: null, timedOut: false, where: `${where} (not created: interrupted)`, output: null };
      await (await clients()).batch.createNamespacedJob({ namespace, body });
      const remove = async () => {
        try {
          await (await clients()).batch.deleteNamespacedJob({ name, namespace, propagationPolicy: "Background" });
        } catch (err) {
          if (codeOf(err) !== 404) req.log(`could not delete job ${name}: ${reason(err)}`);
        }
      };

      // The pod's log: streamed once its container has started (or ended); "no log" when the cluster serves none.
      const output: string[] = [];
      const logs: { state: "none" | "streaming" | "unavailable" } = { state: "none" };
      let logEnded: Promise<void> = Promise.resolve();
      let logAbort: AbortController | undefined;
      const streamLog = async (pod: string) => {
        logs.state = "streaming";
        const stream = new PassThrough();
        logEnded = new Promise((resolve) => {
          createInterface({ input: stream })
            .on("line", (line) => {
              output.push(line);
              req.log(line);
            })
            .on("close", () => resolve());
        });
        try {
          logAbort = await new k8s.Log((await clients()).config).log(namespace, pod, req.kind, stream, {
            follow: true,
          });
        } catch (err) {
          logs.state = "unavailable";
          stream.end();
          req.log(`no log from pod ${pod} (${reason(err)}): the outcome is judged by its exit code alone`);
        }
      };

      const started = Date.now();
      const limit = (req.deadlineSeconds + (o.graceSeconds ?? 60)) * 1000;
      let errors = 0;
      let stopped: "aborted" | "overdue" | undefined;
      const onAbort = () => (stopped = "aborted");
      req.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        for (;;) {
          if (req.signal?.aborted) stopped = "aborted";
          if (stopped === undefined && Date.now() - started > limit) stopped = "overdue";
          if (stopped) {
            req.log(
              stopped === "aborted"
                ? `interrupted: deleting job ${name}`
                : `the job did not end ${o.graceSeconds ?? 60} s after its deadline: deleting it`,
            );
            await remove();
            return {
              exitCode: null,
              timedOut: stopped === "overdue",
              where,
              output: logs.state === "unavailable" ? null : output,
            };
          }
          let job: Any;
          let pods: Any[];
          try {
            job = await (await clients()).batch.readNamespacedJob({ name, namespace });
            pods = (
              await (
                await clients()
              ).core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${name}` })
            ).items;
            errors = 0;
          } catch (err) {
            if (++errors >= (o.maxReadErrors ?? 10)) {
              await remove();
              return {
                exitCode: null,
                timedOut: false,
                where: `${where} (its outcome could not be read: ${reason(err)})`,
                output,
              };
            }
            await sleep(o.pollMs ?? 1000);
            continue;
          }
          if (logs.state === "none") {
            const pod = pods.find((p) =>
              (p.status?.containerStatuses ?? []).some(
                (c: Any) => c.name === req.kind && (c.state?.running || c.state?.terminated),
              ),
            );
            if (pod) await streamLog(pod.metadata.name);
          }
          const end = jobFinished(job);
          if (end) {
            // A pod that ran and ended between two reads: its whole log, now.
            const last = pods.at(-1);
            if (logs.state === "none" && last) await streamLog(last.metadata.name);
            // Let the log catch up (bounded: a kubelet ends a follow when the container ends; kwok never does).
            await Promise.race([logEnded, sleep(o.logGraceMs ?? 3000)]);
            logAbort?.abort();
            const code = containerExitCode(pods, req.kind);
            const timedOut = !end.ok && end.reason === "DeadlineExceeded";
            return {
              exitCode: end.ok ? (code ?? 0) : timedOut ? null : (code ?? null),
              timedOut,
              where:
                end.ok || code !== undefined || timedOut ? where : `${where} (failed: ${end.reason}, no exit code)`,
              output: logs.state === "streaming" ? output : null,
            };
          }
          await sleep(o.pollMs ?? 1000);
        }
      } finally {
        req.signal?.removeEventListener("abort", onAbort);
        logAbort?.abort();
      }
    },
  };
}

export type KubeJobRunner = ReturnType<typeof kubeJobRunner>;
