/**
 * The slots' Deployments of an EKS environment, read from its cluster's API server with the
 * official client (@kubernetes/client-node): what `status --live` shows and what the readiness gate
 * judges (lib/release/gates/readiness.ts). Read-only: the workloads stack owns the objects.
 *
 * Which cluster, and as whom: a {@link KubeTarget} (./config.ts). On AWS, EKS's endpoint and CA
 * and a token envctl makes with the environment's role; on the local target, the local control
 * plane's admin kubeconfig, or the same token path with ENVSTACK_KUBE_AUTH=eks.
 */

import { namespaceOf, slotWorkloadName } from "../constructs/workloads/names.ts";
import { once } from "../core/once.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { SlotWorkload, Workloads } from "../release/ports/index.ts";
import { type KubeTarget, kubeConfigFor } from "./config.ts";

export type { EksAccess, KubeTarget } from "./config.ts";

/** The version label every slot's pod template carries (lib/constructs/workloads/slot-deployment.ts). */
export const VERSION_LABEL = "app.kubernetes.io/version";

/** The Deployment as the API returns it, reduced to what a slot's state needs. Pure. */
export function slotWorkloadOf(d: {
  metadata?: { generation?: number };
  spec?: { replicas?: number; template?: { metadata?: { labels?: Record<string, string> } } };
  status?: { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}): SlotWorkload {
  return {
    desired: d.spec?.replicas ?? 1,
    ready: d.status?.readyReplicas ?? 0,
    updated: d.status?.updatedReplicas ?? 0,
    version: d.spec?.template?.metadata?.labels?.[VERSION_LABEL] ?? null,
    observed: (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1),
  };
}

/** Loaded on first use: the client takes about 0.5 s to import, and most commands never read a cluster. */
export function lazyKubeWorkloads(env: string, target: KubeTarget): Workloads {
  const loaded = once(() => kubeWorkloads(env, target));
  return { read: async () => (await loaded()).read() };
}

/** The slots' Deployments in the environment's namespace; 404 is "no Deployment", anything else throws. */
export async function kubeWorkloads(env: string, target: KubeTarget): Promise<Workloads> {
  const k8s = await import("@kubernetes/client-node");
  // A configuration per read: an EKS token lives a minute, and `status --watch` reads for longer.
  const apps = async () => (await kubeConfigFor(target)).makeApiClient(k8s.AppsV1Api);
  const namespace = namespaceOf(env);
  const one = async (api: Awaited<ReturnType<typeof apps>>, slot: Slot): Promise<SlotWorkload | null> => {
    try {
      return slotWorkloadOf(await api.readNamespacedDeployment({ name: slotWorkloadName(slot), namespace }));
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  };
  return {
    read: async () => {
      const api = await apps();
      const [blue = null, green = null] = await Promise.all(SLOTS.map((slot) => one(api, slot)));
      return { blue, green };
    },
  };
}
