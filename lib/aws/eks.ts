/**
 * How envctl reaches an EKS environment's Kubernetes API without a kubeconfig: the cluster's
 * endpoint and CA from EKS DescribeCluster, and a bearer token it makes itself (./eks-token.ts),
 * both with the environment's credentials (its deploy role when the account has one, as every other
 * AWS call of envctl). The API server authenticates the token through the cluster's access entries:
 * the principal needs one (the deploy role that created the cluster has one: the stacks create it
 * with bootstrapClusterCreatorAdminPermissions) and `eks:DescribeCluster` on the cluster.
 */
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { type AwsClientOptions, awsClientConfig, describeAwsError } from "./clients.ts";
import { eksTokenSource } from "./eks-token.ts";

/** The API server's address and the CA its serving certificate chains to (PEM). */
export interface EksEndpoint {
  readonly server: string;
  readonly caPem: string;
}

/** What lib/kube needs of a cluster (its `EksAccess`): where it is, and a fresh token on each call. */
export interface EksClusterAccess {
  readonly cluster: string;
  endpoint(): Promise<EksEndpoint>;
  token(): Promise<string>;
}

const where = (o: AwsClientOptions, cluster: string) =>
  `EKS cluster ${cluster}${o.environment ? ` (${o.environment})` : ""} in ${o.region}${o.account ? ` of account ${o.account.id}` : ""}`;

/** The endpoint and CA of a cluster, checked: an https URL and a PEM certificate, else an error naming the cluster. */
export function endpointOf(
  o: AwsClientOptions,
  cluster: string,
  c: { status?: string; endpoint?: string; certificateAuthority?: { data?: string } } | undefined,
): EksEndpoint {
  if (!c) throw new Error(`${where(o, cluster)}: DescribeCluster returned no cluster`);
  if (c.status && c.status !== "ACTIVE" && c.status !== "UPDATING")
    throw new Error(`${where(o, cluster)} is ${c.status}, not ACTIVE: its API cannot be reached`);
  if (!c.endpoint?.startsWith("https://"))
    throw new Error(`${where(o, cluster)} has no https endpoint (${c.endpoint})`);
  const caPem = Buffer.from(c.certificateAuthority?.data ?? "", "base64").toString("utf8");
  if (!caPem.includes("-----BEGIN CERTIFICATE-----"))
    throw new Error(`${where(o, cluster)} has no certificate authority data`);
  return { server: c.endpoint, caPem };
}

/**
 * The cluster's access with the environment's credentials: DescribeCluster once per process (the
 * endpoint and CA of a cluster do not change while it exists), a token per call (cached 50 s).
 */
export function eksClusterAccess(o: AwsClientOptions, cluster: string): EksClusterAccess {
  const client = new EKSClient(awsClientConfig(o, 2));
  let endpoint: Promise<EksEndpoint> | undefined;
  const describe = async () => {
    try {
      return endpointOf(o, cluster, (await client.send(new DescribeClusterCommand({ name: cluster }))).cluster);
    } catch (err) {
      if ((err as { name?: string }).name === "ResourceNotFoundException")
        throw new Error(`no ${where(o, cluster)}: deploy the environment first`);
      if ((err as Error).message.startsWith("EKS cluster")) throw err;
      throw new Error(`could not describe ${where(o, cluster)}: ${describeAwsError(err)}`);
    }
  };
  // The same credentials the EKS client signs with: the deploy role's, the emulator's, or the SDK's default chain.
  const token = eksTokenSource(cluster, o.region, () => client.config.credentials());
  return {
    cluster,
    endpoint: () => {
      if (!endpoint) {
        const asked = describe();
        // A failure is not kept: the next read asks EKS again.
        asked.catch(() => {
          if (endpoint === asked) endpoint = undefined;
        });
        endpoint = asked;
      }
      return endpoint;
    },
    token: async () => {
      try {
        return await token();
      } catch (err) {
        throw new Error(`could not make a token for ${where(o, cluster)}: ${describeAwsError(err)}`);
      }
    },
  };
}
