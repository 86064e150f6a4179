/**
 * Reading pod specs out of synthesized Kubernetes resources, for the `k8s-*` policy rules.
 * Nested blocks arrive as an object or as a one-element list, depending on how they were written.
 */

export type Json = Record<string, unknown>;

/** The block itself, or the first element of a block list; undefined when absent. */
export function block(value: unknown): Json | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === "object" && v !== null ? (v as Json) : undefined;
}

/** A block list (a single block counts as a list of one). */
export function blocks(value: unknown): Json[] {
  if (Array.isArray(value)) return value.filter((v): v is Json => typeof v === "object" && v !== null);
  const b = block(value);
  return b ? [b] : [];
}

export function isFalse(value: unknown): boolean {
  return value === false || value === "false";
}

/** Resource types carrying a pod template at `spec.template.spec`. */
export const WORKLOAD_TYPES = [
  "kubernetes_deployment",
  "kubernetes_deployment_v1",
  "kubernetes_stateful_set",
  "kubernetes_stateful_set_v1",
  "kubernetes_daemonset",
  "kubernetes_daemon_set_v1",
  "kubernetes_job",
  "kubernetes_job_v1",
  "kubernetes_replication_controller",
  "kubernetes_replication_controller_v1",
] as const;
/** Every resource type with a pod spec the `k8s-*` rules inspect. */
export const POD_TYPES = [
  ...WORKLOAD_TYPES,
  "kubernetes_pod",
  "kubernetes_pod_v1",
  "kubernetes_cron_job",
  "kubernetes_cron_job_v1",
] as const;

/** The pod spec of a pod, workload or cron job resource. */
export function podSpec(type: string, config: Json): Json | undefined {
  const spec = block(config.spec);
  if (type.startsWith("kubernetes_pod")) return spec;
  if (type.startsWith("kubernetes_cron_job")) {
    return block(block(block(block(block(spec?.job_template)?.spec)?.template)?.spec));
  }
  return block(block(spec?.template)?.spec);
}

export interface ContainerView {
  readonly name: string;
  readonly container: Json;
  /** The container's security context, if any. */
  readonly securityContext?: Json;
}

/** Containers and init containers of a pod spec. */
export function containers(pod: Json): ContainerView[] {
  return [...blocks(pod.container), ...blocks(pod.init_container)].map((c, i) => ({
    name: typeof c.name === "string" ? c.name : `#${i}`,
    container: c,
    securityContext: block(c.security_context),
  }));
}
