/**
 * The local control plane's token webhook: its decisions (lib/engine/control-plane/token-review.ts)
 * on tokens made by envctl's signer (lib/aws/eks-token.ts) and on forged ones, with STS and EKS
 * faked, and its HTTPS server (mutual TLS, TokenReview in and out). The whole path against the real
 * API server and the emulator: test/e2e-eks-token.test.ts.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eksToken } from "../lib/aws/eks-token.ts";
import { makePki } from "../lib/engine/control-plane/pki.ts";
import {
  type AccessEntry,
  parseToken,
  principalOf,
  type ReviewDeps,
  reviewToken,
} from "../lib/engine/control-plane/token-review.ts";
import { startTokenWebhook } from "../lib/engine/control-plane/token-webhook.ts";

const CREDS = { accessKeyId: "ASIAEXAMPLEEXAMPLE01", secretAccessKey: "secret", sessionToken: "session" };
const AT = new Date("2026-03-14T09:26:53Z");
const SOON = new Date(AT.getTime() + 10_000);
const ROLE = "arn:aws:iam::222222222222:role/envstack-deploy";
const SESSION = "arn:aws:sts::222222222222:assumed-role/envstack-deploy/envctl-ana";

const ENTRY: AccessEntry = {
  username: "arn:aws:sts::{{AccountID}}:assumed-role/envstack-deploy/{{SessionName}}",
  kubernetesGroups: ["staging:deployers"],
  policies: [
    { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", scope: "cluster" },
    { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", scope: "namespace" },
  ],
};

/** STS that verifies a token only with the cluster it was signed for (as STS does: the header is signed), and one access entry. */
function fakes(signedFor: string, entries: Record<string, AccessEntry> = { [ROLE]: ENTRY }) {
  const asked: { sts: string[]; eks: unknown[] } = { sts: [], eks: [] };
  const deps: ReviewDeps = {
    clusters: ["dev-eks", "staging-eks"],
    callerArn: async (_url, cluster) => {
      asked.sts.push(cluster);
      return cluster === signedFor ? SESSION : undefined;
    },
    accessEntry: async (q) => {
      asked.eks.push(q);
      return entries[q.principalArn];
    },
  };
  return { deps, asked };
}

const token = (cluster = "staging-eks", now = AT) =>
  eksToken({ cluster, region: "eu-west-1", credentials: CREDS, now });
/** A token of the given URL, as a forger would make it. */
const tokenOf = (url: string) => `k8s-aws-v1.${Buffer.from(url).toString("base64url")}`;
/** The URL of a genuine token with one change. */
async function changed(edit: (u: URL) => void): Promise<string> {
  const u = new URL(Buffer.from((await token()).slice(11), "base64url").toString("utf8"));
  edit(u);
  return tokenOf(u.toString());
}

describe("the webhook's decision on a token", () => {
  it("authenticates a valid token as the role's access entry: username filled in, its groups and its cluster-scoped policies'", async () => {
    const { deps, asked } = fakes("staging-eks");
    const status = await reviewToken(await token(), deps, SOON);
    expect(status).toEqual({
      authenticated: true,
      user: {
        username: "arn:aws:sts::222222222222:assumed-role/envstack-deploy/envctl-ana",
        uid: `aws-iam-authenticator:222222222222:${ROLE}`,
        groups: ["staging:deployers", "envstack:eks-access-policy:cluster-admin"],
        extra: { arn: [SESSION], principalArn: [ROLE], cluster: ["staging-eks"] },
      },
    });
    expect(asked.eks).toEqual([
      {
        principalArn: ROLE,
        account: "222222222222",
        session: "envctl-ana",
        region: "eu-west-1",
        cluster: "staging-eks",
      },
    ]);
  });

  it("refuses an expired token (past its 60 s) without asking STS", async () => {
    const { deps, asked } = fakes("staging-eks");
    const status = await reviewToken(await token(), deps, new Date(AT.getTime() + 61_000));
    expect(status).toEqual({
      authenticated: false,
      error: expect.stringContaining("expired (signed 20260314T092653Z, valid 60 s)"),
    });
    expect(asked.sts).toEqual([]);
    expect((await reviewToken(await token(), deps, new Date(AT.getTime() - 6 * 60_000))).error).toContain(
      "signed in the future",
    );
  });

  it("refuses a token made for another cluster: STS verifies it for none of the clusters served", async () => {
    const { deps, asked } = fakes("production-eks");
    const status = await reviewToken(await token("production-eks"), deps, SOON);
    expect(status).toEqual({
      authenticated: false,
      error: expect.stringContaining("STS refused the token for every cluster"),
    });
    expect(asked.sts).toEqual(["dev-eks", "staging-eks"]);
    expect(asked.eks).toEqual([]);
  });

  it("refuses a principal without an access entry (fail closed)", async () => {
    const { deps } = fakes("staging-eks", {});
    expect((await reviewToken(await token(), deps, SOON)).error).toContain(
      `${ROLE} has no access entry on staging-eks`,
    );
  });

  it("refuses when STS or EKS cannot be asked, with the reason", async () => {
    const { deps } = fakes("staging-eks");
    const down = { ...deps, accessEntry: async () => Promise.reject(new Error("connect ECONNREFUSED")) };
    expect(await reviewToken(await token(), down, SOON)).toEqual({
      authenticated: false,
      error: "token review failed: connect ECONNREFUSED",
    });
  });

  it("refuses a URL that is not a GetCallerIdentity on STS's endpoint of the scope's region", async () => {
    const { deps, asked } = fakes("staging-eks");
    const cases: [string, string][] = [
      [await changed((u) => (u.host = "sts.evil.example")), "not STS's endpoint of eu-west-1"],
      [await changed((u) => (u.host = "sts.us-east-1.amazonaws.com")), "not STS's endpoint of eu-west-1"],
      [await changed((u) => (u.protocol = "http:")), "not STS's endpoint"],
      [await changed((u) => (u.pathname = "/other")), "not STS's endpoint"],
      [await changed((u) => u.searchParams.set("Action", "AssumeRole")), "not a GetCallerIdentity request"],
      [await changed((u) => u.searchParams.set("RoleArn", ROLE)), "unexpected query parameters RoleArn"],
      [await changed((u) => u.searchParams.append("Action", "GetCallerIdentity")), "appears more than once"],
      [
        await changed((u) => u.searchParams.set("X-Amz-SignedHeaders", "host")),
        "signed headers host, not host;x-k8s-aws-id",
      ],
      [await changed((u) => u.searchParams.set("X-Amz-Expires", "3600")), "X-Amz-Expires must be 1-900 seconds"],
      [await changed((u) => u.searchParams.delete("X-Amz-Signature")), "no signature"],
      [
        await changed((u) => u.searchParams.set("X-Amz-Credential", "AKID/20260314/eu-west-1/iam/aws4_request")),
        "not an sts credential scope",
      ],
    ];
    for (const [t, reason] of cases) {
      const status = await reviewToken(t, deps, SOON);
      expect({ authenticated: status.authenticated, error: status.error }).toEqual({
        authenticated: false,
        error: expect.stringContaining(reason),
      });
    }
    expect(asked.sts).toEqual([]);
  });

  it("refuses malformed tokens", async () => {
    const { deps } = fakes("staging-eks");
    for (const [t, reason] of [
      ["", "no k8s-aws-v1. prefix"],
      ["eyJhbGciOiJSUzI1NiJ9.e30.sig", "no k8s-aws-v1. prefix"],
      ["k8s-aws-v1.not base64!", "not base64url"],
      [tokenOf("not a url"), "does not hold a URL"],
      [`k8s-aws-v1.${"A".repeat(5000)}`, "longer than 4096"],
    ]) {
      expect((await reviewToken(t!, deps, SOON)).error).toContain(reason);
    }
  });

  it("parses the region from the credential scope", async () => {
    const parsed = parseToken(await token(), SOON);
    expect("region" in parsed && parsed.region).toBe("eu-west-1");
  });

  it("maps an assumed-role session to its role, and a user to itself", () => {
    expect(principalOf(SESSION)).toEqual({ principalArn: ROLE, account: "222222222222", session: "envctl-ana" });
    expect(principalOf("arn:aws:iam::222222222222:user/ana")).toEqual({
      principalArn: "arn:aws:iam::222222222222:user/ana",
      account: "222222222222",
    });
    expect(principalOf("arn:aws:sts::222222222222:federated-user/ana")).toBeUndefined();
  });
});

describe("the webhook's server", () => {
  const post = (port: number, body: string, cert?: { cert: string; key: string }, ca?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/",
          ca: ca ? readFileSync(ca) : undefined,
          ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
        },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  it("answers the API server's TokenReview over mutual TLS, and nobody without the API server's certificate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "envstack-webhook-"));
    const pki = makePki(join(dir, "pki"));
    const { deps } = fakes("staging-eks");
    const webhook = await startTokenWebhook(
      dir,
      pki,
      { emulator: "http://unused", clusters: deps.clusters },
      {
        ...deps,
        clusters: deps.clusters,
      },
    );
    try {
      const flag = webhook.flags.find((f) => f.startsWith("--authentication-token-webhook-config-file="))!;
      const config = JSON.parse(readFileSync(flag.split("=")[1]!, "utf8"));
      const port = Number(new URL(config.clusters[0].cluster.server).port);
      expect(webhook.flags).toContain("--authentication-token-webhook-version=v1");
      const review = (t: string) =>
        JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: t } });
      const valid = await token("staging-eks", new Date());
      const ok = await post(port, review(valid), pki.clients["apiserver-webhook"], pki.ca);
      expect(JSON.parse(ok.body)).toMatchObject({
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        status: {
          authenticated: true,
          user: { groups: ["staging:deployers", "envstack:eks-access-policy:cluster-admin"] },
        },
      });
      const garbage = await post(port, "{not json", pki.clients["apiserver-webhook"], pki.ca);
      expect(JSON.parse(garbage.body).status).toMatchObject({ authenticated: false });
      await expect(post(port, review(valid), undefined, pki.ca)).rejects.toThrow();
    } finally {
      await webhook.stop();
    }
  });
});
