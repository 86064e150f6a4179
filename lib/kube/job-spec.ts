/**
 * The Kubernetes Job that runs one command of a slot's image in an EKS environment's namespace (a
 * migration, or the read of the schema version): pure, from what the release knows. The pod gets
 * what the slot's pods get (lib/constructs/workloads/slot-deployment.ts): the environment's
 * ConfigMap and the slot's settings ConfigMap by reference, the app's service account (its Pod
 * Identity may read the database secret, whose ARN the ConfigMap and the pod annotation carry), the
 * restricted Pod Security profile, a writable /tmp. No secret value is ever in the spec: only names.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  APP_CONFIG_MAP,
  APP_NAME,
  APP_SERVICE_ACCOUNT,
  APP_UID,
  DATABASE_SECRET_ANNOTATION,
  namespaceOf,
  slotSettingsConfigMap,
} from "../constructs/workloads/names.ts";
import type { JobRequest } from "../release/ports/index.ts";

/** The container's name: a migration, or the read of the schema version. */
export type JobKind = JobRequest["kind"];

/** Labels of every Job envctl runs (and of its pod): what a cleanup selects on. */
export const JOB_LABELS = { managedBy: "app.kubernetes.io/managed-by", kind: "envstack.io/job" } as const;
export const JOB_MANAGER = "envctl";

/** Seconds a finished Job (and its pod, with its log) stays for inspection before Kubernetes removes it. */
export const JOB_TTL_SECONDS = 3600;

/**
 * What the Job's database URL is: the app's settings name the host, port and database; the
 * credentials are not in it (the command reads them from the secret, as the app does). Kubernetes
 * expands the `$(VAR)` references from the container's own environment.
 */
export const CLUSTER_DATABASE_URL = "postgres://$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)?sslmode=require";

/** What a Job is made of: the request (lib/release/ports/database.ts), where it runs and the secret its pod names. */
export interface JobSpecInput
  extends Pick<
    JobRequest,
    "kind" | "slot" | "image" | "version" | "settingsChecksum" | "command" | "to" | "deadlineSeconds"
  > {
  readonly env: string;
  /** The database secret's ARN (the environment's ConfigMap): the pod's annotation, as on the slot's pods. */
  readonly databaseSecretArn?: string;
  /** A short random suffix (tests pass their own). @default 5 random hex digits */
  readonly id?: string;
}

/** Kubernetes names: lower-case alphanumerics and `-`, at most 63 characters (the Job's name is also a pod label's value). */
function dnsLabel(parts: readonly string[], id: string): string {
  const tail = `-${id}`;
  const body = parts
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  if (body.length + tail.length <= 63) return body + tail;
  // Too long: a prefix and a hash of the whole keep names distinct and within the limit.
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 6);
  return `${body.slice(0, 63 - tail.length - hash.length - 1).replace(/-$/, "")}-${hash}${tail}`;
}

/** `migrate-<env>-<slot>-<to>-<id>`, `schema-<env>-<slot>-<id>`. */
export function jobName(i: Pick<JobSpecInput, "env" | "kind" | "slot" | "to" | "id">): string {
  const id = i.id ?? randomBytes(3).toString("hex").slice(0, 5);
  return dnsLabel(
    i.kind === "migrate" ? ["migrate", i.env, i.slot, String(i.to ?? "")] : ["schema", i.env, i.slot],
    id,
  );
}

/** The image contract's variables as the pod sees them: `${X}` becomes Kubernetes's `$(X)`, expanded from its environment. */
export function jobCommand(command: readonly string[]): string[] {
  return command.map((a) => a.replace(/\$\{(DATABASE_URL|ENVSTACK_SCHEMA_TO)\}/g, (_, k: string) => `$(${k})`));
}

/** The batch/v1 Job (a plain object, as the API takes it). */
export function migrationJob(i: JobSpecInput, name = jobName(i)) {
  const namespace = namespaceOf(i.env);
  const labels = {
    [JOB_LABELS.managedBy]: JOB_MANAGER,
    [JOB_LABELS.kind]: i.kind,
    "app.kubernetes.io/part-of": APP_NAME,
    "envstack.io/environment": i.env,
    "envstack.io/slot": i.slot,
    "app.kubernetes.io/version": i.version.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 63),
  };
  const uid = APP_UID;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: i.deadlineSeconds,
      ttlSecondsAfterFinished: JOB_TTL_SECONDS,
      template: {
        metadata: {
          labels,
          ...(i.databaseSecretArn ? { annotations: { [DATABASE_SECRET_ANNOTATION]: i.databaseSecretArn } } : {}),
        },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: APP_SERVICE_ACCOUNT,
          // The command needs no Kubernetes API; Pod Identity's token is projected apart from this one.
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: uid,
            runAsGroup: uid,
            fsGroup: uid,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: i.kind,
              image: i.image,
              imagePullPolicy: i.image.includes("@") ? "IfNotPresent" : "Always",
              command: jobCommand(i.command),
              envFrom: [
                { configMapRef: { name: APP_CONFIG_MAP } },
                ...(i.settingsChecksum
                  ? [{ configMapRef: { name: slotSettingsConfigMap(i.slot, i.settingsChecksum) } }]
                  : []),
              ],
              env: [
                { name: "APP_SLOT", value: i.slot },
                { name: "APP_VERSION", value: i.version },
                { name: "DATABASE_URL", value: CLUSTER_DATABASE_URL },
                ...(i.to !== undefined ? [{ name: "ENVSTACK_SCHEMA_TO", value: String(i.to) }] : []),
              ],
              securityContext: {
                runAsNonRoot: true,
                runAsUser: uid,
                allowPrivilegeEscalation: false,
                privileged: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    },
  };
}
