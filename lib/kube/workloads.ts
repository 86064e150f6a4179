/**
 * The slots' Deployments of an EKS environment, read from its cluster's API server with the
 * official client (@kubernetes/client-node): what `status --live` shows and what the readiness gate
 * judges (lib/release/gates/readiness.ts). Read-only: the workloads stack owns the objects.
 *
 * Which cluster: a kubeconfig context. On AWS it is the context named after the environment
 * (`aws eks update-kubeconfig --name <cluster> --alias <env>`), from ENVSTACK_KUBECONFIG, else
 * KUBECONFIG, else ~/.kube/config; a missing context is an error, never another cluster. On the
 * local target it is the local control plane's kubeconfig (lib/stacks/target.ts) and its context.
 */

import { existsSync } from "node:fs";
import { namespaceOf, slotWorkloadName } from "../constructs/workloads/names.ts";
import { once } from "../core/once.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { SlotWorkload, Workloads } from "../release/ports/index.ts";

/** Which kubeconfig file and context reach an environment's cluster. */
export interface KubeTarget {
  readonly kubeconfig: string;
  /** The context to use; undefined: the file's current context (the local control plane's). */
  readonly context?: string;
}

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
  if (!existsSync(target.kubeconfig)) throw new Error(`no kubeconfig at ${target.kubeconfig}`);
  const k8s = await import("@kubernetes/client-node");
  const config = new k8s.KubeConfig();
  config.loadFromFile(target.kubeconfig);
  if (target.context !== undefined) {
    if (!config.getContextObject(target.context)) {
      throw new Error(
        `${target.kubeconfig} has no context '${target.context}': run 'aws eks update-kubeconfig --name <cluster> --alias ${target.context}'`,
      );
    }
    config.setCurrentContext(target.context);
  }
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
