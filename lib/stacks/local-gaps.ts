/**
 * What the emulator (moto) cannot do, and how the `local` target reshapes the stacks for it.
 * The real stacks keep every one of these; BaseStack applies {@link applyEmulatorProfile} to
 * the stacks of ENVSTACK_TARGET=local only, as cdktf Aspects run at synthesis, so no construct
 * ever asks whether it deploys to the emulator. What moto lacked beyond these, the project's wrapper
 * adds (lib/engine/moto/); docs/engine-and-emulator-gaps.md lists both.
 */

import { DataAwsEksClusterAuth } from "@cdktf/provider-aws/lib/data-aws-eks-cluster-auth";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { Aspects, type IAspect, type TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { remove, resolveIn } from "./local-removals.ts";
import type { Target } from "./target.ts";

export const EMULATOR_GAPS = {
  tlsOnlyBucketPolicy:
    "moto serves plain HTTP, so a bucket policy denying aws:SecureTransport=false would lock the " +
    "engine out of the state bucket: the local profile drops that statement (and a bucket policy left without statements). " +
    "It stays: closing it means serving TLS with a certificate every client trusts (OpenTofu's S3 backend, the provider, envctl) in front of moto",
  eksControlPlane:
    "moto's EKS cluster is a record with a fake endpoint and CA: the local profile points the " +
    "Kubernetes provider of `<env>-workloads` at the local control plane " +
    "(lib/engine/control-plane.ts: etcd, kube-apiserver with EKS's admission plugins, controller " +
    "manager, scheduler, kwok's simulated nodes) through the target's kubeconfig (ENVSTACK_KUBECONFIG), without aws_eks_cluster_auth's token. " +
    "It stays for the provider only: envctl reaches the cluster as on EKS (moto's DescribeCluster reports the control plane, whose token webhook " +
    "checks envctl's token against the emulator's STS and access entries), but aws_eks_cluster_auth presigns for the STS endpoint the provider " +
    "is configured with (the emulator's address), which no EKS authenticator accepts",
  rdsSql:
    "moto's RDS instances have no SQL engine: the stacks keep the instance, and envctl on the local " +
    "target maps the environment's database (<env>-postgres) to a database of that name on a local " +
    "PostgreSQL (ENVSTACK_LOCAL_POSTGRES); 'envctl migrate' runs the app image's migration command " +
    "as a local process in the image stand-in's directory (ENVSTACK_LOCAL_IMAGES/<version>), and " +
    "'envctl data copy' restores with pg_dump instead of an RDS snapshot (lib/database/local.ts). " +
    "It stays: closing it means running a PostgreSQL server per RDS instance behind moto's endpoint addresses",
} as const;

export type EmulatorGap = keyof typeof EMULATOR_GAPS;

/** Gap `tlsOnlyBucketPolicy`: the aws:SecureTransport deny leaves every policy document; a bucket policy left empty goes. */
class WithoutTlsOnlyStatements implements IAspect {
  private readonly emptied = new Set<string>();

  visit(node: IConstruct): void {
    if (node instanceof DataAwsIamPolicyDocument) {
      const statements = node.statementInput;
      if (!Array.isArray(statements)) return;
      const kept = statements.filter(
        (s) =>
          !(
            s.effect === "Deny" &&
            Array.isArray(s.condition) &&
            s.condition.some((c) => c.variable === "aws:SecureTransport")
          ),
      );
      if (kept.length === statements.length) return;
      if (kept.length > 0) {
        node.putStatement(kept);
        return;
      }
      this.emptied.add(`data.${node.terraformResourceType}.${node.friendlyUniqueId}.`);
      remove(node);
    } else if (node instanceof S3BucketPolicy) {
      const policy = resolveIn(node, node.policyInput);
      if (typeof policy === "string" && [...this.emptied].some((a) => policy.includes(`\${${a}`))) remove(node);
    }
  }
}

/**
 * Gap `eksControlPlane`: every Kubernetes provider of the stack reads the local control plane's
 * kubeconfig instead of the EKS cluster's endpoint, CA and token; the token's data source goes.
 */
class LocalKubernetesApi implements IAspect {
  constructor(private readonly kubeconfig: string) {}

  visit(node: IConstruct): void {
    if (node instanceof KubernetesProvider) {
      node.resetHost();
      node.resetClusterCaCertificate();
      node.resetToken();
      node.configPath = this.kubeconfig;
      node.configContext = "envstack-local";
    } else if (node instanceof DataAwsEksClusterAuth) {
      remove(node);
    }
  }
}

/** Applied by BaseStack to stacks of the `local` target only: every gap above, as Aspects. */
export function applyEmulatorProfile(stack: TerraformStack, target: Pick<Target, "kubeconfig">): void {
  const aspects = Aspects.of(stack);
  aspects.add(new LocalKubernetesApi(target.kubeconfig));
  aspects.add(new WithoutTlsOnlyStatements());
}
