/**
 * The decisions of the local control plane's token webhook (./token-webhook.ts), as EKS's
 * authenticator makes them for an IAM principal's token (aws-iam-authenticator's server and EKS
 * access entries): pure, with STS and EKS behind {@link ReviewDeps}.
 *
 * A token is `k8s-aws-v1.` + base64url(presigned STS GetCallerIdentity URL). Refused without
 * asking anyone: another prefix, bad base64url, a URL that is not https on STS's regional endpoint
 * of the credential scope's region, another path, an unknown or repeated query parameter, another
 * action, version or algorithm, signed headers that are not exactly `host` and `x-k8s-aws-id`, an
 * expiry over 15 minutes, a signing time in the future (past 5 minutes of skew) or an expired one.
 * Then STS is asked who signed it, with `x-k8s-aws-id` set to each cluster the webhook serves: the
 * signature covers that header, so it verifies for the cluster the token was made for only (the
 * emulator's STS checks the signature: lib/engine/moto/presigned_sts.py). An assumed-role session
 * is mapped to its role, and the role to the cluster's access entry for it (in the caller's account,
 * in the token's region): its username (`{{SessionName}}`, `{{AccountID}}` filled in) and
 * Kubernetes groups, plus a group per access policy associated at cluster scope, which the control
 * plane binds to the matching ClusterRole ({@link ACCESS_POLICY_GROUPS}). No entry: not
 * authenticated. Any error: not authenticated (fail closed).
 */

export const TOKEN_PREFIX = "k8s-aws-v1.";
/** aws-iam-authenticator refuses longer tokens (its maxTokenLenBytes). */
export const MAX_TOKEN_LENGTH = 4096;
const ALLOWED_PARAMS = new Set([
  "Action",
  "Version",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-Security-Token",
  "X-Amz-Signature",
  "X-Amz-SignedHeaders",
]);
const MAX_EXPIRES_SECONDS = 900;
const SKEW_MS = 5 * 60_000;
const SCOPE = /^[A-Z0-9]{12,128}\/(\d{8})\/([a-z]{2}(?:-[a-z]+)+-\d)\/sts\/aws4_request$/;

/**
 * The Kubernetes group of each EKS access policy, when associated at cluster scope, and the ClusterRole
 * the control plane binds it to (the closest built-in role to what the policy allows on EKS).
 */
export const ACCESS_POLICY_GROUPS: Readonly<Record<string, { group: string; clusterRole: string }>> = {
  AmazonEKSClusterAdminPolicy: { group: "envstack:eks-access-policy:cluster-admin", clusterRole: "cluster-admin" },
  AmazonEKSAdminPolicy: { group: "envstack:eks-access-policy:admin", clusterRole: "admin" },
  AmazonEKSEditPolicy: { group: "envstack:eks-access-policy:edit", clusterRole: "edit" },
  AmazonEKSViewPolicy: { group: "envstack:eks-access-policy:view", clusterRole: "view" },
};

/** A token's presigned request, checked without any network. */
export interface ParsedToken {
  readonly url: URL;
  readonly region: string;
}

/** The token's presigned URL, or why it is refused. */
export function parseToken(token: string, now: Date): ParsedToken | { readonly refused: string } {
  if (!token.startsWith(TOKEN_PREFIX)) return { refused: "not an EKS token (no k8s-aws-v1. prefix)" };
  if (token.length > MAX_TOKEN_LENGTH) return { refused: `longer than ${MAX_TOKEN_LENGTH} characters` };
  const encoded = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return { refused: "not base64url" };
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
  } catch {
    return { refused: "does not hold a URL" };
  }
  const params = [...url.searchParams.keys()];
  const unknown = params.filter((k) => !ALLOWED_PARAMS.has(k));
  if (unknown.length) return { refused: `unexpected query parameters ${unknown.join(", ")}` };
  if (new Set(params).size !== params.length) return { refused: "a query parameter appears more than once" };
  const q = (k: string) => url.searchParams.get(k) ?? "";
  const scope = SCOPE.exec(q("X-Amz-Credential"));
  if (!scope) return { refused: "X-Amz-Credential is not an sts credential scope" };
  const region = scope[2]!;
  if (url.protocol !== "https:" || url.host !== `sts.${region}.amazonaws.com` || url.pathname !== "/" || url.hash)
    return { refused: `not STS's endpoint of ${region} (${url.protocol}//${url.host}${url.pathname})` };
  if (q("Action") !== "GetCallerIdentity" || q("Version") !== "2011-06-15")
    return { refused: "not a GetCallerIdentity request (Action, Version)" };
  if (q("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") return { refused: "not signed with AWS4-HMAC-SHA256" };
  if (q("X-Amz-SignedHeaders") !== "host;x-k8s-aws-id")
    return { refused: `signed headers ${q("X-Amz-SignedHeaders") || "(none)"}, not host;x-k8s-aws-id` };
  if (!q("X-Amz-Signature")) return { refused: "no signature" };
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q("X-Amz-Date"));
  const expires = Number(q("X-Amz-Expires"));
  if (!date || `${date[1]}${date[2]}${date[3]}` !== scope[1]) return { refused: "X-Amz-Date is malformed" };
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_SECONDS)
    return { refused: `X-Amz-Expires must be 1-${MAX_EXPIRES_SECONDS} seconds` };
  const signedAt = Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!);
  if (signedAt - now.getTime() > SKEW_MS) return { refused: "signed in the future" };
  if (now.getTime() > signedAt + expires * 1000)
    return { refused: `expired (signed ${q("X-Amz-Date")}, valid ${expires} s)` };
  return { url, region };
}

/** A principal's access entry on a cluster, with the access policies associated with it. */
export interface AccessEntry {
  readonly username: string;
  readonly kubernetesGroups: readonly string[];
  readonly policies: readonly { readonly policyArn: string; readonly scope: "cluster" | "namespace" }[];
}

export interface ReviewDeps {
  /** The cluster names this API server stands for. */
  readonly clusters: readonly string[];
  /** STS's answer to the presigned URL sent with `x-k8s-aws-id: <cluster>`: the caller's ARN, or undefined when refused. */
  callerArn(url: URL, cluster: string): Promise<string | undefined>;
  /** The access entry of `principalArn` on the cluster in that account and region; undefined when there is none. */
  accessEntry(q: {
    account: string;
    region: string;
    cluster: string;
    principalArn: string;
  }): Promise<AccessEntry | undefined>;
}

export interface ReviewStatus {
  readonly authenticated: boolean;
  readonly user?: { username: string; uid: string; groups: string[]; extra: Record<string, string[]> };
  readonly error?: string;
}

const ASSUMED_ROLE = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;
const IAM_PRINCIPAL = /^arn:(aws[\w-]*):(?:iam|sts)::(\d{12}):(?:user|role)\/[\w+=,.@/-]+$/;

/** The IAM principal an access entry names for a caller ARN: an assumed-role session's role; a user as is. */
export function principalOf(arn: string): { principalArn: string; account: string; session?: string } | undefined {
  const role = ASSUMED_ROLE.exec(arn);
  if (role)
    return { principalArn: `arn:${role[1]}:iam::${role[2]}:role/${role[3]}`, account: role[2]!, session: role[4]! };
  const other = IAM_PRINCIPAL.exec(arn);
  return other ? { principalArn: arn, account: other[2]! } : undefined;
}

/** The TokenReview status of `token`. Never throws: an error is a refusal. */
export async function reviewToken(token: string, deps: ReviewDeps, now: Date): Promise<ReviewStatus> {
  const refused = (error: string): ReviewStatus => ({ authenticated: false, error });
  try {
    const parsed = parseToken(token, now);
    if ("refused" in parsed) return refused(`token refused: ${parsed.refused}`);
    let found: { arn: string; cluster: string } | undefined;
    for (const cluster of deps.clusters) {
      const arn = await deps.callerArn(parsed.url, cluster);
      if (arn) {
        found = { arn, cluster };
        break;
      }
    }
    if (!found) return refused("STS refused the token for every cluster this API server serves");
    const who = principalOf(found.arn);
    if (!who) return refused(`${found.arn} is not an IAM role session or user`);
    const entry = await deps.accessEntry({ ...who, region: parsed.region, cluster: found.cluster });
    if (!entry)
      return refused(`${who.principalArn} has no access entry on ${found.cluster} (${who.account}, ${parsed.region})`);
    const policyGroups = entry.policies
      .filter((p) => p.scope === "cluster")
      .map((p) => ACCESS_POLICY_GROUPS[p.policyArn.split("/").pop()!]?.group)
      .filter((g): g is string => g !== undefined);
    const username = entry.username
      .replaceAll("{{SessionName}}", who.session ?? "")
      .replaceAll("{{AccountID}}", who.account);
    return {
      authenticated: true,
      user: {
        username,
        uid: `aws-iam-authenticator:${who.account}:${who.principalArn}`,
        groups: [...new Set([...entry.kubernetesGroups, ...policyGroups])],
        extra: { arn: [found.arn], principalArn: [who.principalArn], cluster: [found.cluster] },
      },
    };
  } catch (err) {
    return refused(`token review failed: ${(err as Error).message}`);
  }
}
