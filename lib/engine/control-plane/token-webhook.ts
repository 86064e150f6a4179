/**
 * The local control plane's webhook token authenticator: what lets the local kube-apiserver accept
 * the tokens EKS accepts (an IAM principal's presigned STS GetCallerIdentity, as envctl makes them:
 * lib/aws/eks-token.ts), checked against the emulator's STS and mapped through the emulator's EKS
 * access entries (the decisions: ./token-review.ts).
 *
 * It runs in the process that starts the control plane, on a loopback port, over TLS with a
 * certificate of the control plane's CA, and answers only the API server (mutual TLS with the API
 * server's own client certificate). The API server calls it with a TokenReview
 * (`--authentication-token-webhook-config-file`, API version v1) and caches a decision 10 s.
 * The control plane binds each access policy's group to its ClusterRole (ACCESS_POLICY_GROUPS).
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  DescribeAccessEntryCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-eks";
import type { ApiResponse } from "./client.ts";
import { type Pki, writeKubeconfig } from "./pki.ts";
import { ACCESS_POLICY_GROUPS, type AccessEntry, type ReviewDeps, reviewToken } from "./token-review.ts";

export interface TokenWebhookOptions {
  /** The emulator's endpoint (its STS and EKS). */
  readonly emulator: string;
  /** The EKS cluster names the local API server stands for (a token names one of them). */
  readonly clusters: readonly string[];
}

export interface TokenWebhook {
  /** The API server's flags that make it call the webhook. */
  readonly flags: readonly string[];
  /** Binds each access policy's group to its ClusterRole, once the API server is ready. */
  bindAccessPolicies(api: (method: string, path: string, body?: unknown) => Promise<ApiResponse>): Promise<void>;
  stop(): Promise<void>;
}

/** How long the API server keeps a webhook's decision: short, so an expired or revoked token stops working soon. */
export const WEBHOOK_CACHE_TTL = "10s";

/** STS and EKS of the emulator, as the review needs them. Emulator credentials: the account's id as key (lib/stacks/target.ts). */
export function emulatorReviewDeps(o: TokenWebhookOptions): ReviewDeps {
  return {
    clusters: o.clusters,
    callerArn: async (url, cluster) => {
      const r = await fetch(`${o.emulator.replace(/\/$/, "")}/${url.search}`, {
        headers: { "x-k8s-aws-id": cluster },
        signal: AbortSignal.timeout(5_000),
      });
      const text = await r.text();
      return r.ok ? /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1] : undefined;
    },
    accessEntry: async (q) => {
      const eks = new EKSClient({
        region: q.region,
        endpoint: o.emulator,
        credentials: { accessKeyId: q.account, secretAccessKey: "test" },
        maxAttempts: 1,
      });
      try {
        const key = { clusterName: q.cluster, principalArn: q.principalArn };
        const entry = (await eks.send(new DescribeAccessEntryCommand(key))).accessEntry;
        if (!entry) return undefined;
        const policies = (await eks.send(new ListAssociatedAccessPoliciesCommand(key))).associatedAccessPolicies ?? [];
        return {
          username: entry.username ?? q.principalArn,
          kubernetesGroups: entry.kubernetesGroups ?? [],
          policies: policies.map((p) => ({
            policyArn: p.policyArn ?? "",
            scope: p.accessScope?.type === "cluster" ? "cluster" : "namespace",
          })),
        } satisfies AccessEntry;
      } catch (err) {
        if (err instanceof ResourceNotFoundException) return undefined;
        throw err;
      } finally {
        eks.destroy();
      }
    },
  };
}

/** Starts the webhook on a free loopback port and writes the kubeconfig the API server reaches it with. */
export async function startTokenWebhook(
  dir: string,
  pki: Pki,
  o: TokenWebhookOptions,
  deps: ReviewDeps = emulatorReviewDeps(o),
): Promise<TokenWebhook> {
  const server: Server = createServer(
    {
      cert: readFileSync(pki.webhook.cert),
      key: readFileSync(pki.webhook.key),
      ca: readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (d: Buffer) => {
        size += d.length;
        if (size > 65_536) req.destroy();
        else chunks.push(d);
      });
      req.on("end", async () => {
        let token = "";
        try {
          token = String(JSON.parse(Buffer.concat(chunks).toString("utf8"))?.spec?.token ?? "");
        } catch {
          // a malformed review: refused below with an empty token
        }
        const status = await reviewToken(token, deps, new Date());
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", status }));
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const kubeconfig = writeKubeconfig(
    join(dir, "token-webhook.kubeconfig"),
    url,
    pki.ca,
    pki.clients["apiserver-webhook"],
    "kube-apiserver",
  );
  return {
    flags: [
      `--authentication-token-webhook-config-file=${kubeconfig}`,
      "--authentication-token-webhook-version=v1",
      `--authentication-token-webhook-cache-ttl=${WEBHOOK_CACHE_TTL}`,
    ],
    bindAccessPolicies: async (api) => {
      for (const [policy, { group, clusterRole }] of Object.entries(ACCESS_POLICY_GROUPS)) {
        const name = `envstack-eks-access-policy-${clusterRole}`;
        const r = await api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name, annotations: { "envstack.dev/eks-access-policy": policy } },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
          subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
        });
        if (r.status !== 201 && r.status !== 409)
          throw new Error(`binding ${policy}'s group: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      }
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
