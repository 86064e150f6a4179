/**
 * The IAM roles of an EKS cluster, least privilege: the cluster role (the EKS service policy and
 * use of the secrets key, nothing else), the node role (exactly the three worker policies) and
 * roles pods assume through EKS Pod Identity (no rights until the caller grants some).
 *
 * Like every part in lib/constructs/eks/, these create their resources directly in the given
 * scope, under fixed ids, and add no construct node of their own: the Terraform addresses are the
 * ones of the {@link EksCompute} construct they compose (lib/constructs/compute-eks.ts).
 */

import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { Construct } from "constructs";
import { assumeRolePolicy } from "../iam.ts";

/** ARN prefix of AWS managed policies. */
export const MANAGED = "arn:aws:iam::aws:policy";
/** The only managed policies of the cluster role. */
export const CLUSTER_ROLE_POLICIES = [`${MANAGED}/AmazonEKSClusterPolicy`] as const;
/** The only managed policies of the node role. */
export const NODE_ROLE_POLICIES = [
  `${MANAGED}/AmazonEKSWorkerNodePolicy`,
  `${MANAGED}/AmazonEC2ContainerRegistryReadOnly`,
  `${MANAGED}/AmazonEKS_CNI_Policy`,
] as const;

/** Trust policy of a role assumed by pods through EKS Pod Identity. */
export function podIdentityTrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
      },
    ],
  });
}

export interface EksClusterRoleProps {
  /** Prefix of the role name: the role is `<namePrefix>-eks-cluster`. */
  readonly namePrefix: string;
  /** KMS key encrypting the Kubernetes secrets: the role may encrypt, decrypt and describe with it, and nothing else. */
  readonly secretsKeyArn: string;
}

/**
 * Role of the EKS control plane (ids `cluster-role`, `cluster-policy-<i>`, `cluster-secrets-key`):
 * trusted by `eks.amazonaws.com`, with {@link CLUSTER_ROLE_POLICIES} and use of the secrets key.
 */
export class EksClusterRole {
  readonly role: IamRole;
  /** What the cluster must be created after: the policy attachments, then the key policy. */
  readonly grants: readonly (IamRolePolicyAttachment | IamRolePolicy)[];

  constructor(scope: Construct, props: EksClusterRoleProps) {
    this.role = new IamRole(scope, "cluster-role", {
      name: `${props.namePrefix}-eks-cluster`,
      assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com"),
    });
    const attachments = CLUSTER_ROLE_POLICIES.map(
      (arn, i) => new IamRolePolicyAttachment(scope, `cluster-policy-${i}`, { role: this.role.name, policyArn: arn }),
    );
    const keyPolicy = new IamRolePolicy(scope, "cluster-secrets-key", {
      role: this.role.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
            Resource: props.secretsKeyArn,
          },
        ],
      }),
    });
    this.grants = [...attachments, keyPolicy];
  }
}

export interface EksNodeRoleProps {
  /** Prefix of the role name: the role is `<namePrefix>-eks-node`. */
  readonly namePrefix: string;
}

/**
 * Role of the nodes (ids `node-role`, `node-policy-<i>`): trusted by `ec2.amazonaws.com`, with
 * exactly {@link NODE_ROLE_POLICIES}. Pods get AWS rights through Pod Identity roles, never here.
 */
export class EksNodeRole {
  readonly role: IamRole;
  readonly policyAttachments: readonly IamRolePolicyAttachment[];

  constructor(scope: Construct, props: EksNodeRoleProps) {
    this.role = new IamRole(scope, "node-role", {
      name: `${props.namePrefix}-eks-node`,
      assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"),
    });
    this.policyAttachments = NODE_ROLE_POLICIES.map(
      (arn, i) => new IamRolePolicyAttachment(scope, `node-policy-${i}`, { role: this.role.name, policyArn: arn }),
    );
  }
}

export interface PodIdentityRoleProps {
  /** Construct id of the role in the scope. */
  readonly id: string;
  /** IAM role name. */
  readonly name: string;
}

/** A role pods assume through EKS Pod Identity; it has no permissions until the caller adds some. */
export class PodIdentityRole {
  readonly role: IamRole;

  constructor(scope: Construct, props: PodIdentityRoleProps) {
    this.role = new IamRole(scope, props.id, { name: props.name, assumeRolePolicy: podIdentityTrustPolicy() });
  }
}
