import {
  NetworkPolicyV1,
  type NetworkPolicyV1Spec,
  type NetworkPolicyV1SpecEgress,
} from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { Construct } from "constructs";
import { subnetCidr } from "../../config/cidr.ts";

/** Instance metadata service: application pods never reach it (they use Pod Identity). */
export const INSTANCE_METADATA_CIDR = "169.254.169.254/32";
/** EKS Pod Identity agent (link-local, on every node, HTTP): where pods fetch their AWS credentials. */
export const POD_IDENTITY_AGENT = { cidr: "169.254.170.23/32", port: 80 } as const;

/**
 * The database subnets of a VPC, computed exactly as `Network` carves them: blocks 8, 9, ... of
 * size /(prefix + 4). Plain CIDRs rather than references, so the policy stays a pure function
 * of the configuration (a test checks they match the synthesized subnets).
 */
export function databaseSubnetCidrs(vpcCidr: string, azCount: number): string[] {
  const prefix = Number(vpcCidr.split("/")[1]) + 4;
  return Array.from({ length: azCount }, (_, i) => subnetCidr(vpcCidr, prefix, 8 + i));
}

export interface NetworkPoliciesProps {
  readonly namespace: string;
  /** Labels selecting the application pods (both slots). */
  readonly appSelector: Record<string, string>;
  /** Port the application listens on. */
  readonly appPort: number;
  /** VPC CIDR: the ALB reaches the pods through the nodes (NodePort, source NAT to the node IP). */
  readonly vpcCidr: string;
  /** Database subnets: the only destinations of the data ports. */
  readonly databaseCidrs: readonly string[];
  /** Ports of the database and cache. @default [5432, 6379] */
  readonly dataPorts?: readonly number[];
  /** Allow HTTPS (443) to anywhere except the instance metadata service. @default true */
  readonly allowHttpsEgress?: boolean;
  /** Allow the EKS Pod Identity agent. @default true */
  readonly allowPodIdentity?: boolean;
  /** Labels of every object of the environment. @default none */
  readonly labels?: Record<string, string>;
}

/**
 * Default deny in both directions for every pod of the namespace, then only: traffic within the
 * namespace; the application port from the VPC; DNS (UDP/TCP 53); HTTPS out (AWS APIs, image
 * registry) but not to the instance metadata service; the Pod Identity agent; and the database
 * and cache ports to the database subnets only.
 */
export class NetworkPolicies extends Construct {
  readonly policies: NetworkPolicyV1[] = [];

  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const metadata = (name: string) => ({ name, namespace: props.namespace, labels: { ...props.labels } });
    const all = { matchLabels: {} };
    const add = (policyId: string, name: string, spec: NetworkPolicyV1Spec) =>
      this.policies.push(new NetworkPolicyV1(this, policyId, { metadata: metadata(name), spec }));

    add("default-deny", "default-deny-all", { podSelector: all, policyTypes: ["Ingress", "Egress"] });
    add("same-namespace", "allow-same-namespace", {
      podSelector: all,
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: all }] }],
      egress: [{ to: [{ podSelector: all }] }],
    });
    add("app-from-vpc", "allow-app-port-from-vpc", {
      podSelector: { matchLabels: { ...props.appSelector } },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [{ ipBlock: { cidr: props.vpcCidr } }], ports: [{ protocol: "TCP", port: String(props.appPort) }] },
      ],
    });

    const egress: NetworkPolicyV1SpecEgress[] = [
      {
        ports: [
          { protocol: "UDP", port: "53" },
          { protocol: "TCP", port: "53" },
        ],
      },
    ];
    if (props.allowHttpsEgress ?? true) {
      egress.push({
        to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [INSTANCE_METADATA_CIDR] } }],
        ports: [{ protocol: "TCP", port: "443" }],
      });
    }
    if (props.allowPodIdentity ?? true) {
      egress.push({
        to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.cidr } }],
        ports: [{ protocol: "TCP", port: String(POD_IDENTITY_AGENT.port) }],
      });
    }
    egress.push({
      to: props.databaseCidrs.map((cidr) => ({ ipBlock: { cidr } })),
      ports: (props.dataPorts ?? [5432, 6379]).map((port) => ({ protocol: "TCP", port: String(port) })),
    });
    add("egress", "allow-egress", { podSelector: all, policyTypes: ["Egress"], egress });
  }
}
