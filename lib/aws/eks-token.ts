/**
 * The bearer token EKS's API server accepts from an IAM principal, made as aws-iam-authenticator
 * and `aws eks get-token` make it: `k8s-aws-v1.` followed by the base64url (no padding) of a
 * SigV4-presigned `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`
 * whose signed headers include `x-k8s-aws-id: <cluster name>` (a token for one cluster is refused
 * by another), valid 60 s (`X-Amz-Expires=60`). The cluster's authenticator calls STS with it to
 * learn who signed it; nothing secret leaves the machine (the signature, not the key).
 *
 * Signed by the SDK's own SigV4 signer (@smithy/signature-v4, the one every SDK client signs with),
 * never by hand.
 */
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Credentials, CredentialsProvider } from "./clients.ts";

export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";
/** The signed header naming the cluster the token is for. */
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
/** How long a token is valid, in seconds (what aws-iam-authenticator presigns with). */
export const EKS_TOKEN_SECONDS = 60;
/** A cached token is replaced this long after it was made: 10 s before it expires, so a request never carries a dead one. */
export const EKS_TOKEN_REFRESH_MS = 50_000;

/** STS's regional endpoint host for `region` (the China partition's domain ends in .com.cn). */
export function stsHost(region: string): string {
  return `sts.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`;
}

export interface EksTokenInput {
  readonly cluster: string;
  readonly region: string;
  readonly credentials: Credentials | CredentialsProvider;
  /** The signing time. @default now */
  readonly now?: Date;
}

/** The presigned GetCallerIdentity URL a token carries. */
export async function presignedCallerIdentityUrl(i: EksTokenInput): Promise<string> {
  const host = stsHost(i.region);
  const signer = new SignatureV4({
    service: "sts",
    region: i.region,
    credentials: i.credentials,
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const signed = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: host,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host, [CLUSTER_ID_HEADER]: i.cluster },
    },
    { expiresIn: EKS_TOKEN_SECONDS, ...(i.now ? { signingDate: i.now } : {}) },
  );
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) if (one !== null && one !== undefined) query.append(k, one);
  }
  return `https://${host}/?${query.toString()}`;
}

/** The token: `k8s-aws-v1.` + base64url of the presigned URL, without padding. */
export async function eksToken(i: EksTokenInput): Promise<string> {
  return EKS_TOKEN_PREFIX + Buffer.from(await presignedCallerIdentityUrl(i)).toString("base64url");
}

/**
 * A token for `cluster` on each call, made anew once the last one is {@link EKS_TOKEN_REFRESH_MS} old
 * (the credentials provider is asked each time: a role's credentials renew themselves).
 */
export function eksTokenSource(
  cluster: string,
  region: string,
  credentials: () => Promise<Credentials>,
  now: () => number = Date.now,
): () => Promise<string> {
  let cached: { token: Promise<string>; at: number } | undefined;
  return () => {
    const t = now();
    if (!cached || t - cached.at >= EKS_TOKEN_REFRESH_MS) {
      const token = credentials().then((c) => eksToken({ cluster, region, credentials: c, now: new Date(t) }));
      cached = { token, at: t };
      token.catch(() => {
        if (cached?.token === token) cached = undefined;
      });
    }
    return cached.token;
  };
}
