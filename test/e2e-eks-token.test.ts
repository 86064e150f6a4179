/**
 * envctl reaches an EKS environment's cluster without a kubeconfig, as on AWS: the emulator (moto
 * with lib/engine/moto/) holds staging's cluster, created with staging's deploy role (which makes
 * that role the cluster's admin through an access entry, as EKS does), and reports the local control
 * plane as its endpoint and CA; the control plane's API server accepts EKS tokens through its
 * webhook (lib/engine/control-plane/token-webhook.ts), which asks the emulator's STS who signed them
 * (the signature checked there) and the cluster's access entries what they may do. envctl's
 * composition (ENVSTACK_KUBE_AUTH=eks, no KUBECONFIG, no ENVSTACK_KUBECONFIG) reads staging's
 * Deployments with a token it made. Cheaper than the whole EKS deploy (test/e2e-eks.test.ts): the
 * cluster and the Deployment are made directly. Needs the engine (`npm run setup:engine`).
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { CreateClusterCommand, EKSClient, ListAccessEntriesCommand } from "@aws-sdk/client-eks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig, credentialsOf, deployRoleCredentials } from "../lib/aws/clients.ts";
import { eksToken } from "../lib/aws/eks-token.ts";
import { environmentAws } from "../lib/cli/compose.ts";
import { createShell } from "../lib/cli/shell.ts";
import { loadProject } from "../lib/config/load.ts";
import type { Environment } from "../lib/config/schema.ts";
import { type ControlPlane, startControlPlane } from "../lib/engine/control-plane.ts";
import { controlPlaneBinaries, type Emulator, readManifest, startEmulator } from "../lib/engine/local.ts";
import { kubeWorkloads } from "../lib/kube/workloads.ts";
import { readTarget } from "../lib/stacks/target.ts";
import { REPO } from "./support/project.ts";

let emulator: Emulator;
let plane: ControlPlane;
let staging: Environment;
let env: NodeJS.ProcessEnv;

const CLUSTER = "staging-eks";

/** An API request with a bearer token: the HTTP status. */
function asBearer(token: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, plane.server), {
      ca: readFileSync(plane.ca),
      headers: { authorization: `Bearer ${token}` },
      timeout: 10_000,
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  const m = readManifest();
  emulator = await startEmulator(m);
  plane = await startControlPlane(controlPlaneBinaries(m), {
    nodes: [{ name: "simulated-node-0" }],
    tokenWebhook: { emulator: emulator.endpoint, clusters: ["other-eks", CLUSTER] },
  });
  emulator.serveKubernetesApi({ server: plane.server, caPem: readFileSync(plane.ca, "utf8") });
  // Nothing of a kubeconfig reaches envctl: only the local target and the token path.
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ENVSTACK_TARGET: "local",
    ENVSTACK_AWS_ENDPOINT: emulator.endpoint,
    ENVSTACK_KUBE_AUTH: "eks",
  };
  staging = (await loadProject(REPO)).environments.find((e) => e.config.name === "staging")!.config;
  // The cluster, created with staging's deploy role (as the engine creates it): EKS makes its creator the admin.
  const eks = new EKSClient(awsClientConfig(environmentAws(readTarget(env, REPO), staging)));
  await eks.send(
    new CreateClusterCommand({
      name: CLUSTER,
      roleArn: "arn:aws:iam::222222222222:role/staging-eks-cluster",
      resourcesVpcConfig: { subnetIds: [] },
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    }),
  );
  eks.destroy();
  await plane.api("POST", "/api/v1/namespaces", { metadata: { name: "staging" } });
  const created = await plane.api("POST", "/apis/apps/v1/namespaces/staging/deployments", {
    metadata: { name: "app-blue" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web", slot: "blue" } },
      template: {
        metadata: { labels: { app: "web", slot: "blue", "app.kubernetes.io/version": "1.4.2" } },
        spec: { containers: [{ name: "app", image: "registry.example/app:1.4.2" }] },
      },
    },
  });
  expect(created.status).toBe(201);
}, 240_000);

afterAll(async () => {
  await plane?.stop();
  await emulator?.stop();
});

describe("envctl on an EKS environment without a kubeconfig (the emulator acting as AWS)", () => {
  it("the cluster's creator (staging's deploy role) has an access entry, as on EKS", async () => {
    const eks = new EKSClient(awsClientConfig(environmentAws(readTarget(env, REPO), staging)));
    const entries = (await eks.send(new ListAccessEntriesCommand({ clusterName: CLUSTER }))).accessEntries;
    eks.destroy();
    expect(entries).toEqual([staging.account.deployRoleArn]);
  });

  it("reads staging's Deployments through envctl's composition, with a token it made and the endpoint and CA of EKS", async () => {
    expect(env.KUBECONFIG ?? env.ENVSTACK_KUBECONFIG).toBeUndefined();
    const target = createShell({ env, cwd: REPO }).kubeTargets(REPO)(staging);
    expect(target.kind).toBe("eks");
    const state = await (await kubeWorkloads("staging", target)).read();
    expect(state.blue).toMatchObject({ desired: 2, version: "1.4.2" });
    expect(state.green).toBeNull();
  });

  it("fails closed, naming the cluster, when the environment's cluster does not exist (production was never deployed here)", async () => {
    const production = (await loadProject(REPO)).environments.find((e) => e.config.name === "production")!.config;
    const target = createShell({ env, cwd: REPO }).kubeTargets(REPO)(production);
    await expect((await kubeWorkloads("production", target)).read()).rejects.toThrow(
      "no EKS cluster production-eks (production) in eu-west-1 of account 333333333333: deploy the environment first",
    );
  });

  it("the API server refuses a token for another cluster, and one of a principal without an access entry", async () => {
    const o = environmentAws(readTarget(env, REPO), staging);
    const role = credentialsOf(o) as () => Promise<import("../lib/aws/clients.ts").Credentials>;
    const own = await eksToken({ cluster: CLUSTER, region: staging.region, credentials: await role() });
    expect(await asBearer(own, "/apis/apps/v1/namespaces/staging/deployments")).toBe(200);
    const forOther = await eksToken({ cluster: "production-eks", region: staging.region, credentials: await role() });
    expect(await asBearer(forOther, "/apis/apps/v1/namespaces/staging/deployments")).toBe(401);
    const stranger = deployRoleCredentials({
      ...o,
      account: { id: staging.account.id, deployRoleArn: "arn:aws:iam::222222222222:role/stranger" },
    });
    const theirs = await eksToken({ cluster: CLUSTER, region: staging.region, credentials: await stranger() });
    expect(await asBearer(theirs, "/apis/apps/v1/namespaces/staging/deployments")).toBe(401);
  });

  it("a token whose signature does not match (its secret changed) is refused by the emulator's STS check", async () => {
    const o = environmentAws(readTarget(env, REPO), staging);
    const real = await (credentialsOf(o) as () => Promise<import("../lib/aws/clients.ts").Credentials>)();
    const forged = await eksToken({
      cluster: CLUSTER,
      region: staging.region,
      credentials: { ...real, secretAccessKey: `${real.secretAccessKey}x` },
    });
    expect(await asBearer(forged, "/api/v1/namespaces")).toBe(401);
  });
});
