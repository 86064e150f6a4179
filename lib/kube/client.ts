/**
 * The one way envctl reaches an EKS environment's API server: a KubeConfig for its {@link KubeTarget}.
 * Every adapter of lib/kube (the slots' Deployments, the migration Jobs) gets its client here, so
 * how the credentials are made (today a kubeconfig context) changes in this file alone.
 *
 * Which cluster: a kubeconfig context. On AWS it is the context named after the environment
 * (`aws eks update-kubeconfig --name <cluster> --alias <env>`), from ENVSTACK_KUBECONFIG, else
 * KUBECONFIG, else ~/.kube/config; a missing context is an error, never another cluster. On the
 * local target it is the local control plane's kubeconfig (lib/stacks/target.ts) and its context.
 */
import { existsSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";

/** Which kubeconfig file and context reach an environment's cluster. */
export interface KubeTarget {
  readonly kubeconfig: string;
  /** The context to use; undefined: the file's current context (the local control plane's). */
  readonly context?: string;
}

/** The client library, loaded on first use (about 0.5 s to import; most commands never read a cluster). */
export const kubeLibrary = () => import("@kubernetes/client-node");

/** The configuration of the environment's cluster; throws naming the file or the context when either is missing. */
export async function kubeConfigFor(target: KubeTarget): Promise<KubeConfig> {
  if (!existsSync(target.kubeconfig)) throw new Error(`no kubeconfig at ${target.kubeconfig}`);
  const k8s = await kubeLibrary();
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
  return config;
}
