/**
 * The slots' Deployments of an EKS environment, read from its cluster's API server with the
 * official client (@kubernetes/client-node): what `status --live` shows and what the readiness gate
 * judges (lib/release/gates/readiness.ts). Read-only: the workloads stack owns the objects.
 * The cluster is reached through ./client.ts (`kubeConfigFor`).
 */

import { namespaceOf, slotWorkloadName } from "../constructs/workloads/names.ts";
import { once } from "../core/once.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { SlotWorkload, Workloads } from "../release/ports/index.ts";
import { type KubeTarget, kubeConfigFor, kubeLibrary } from "./client.ts";

export type { KubeTarget } from "./client.ts";

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
  const k8s = await kubeLibrary();
  const config = await kubeConfigFor(target);
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const namespace = namespaceOf(env);
  const one = async (slot: Slot): Promise<SlotWorkload | null> => {
    try {
      return slotWorkloadOf(await apps.readNamespacedDeployment({ name: slotWorkloadName(slot), namespace }));
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  };
  return {
    read: async () => {
      const [blue = null, green = null] = await Promise.all(SLOTS.map(one));
      return { blue, green };
    },
  };
}
