/**
 * The one place a Kubernetes client configuration is built from where an environment's cluster is
 * ({@link KubeTarget}); every reader and runner of lib/kube gets its client through
 * {@link kubeConfigFor}.
 *
 * - `eks` (the default on AWS): no kubeconfig file and no context. The cluster's endpoint and CA come
 *   from EKS DescribeCluster and the user is a bearer token envctl made itself (a presigned STS
 *   GetCallerIdentity URL for the cluster, lib/aws/eks-token.ts), both with the environment's
 *   credentials; the API server maps the signer to Kubernetes groups through the cluster's access
 *   entries. The configuration lives in memory only.
 * - `kubeconfig`: a file and, optionally, a context in it. On the local target it is the local control
 *   plane's admin kubeconfig (the local loop's shortcut); on AWS only when ENVSTACK_KUBE_AUTH=kubeconfig
 *   asks for a context named after the environment. A missing file or context is an error, never
 *   another cluster.
 *
 * @kubernetes/client-node is imported on first use: it takes about 0.5 s to load.
 */
import { existsSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";

/** What lib/kube needs of an EKS cluster: its API server and CA (PEM), and a valid token on each call. */
export interface EksAccess {
  readonly cluster: string;
  endpoint(): Promise<{ readonly server: string; readonly caPem: string }>;
  /** A token valid for at least the next 10 s (lib/aws/eks-token.ts renews it). */
  token(): Promise<string>;
}

/** Where an environment's cluster is and how envctl authenticates to it. */
export type KubeTarget =
  | { readonly kind: "eks"; readonly access: EksAccess }
  | {
      readonly kind: "kubeconfig";
      readonly kubeconfig: string;
      /** The context to use; undefined: the file's current context (the local control plane's). */
      readonly context?: string;
    };

/**
 * A client configuration for the target's cluster. With `eks` the token in it is valid for about a
 * minute: build a new configuration (cheap: the endpoint is cached, the token renewed) for each
 * request that starts later.
 */
export async function kubeConfigFor(target: KubeTarget): Promise<KubeConfig> {
  const k8s = await import("@kubernetes/client-node");
  const config = new k8s.KubeConfig();
  if (target.kind === "eks") {
    const [endpoint, token] = await Promise.all([target.access.endpoint(), target.access.token()]);
    const name = target.access.cluster;
    config.loadFromOptions({
      clusters: [
        { name, server: endpoint.server, caData: Buffer.from(endpoint.caPem).toString("base64"), skipTLSVerify: false },
      ],
      users: [{ name, token }],
      contexts: [{ name, cluster: name, user: name }],
      currentContext: name,
    });
    return config;
  }
  if (!existsSync(target.kubeconfig)) throw new Error(`no kubeconfig at ${target.kubeconfig}`);
  config.loadFromFile(target.kubeconfig);
  if (target.context !== undefined) {
    if (!config.getContextObject(target.context)) {
      throw new Error(
        `${target.kubeconfig} has no context '${target.context}' (ENVSTACK_KUBE_AUTH=kubeconfig); ` +
          "without ENVSTACK_KUBE_AUTH envctl reaches the cluster through EKS with a token of its own",
      );
    }
    config.setCurrentContext(target.context);
  }
  return config;
}

/** The client library, loaded on first use (about 0.5 s to import; most commands never read a cluster). */
export const kubeLibrary = () => import("@kubernetes/client-node");
