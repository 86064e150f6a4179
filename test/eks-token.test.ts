/**
 * envctl's EKS token (lib/aws/eks-token.ts) against an independent SigV4 computation (node:crypto,
 * written here from AWS's signing specification), the token's renewal, the cluster's endpoint check
 * (lib/aws/eks.ts), the in-memory client configuration (lib/kube/config.ts) and which target
 * envctl's shell picks (lib/cli/shell.ts).
 */
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { endpointOf } from "../lib/aws/eks.ts";
import {
  EKS_TOKEN_REFRESH_MS,
  eksToken,
  eksTokenSource,
  presignedCallerIdentityUrl,
  stsHost,
} from "../lib/aws/eks-token.ts";
import { createShell } from "../lib/cli/shell.ts";
import { loadProject } from "../lib/config/load.ts";
import { kubeConfigFor } from "../lib/kube/config.ts";
import { readTarget } from "../lib/stacks/target.ts";
import { REPO } from "./support/project.ts";

// AWS's documentation example credentials.
const CREDS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const AT = new Date("2026-03-14T09:26:53Z");

const hmac = (key: Buffer | string, text: string) => createHmac("sha256", key).update(text).digest();
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 of a presigned GET on STS, from the specification: canonical request, string to sign, derived key. */
function expectedSignature(url: URL, cluster: string, secret: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== "X-Amz-Signature");
  const query = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a], [b]) => (a! < b! ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = [
    "GET",
    "/",
    query,
    `host:${url.host}\nx-k8s-aws-id:${cluster}\n`,
    "host;x-k8s-aws-id",
    sha256(""),
  ].join("\n");
  const [, day, region] = url.searchParams.get("X-Amz-Credential")!.split("/");
  const scope = `${day}/${region}/sts/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", url.searchParams.get("X-Amz-Date")!, scope, sha256(canonical)].join("\n");
  let key = hmac(`AWS4${secret}`, day!);
  for (const part of [region!, "sts", "aws4_request"]) key = hmac(key, part);
  return createHmac("sha256", key).update(toSign).digest("hex");
}

const decode = (token: string) => new URL(Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString("utf8"));

describe("envctl's EKS token", () => {
  it("is k8s-aws-v1. and the unpadded base64url of a presigned GetCallerIdentity on the region's STS, valid 60 s", async () => {
    const token = await eksToken({ cluster: "staging-eks", region: "eu-west-1", credentials: CREDS, now: AT });
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = decode(token);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe("https://sts.eu-west-1.amazonaws.com/");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: "GetCallerIdentity",
      Version: "2011-06-15",
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "AKIDEXAMPLE/20260314/eu-west-1/sts/aws4_request",
      "X-Amz-Date": "20260314T092653Z",
      "X-Amz-Expires": "60",
      "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
      "X-Amz-Signature": expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it("carries the signature SigV4 gives for the cluster's header, and none that fits another cluster", async () => {
    const url = decode(await eksToken({ cluster: "staging-eks", region: "eu-west-1", credentials: CREDS, now: AT }));
    const signature = url.searchParams.get("X-Amz-Signature");
    expect(signature).toBe(expectedSignature(url, "staging-eks", CREDS.secretAccessKey));
    expect(signature).not.toBe(expectedSignature(url, "production-eks", CREDS.secretAccessKey));
    expect(signature).not.toBe(expectedSignature(url, "staging-eks", `${CREDS.secretAccessKey}x`));
  });

  it("signs a role session's token with its session token, which STS needs to find the session", async () => {
    const session = { ...CREDS, sessionToken: "FwoGZXIvYXdzE+session/token=" };
    const url = new URL(
      await presignedCallerIdentityUrl({ cluster: "c", region: "us-east-2", credentials: session, now: AT }),
    );
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe(session.sessionToken);
    expect(url.searchParams.get("X-Amz-Signature")).toBe(expectedSignature(url, "c", CREDS.secretAccessKey));
  });

  it("names each partition's regional STS endpoint", () => {
    expect(stsHost("us-east-1")).toBe("sts.us-east-1.amazonaws.com");
    expect(stsHost("cn-north-1")).toBe("sts.cn-north-1.amazonaws.com.cn");
  });

  it("is renewed 50 s after it was made (before its 60 s are up), with the credentials asked again; a failure is not kept", async () => {
    let t = AT.getTime();
    let asked = 0;
    let fail = false;
    const source = eksTokenSource(
      "staging-eks",
      "eu-west-1",
      async () => {
        asked++;
        if (fail) throw new Error("STS unreachable");
        return CREDS;
      },
      () => t,
    );
    const first = await source();
    t += EKS_TOKEN_REFRESH_MS - 1;
    expect(await source()).toBe(first);
    expect(asked).toBe(1);
    t += 1;
    const second = await source();
    expect(second).not.toBe(first);
    expect(decode(second).searchParams.get("X-Amz-Date")).toBe("20260314T092743Z");
    t += EKS_TOKEN_REFRESH_MS;
    fail = true;
    await expect(source()).rejects.toThrow("STS unreachable");
    fail = false;
    expect(await source()).not.toBe(second);
    expect(asked).toBe(4);
  });
});

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("the cluster's endpoint and CA from DescribeCluster", () => {
  const o = { region: "eu-west-1", environment: "staging", account: { id: "222222222222" } };

  it("takes an active cluster's https endpoint and decodes its CA", () => {
    expect(
      endpointOf(o, "staging-eks", {
        status: "ACTIVE",
        endpoint: "https://x.eks",
        certificateAuthority: { data: b64(CA) },
      }),
    ).toEqual({ server: "https://x.eks", caPem: CA });
  });

  it("refuses a cluster not active, without an https endpoint or without a CA, naming the cluster, environment and account", () => {
    const at = { endpoint: "https://x.eks", certificateAuthority: { data: b64(CA) } };
    expect(() => endpointOf(o, "staging-eks", { ...at, status: "CREATING" })).toThrow(
      "EKS cluster staging-eks (staging) in eu-west-1 of account 222222222222 is CREATING, not ACTIVE",
    );
    expect(() => endpointOf(o, "staging-eks", { ...at, endpoint: "http://x.eks" })).toThrow("has no https endpoint");
    expect(() => endpointOf(o, "staging-eks", { ...at, certificateAuthority: { data: b64("junk") } })).toThrow(
      "has no certificate authority data",
    );
    expect(() => endpointOf(o, "staging-eks", undefined)).toThrow("DescribeCluster returned no cluster");
  });
});

describe("kubeConfigFor", () => {
  it("builds an EKS cluster's configuration in memory: EKS's endpoint and CA, the token as the user's, no file", async () => {
    const config = await kubeConfigFor({
      kind: "eks",
      access: {
        cluster: "staging-eks",
        endpoint: async () => ({ server: "https://x.eks", caPem: CA }),
        token: async () => "k8s-aws-v1.abc",
      },
    });
    expect(config.getCurrentCluster()).toMatchObject({
      name: "staging-eks",
      server: "https://x.eks",
      caData: b64(CA),
      skipTLSVerify: false,
    });
    expect(config.getCurrentUser()).toMatchObject({ token: "k8s-aws-v1.abc" });
    const headers: Record<string, string> = {};
    await config.applyToHTTPSOptions({ headers });
    expect(headers.Authorization).toBe("Bearer k8s-aws-v1.abc");
  });

  it("refuses a missing kubeconfig file, or a context it lacks, never using another cluster", async () => {
    const dir = mkdtempSync(join(tmpdir(), "envstack-kube-"));
    await expect(kubeConfigFor({ kind: "kubeconfig", kubeconfig: join(dir, "none") })).rejects.toThrow(
      "no kubeconfig at",
    );
    const file = join(dir, "config");
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "a", cluster: { server: "https://a" } }],
        users: [{ name: "u", user: { token: "t" } }],
        contexts: [{ name: "dev", context: { cluster: "a", user: "u" } }],
        "current-context": "dev",
      }),
    );
    await expect(kubeConfigFor({ kind: "kubeconfig", kubeconfig: file, context: "staging" })).rejects.toThrow(
      "has no context 'staging' (ENVSTACK_KUBE_AUTH=kubeconfig)",
    );
  });
});

describe("which way envctl reaches an EKS environment's cluster", () => {
  const targetOf = async (env: NodeJS.ProcessEnv) => {
    const staging = (await loadProject(REPO)).environments.find((e) => e.config.name === "staging")!.config;
    return createShell({ env, cwd: REPO }).kubeTargets(REPO)(staging);
  };

  it("on AWS: EKS with envctl's own token for <env>-eks, whatever KUBECONFIG says", async () => {
    const t = await targetOf({ KUBECONFIG: "/home/me/.kube/config" });
    expect(t.kind === "eks" && t.access.cluster).toBe("staging-eks");
  });

  it("on AWS with ENVSTACK_KUBE_AUTH=kubeconfig: the context named after the environment", async () => {
    expect(await targetOf({ ENVSTACK_KUBE_AUTH: "kubeconfig", KUBECONFIG: "/k/a:/k/b" })).toEqual({
      kind: "kubeconfig",
      kubeconfig: "/k/a",
      context: "staging",
    });
  });

  it("on the local target: the control plane's admin kubeconfig, or EKS's path with ENVSTACK_KUBE_AUTH=eks", async () => {
    const local = { ENVSTACK_TARGET: "local", ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:5000" };
    expect(await targetOf(local)).toEqual({
      kind: "kubeconfig",
      kubeconfig: join(REPO, ".envstack/kube/admin.kubeconfig"),
    });
    expect((await targetOf({ ...local, ENVSTACK_KUBE_AUTH: "eks" })).kind).toBe("eks");
  });

  it("refuses another value of ENVSTACK_KUBE_AUTH, naming the variable", () => {
    expect(() => readTarget({ ENVSTACK_KUBE_AUTH: "token" }, REPO)).toThrow(/ENVSTACK_KUBE_AUTH/);
  });
});
