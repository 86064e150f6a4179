/**
 * Who reaches the cluster: deployer roles through EKS access entries (a Kubernetes group, no
 * access policy: RBAC decides), extra networks on the private API endpoint, and the application's
 * pods to AWS through a Pod Identity role.
 *
 * Resources are created directly in the given scope (see lib/constructs/eks/iam.ts).
 */

import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { Construct } from "constructs";
import { PodIdentityRole } from "./iam.ts";

export interface EksDeployerAccessProps {
  readonly clusterName: string;
  /** IAM roles (ARNs) authenticated into the group. @default none */
  readonly roleArns?: readonly string[];
  /** Kubernetes group of the deployers, bound by RBAC (e.g. to a namespaced deployer Role). */
  readonly kubernetesGroup: string;
}

/**
 * One access entry per deployer role (ids `deployer-<i>`), type STANDARD, with no access policy
 * association: the roles' only rights are what RBAC in the workloads stack binds to the group,
 * so nothing cluster-wide.
 */
export class EksDeployerAccess {
  readonly entries: EksAccessEntry[];

  constructor(scope: Construct, props: EksDeployerAccessProps) {
    this.entries = (props.roleArns ?? []).map(
      (principalArn, i) =>
        new EksAccessEntry(scope, `deployer-${i}`, {
          clusterName: props.clusterName,
          principalArn,
          type: "STANDARD",
          kubernetesGroups: [props.kubernetesGroup],
        }),
    );
  }
}

export interface EksPrivateApiAccessProps {
  /** The cluster security group (on the control-plane ENIs). */
  readonly clusterSecurityGroupId: string;
  /**
   * CIDRs allowed to reach the private API endpoint (HTTPS), e.g. a CI runner subnet. Nodes and
   * pods reach it through the cluster security group anyway. @default [] (no rule)
   */
  readonly cidrs?: readonly string[];
}

/** HTTPS to the private API endpoint from the given networks only (ids `api-private-<i>`). */
export class EksPrivateApiAccess {
  constructor(scope: Construct, props: EksPrivateApiAccessProps) {
    (props.cidrs ?? []).forEach((cidr, i) => {
      new VpcSecurityGroupIngressRule(scope, `api-private-${i}`, {
        securityGroupId: props.clusterSecurityGroupId,
        description: "Kubernetes API (private endpoint)",
        cidrIpv4: cidr,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
      });
    });
  }
}

export interface EksAppPodIdentityProps {
  readonly clusterName: string;
  /** Prefix of the role name: `<namePrefix>-eks-app`. */
  readonly namePrefix: string;
  /** The application's service account. */
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
}

/**
 * The application pods' AWS role (ids `app-role`, `app-pod-identity`), through EKS Pod Identity.
 * It has no permissions: the caller grants exactly what the application needs.
 */
export class EksAppPodIdentity {
  readonly role: IamRole;

  constructor(scope: Construct, props: EksAppPodIdentityProps) {
    this.role = new PodIdentityRole(scope, { id: "app-role", name: `${props.namePrefix}-eks-app` }).role;
    new EksPodIdentityAssociation(scope, "app-pod-identity", {
      clusterName: props.clusterName,
      namespace: props.serviceAccount.namespace,
      serviceAccount: props.serviceAccount.name,
      roleArn: this.role.arn,
    });
  }
}
