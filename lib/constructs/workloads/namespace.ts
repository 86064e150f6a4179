import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { Construct } from "constructs";

export interface AppNamespaceProps {
  /** Namespace name (one per environment, see `namespaceOf`). */
  readonly name: string;
  /** Environment the namespace belongs to: the `environment` label. */
  readonly environment: string;
  /** Labels of every object of the environment, added to the namespace too. @default none */
  readonly labels?: Record<string, string>;
  /**
   * Pod Security Admission level enforced (and audited, warned) on the namespace.
   * @default "restricted" (non-root, no privilege escalation, capabilities dropped, seccomp)
   */
  readonly podSecurityLevel?: "restricted" | "baseline";
}

/** The environment's namespace, labelled with the environment and enforcing a Pod Security level. */
export class AppNamespace extends Construct {
  readonly namespace: NamespaceV1;
  /** The namespace name as a reference: objects using it are created after the namespace. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: AppNamespaceProps) {
    super(scope, id);
    const level = props.podSecurityLevel ?? "restricted";
    this.namespace = new NamespaceV1(this, "namespace", {
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          environment: props.environment,
          "pod-security.kubernetes.io/enforce": level,
          "pod-security.kubernetes.io/audit": level,
          "pod-security.kubernetes.io/warn": level,
        },
      },
    });
    this.name = this.namespace.metadata.name;
  }
}
