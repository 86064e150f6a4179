/**
 * The EKS path end to end: staging (compute.kind "eks") deployed by `cdktf deploy` with the engine
 * to moto (the cluster, node groups with their Auto Scaling groups, add-ons and Pod Identity
 * associations as lib/engine/moto/ serves them; lib/stacks/local-gaps.ts lists what it cannot) and its
 * `staging-workloads` stack applied to a real Kubernetes API server: the local control plane of
 * lib/engine/control-plane.ts (etcd, kube-apiserver with EKS's admission plugins and Pod Security,
 * the controller manager, the scheduler, and kwok's simulated nodes: pods become Ready without
 * running). Then envctl stages and rolls out on it as a user would, reaching the cluster as on AWS:
 * the endpoint and CA from EKS (moto reports the control plane) and a token it makes with staging's
 * deploy role, accepted by the control plane's webhook (ENVSTACK_KUBE_AUTH=eks); the playground's staging uses
 * short windows (useShortWindows) and the synthetic ALB metrics of the other rollout tests.
 * Never skipped: needs `npm run setup:engine` (CI runs it).
 */

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accounts } from "../environments/_defaults.ts";
import { awsClientConfig } from "../lib/aws/clients.ts";
import type { Slot } from "../lib/config/schema.ts";
import { bootstrapStackName } from "../lib/constructs/naming.ts";
import { readWeights, users, useShortWindows } from "../lib/demo/demo.ts";
import { SyntheticAlbTraffic } from "../lib/demo/synthetic-traffic.ts";
import { type ControlPlane, startControlPlane } from "../lib/engine/control-plane.ts";
import { stackDir } from "../lib/engine/engine.ts";
import { controlPlaneBinaries, readManifest } from "../lib/engine/local.ts";
import {
  CDKTF,
  type HealthStandIn,
  healthStandIn,
  type LocalLoop,
  localLoop,
  rolloutUnderTraffic,
} from "./support/e2e.ts";

let plane: ControlPlane;
let loop: LocalLoop;
let smoke: HealthStandIn;
let traffic: SyntheticAlbTraffic;

const NS = "staging";
const release = () => JSON.parse(readFileSync(join(loop.dir, "environments/releases/staging.json"), "utf8"));
/** staging's own account: the emulator keeps its resources there (moto's accounts by access key). */
const ACCOUNT = accounts.staging.id;
const weights = () => readWeights(loop.emulator.endpoint, "staging", ACCOUNT);
/** dev's release file as if dev had released `version` (staging receives versions by promotion from dev). */
function devServed(version: string): void {
  const file = join(loop.dir, "environments/releases/dev.json");
  const dev = JSON.parse(readFileSync(file, "utf8"));
  dev.slots[dev.live].version = version;
  dev.history.push({ version, served: true });
  writeFileSync(file, `${JSON.stringify(dev, null, 2)}\n`);
}
const api = (method: string, path: string, body?: unknown) => plane.api(method, path, body);
const deployment = async (slot: Slot) =>
  (await api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/app-${slot}`)).body;

/** The API path of a synthesized kubernetes_* resource, from its type and metadata. */
const API_PATHS: Record<string, (name: string, ns: string) => string> = {
  kubernetes_namespace_v1: (n) => `/api/v1/namespaces/${n}`,
  kubernetes_config_map_v1: (n, ns) => `/api/v1/namespaces/${ns}/configmaps/${n}`,
  kubernetes_service_v1: (n, ns) => `/api/v1/namespaces/${ns}/services/${n}`,
  kubernetes_service_account_v1: (n, ns) => `/api/v1/namespaces/${ns}/serviceaccounts/${n}`,
  kubernetes_resource_quota_v1: (n, ns) => `/api/v1/namespaces/${ns}/resourcequotas/${n}`,
  kubernetes_limit_range_v1: (n, ns) => `/api/v1/namespaces/${ns}/limitranges/${n}`,
  kubernetes_deployment_v1: (n, ns) => `/apis/apps/v1/namespaces/${ns}/deployments/${n}`,
  kubernetes_network_policy_v1: (n, ns) => `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${n}`,
  kubernetes_role_v1: (n, ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/${n}`,
  kubernetes_role_binding_v1: (n, ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings/${n}`,
  kubernetes_horizontal_pod_autoscaler_v2: (n, ns) =>
    `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${n}`,
  kubernetes_pod_disruption_budget_v1: (n, ns) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${n}`,
};

/** Every kubernetes_* resource of the synthesized workloads stack, as [type, name, namespace]. */
function synthesizedObjects(): [string, string, string][] {
  const tf = JSON.parse(readFileSync(join(stackDir(loop.dir, "staging-workloads"), "cdk.tf.json"), "utf8"));
  return Object.entries(tf.resource as Record<string, Record<string, any>>)
    .filter(([type]) => type.startsWith("kubernetes_"))
    .flatMap(([type, byId]) =>
      Object.values(byId).map((r): [string, string, string] => {
        const m = r.metadata[0] ?? r.metadata;
        // the namespace is a reference to the namespace resource: it resolves to the environment's
        return [
          type,
          m.name,
          m.namespace === undefined ? "" : String(m.namespace).replace(/^\$\{kubernetes_namespace_v1\.[^}]+\}$/, NS),
        ];
      }),
    );
}

/** Whether `user` (a service account) may `verb` `resource` in the namespace, answered by the API server's authorizer. */
async function may(user: string, groups: string[], verb: string, resource: string, group = ""): Promise<boolean> {
  const r = await api("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: { user, groups, resourceAttributes: { namespace: NS, verb, resource, group } },
  });
  expect(r.status).toBe(201);
  return r.body.status.allowed === true;
}
const APP = [
  "system:serviceaccount:staging:app",
  ["system:serviceaccounts", "system:serviceaccounts:staging", "system:authenticated"],
] as const;

/** Polls until `check` holds (the controllers and kwok work asynchronously). */
async function eventually(what: string, check: () => Promise<boolean>, seconds = 60): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${seconds} s: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  smoke = await healthStandIn();
  // The workloads stack's provider reads the control plane's admin kubeconfig (gap eksControlPlane);
  // envctl reaches the cluster as on AWS: moto reports the control plane as staging-eks's endpoint,
  // and envctl's own token (staging's deploy role, the cluster's creator) passes its webhook.
  const kube = mkdtempSync(join(tmpdir(), "envstack-kube-"));
  loop = await localLoop({ ENVSTACK_KUBECONFIG: join(kube, "admin.kubeconfig"), ENVSTACK_KUBE_AUTH: "eks" });
  plane = await startControlPlane(controlPlaneBinaries(readManifest()), {
    dir: kube,
    tokenWebhook: { emulator: loop.emulator.endpoint, clusters: ["staging-eks"] },
  });
  loop.emulator.serveKubernetesApi({ server: plane.server, caPem: readFileSync(plane.ca, "utf8") });
  useShortWindows(loop.dir, smoke.url, "staging", ["production"]);
  // The test destroys staging at its end: its database's deletion protection off from the start.
  loop.edit("staging.ts", (t) => t.replace("deletionProtection: true", "deletionProtection: false"));
  // staging's state lives in its own account's bucket: that account's bootstrap first
  await loop.deploy(bootstrapStackName(ACCOUNT), "staging", "staging-workloads", "staging-traffic");
  traffic = new SyntheticAlbTraffic(loop.emulator.endpoint, "staging", "eu-west-1", ACCOUNT);
}, 1_800_000);

afterAll(async () => {
  await loop?.stop();
  await plane?.stop();
  smoke?.close();
});

describe.sequential("an EKS environment on a real Kubernetes API server", () => {
  it("cdktf deploy applied every object of the workloads stack: the API server holds each one", async () => {
    const objects = synthesizedObjects();
    expect(objects.map(([t]) => t)).toEqual(
      expect.arrayContaining([
        "kubernetes_namespace_v1",
        "kubernetes_deployment_v1",
        "kubernetes_network_policy_v1",
        "kubernetes_role_v1",
        "kubernetes_resource_quota_v1",
      ]),
    );
    const missing: string[] = [];
    for (const [type, name, ns] of objects) {
      const path = API_PATHS[type];
      if (!path) {
        missing.push(`${type} ${name}: no API path known to this test`);
        continue;
      }
      const r = await api("GET", path(name, ns));
      if (r.status !== 200) missing.push(`${type} ${ns}/${name}: HTTP ${r.status}`);
    }
    expect(missing).toEqual([]);
    // blue runs the release file's version, every pod Ready (kwok's nodes)
    await eventually("blue's pods Ready", async () => (await deployment("blue")).status?.readyReplicas === 2);
    expect((await deployment("blue")).spec.template.metadata.labels["app.kubernetes.io/version"]).toBe("1.4.2");
  });

  it("the namespace enforces the restricted Pod Security Standard: a privileged pod is refused by admission", async () => {
    const ns = (await api("GET", `/api/v1/namespaces/${NS}`)).body;
    expect(ns.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
    const r = await api("POST", `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "privileged" },
      spec: { containers: [{ name: "c", image: "busybox", securityContext: { privileged: true } }] },
    });
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/violates PodSecurity "restricted:latest": privileged/);
    // the app's own pods were admitted under the same policy
    const pods = (await api("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=envstack.io%2Fslot%3Dblue`)).body.items;
    expect(pods.length).toBe(2);
  });

  it("the NetworkPolicies deny by default; RBAC lets the app read and never write (SubjectAccessReview)", async () => {
    const policies = (await api("GET", `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`)).body.items;
    const deny = policies.find(
      (p: any) => Object.keys(p.spec.podSelector ?? {}).length === 0 && !p.spec.ingress && !p.spec.egress,
    );
    expect(deny?.spec.policyTypes.sort()).toEqual(["Egress", "Ingress"]);
    expect(policies.length).toBeGreaterThanOrEqual(3);
    const [user, groups] = APP;
    for (const [verb, resource, group] of [
      ["get", "configmaps", ""],
      ["list", "pods", ""],
      ["watch", "services", ""],
      ["get", "deployments", "apps"],
    ] as const) {
      expect(await may(user, [...groups], verb, resource, group), `app may ${verb} ${resource}`).toBe(true);
    }
    for (const [verb, resource, group] of [
      ["create", "pods", ""],
      ["update", "configmaps", ""],
      ["delete", "deployments", "apps"],
      ["patch", "deployments", "apps"],
      ["create", "rolebindings", "rbac.authorization.k8s.io"],
    ] as const) {
      expect(await may(user, [...groups], verb, resource, group), `app may not ${verb} ${resource}`).toBe(false);
    }
    // nor anywhere else
    const other = await api("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user,
        groups: [...groups],
        resourceAttributes: { namespace: "kube-system", verb: "get", resource: "configmaps" },
      },
    });
    expect(other.body.status.allowed).toBe(false);
  });

  it("a version staged into the idle slot gets a Deployment whose pods become Ready, with its settings ConfigMap mounted", async () => {
    const r = await loop.envctl("promote", "dev", "staging");
    expect(r.status, r.out).toBe(0);
    const green = await deployment("green");
    expect(green.spec.template.metadata.labels["app.kubernetes.io/version"]).toBe("1.5.0");
    const checksum = release().slots.green.settings.checksum;
    const mounted = green.spec.template.spec.containers[0].envFrom.map((e: any) => e.configMapRef?.name);
    expect(mounted).toContain(`app-config-green-${checksum}`);
    const settings = await api("GET", `/api/v1/namespaces/${NS}/configmaps/app-config-green-${checksum}`);
    expect(settings.status).toBe(200);
    expect(settings.body.data).toMatchObject({ PAYMENT_PROVIDER: "sandbox" });
    await eventually("green's pods Ready", async () => (await deployment("green")).status?.readyReplicas === 2);
    // status --live reads both Deployments from the API server
    const live = await loop.envctl("status", "staging", "--live");
    expect(live.out).toMatch(/green\s+1\.5\.0\s+0 %\s+0 %.*2\/2 Ready 1\.5\.0/);
    expect(live.out).toMatch(/blue\*\s+1\.4\.2\s+100 %\s+100 %.*2\/2 Ready 1\.4\.2/);
  });

  it("a rollout refuses a slot that is not Ready, naming why, and moves no traffic", async () => {
    // green's new pods can land on no node: its rollout stalls, the old pods keep running
    const stalled = await api("PATCH", `/apis/apps/v1/namespaces/${NS}/deployments/app-green`, {
      spec: { template: { spec: { nodeSelector: { "envstack.io/no-such-node": "x" } } } },
    });
    expect(stalled.status).toBe(200);
    const r = await rolloutUnderTraffic(loop, traffic, (w) => users(w), "staging");
    expect(r.status).toBe(3);
    expect(r.out).toMatch(
      /staging: rollout refused: the Deployment of green has \d\/2 pods Ready \(\d of the current template\); no traffic was moved/,
    );
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    // the workloads stack puts the spec back (what the release file says), and green is Ready again
    await loop.deploy("staging-workloads");
    await eventually("green Ready again", async () => {
      const d = await deployment("green");
      return d.status?.readyReplicas === 2 && d.status?.updatedReplicas === 2 && !d.spec.template.spec.nodeSelector;
    });
  }, 900_000);

  it("a canary rollout with smoke checks and analysis completes; a failing one rolls back", async () => {
    const ok = await rolloutUnderTraffic(loop, traffic, (w) => users(w), "staging");
    expect(ok.status, ok.out.slice(-3000)).toBe(0);
    expect(ok.out).toContain("✔ green: its Deployment runs 1.5.0, every pod Ready");
    expect(release()).toMatchObject({
      live: "green",
      rollout: null,
      slots: { green: { version: "1.5.0", weight: 100 } },
    });
    expect(await weights()).toEqual({ blue: 0, green: 100 });

    devServed("1.6.0");
    const promoted = await loop.envctl("promote", "dev", "staging");
    expect(promoted.status, promoted.out).toBe(0);
    await eventually("blue runs 1.6.0, Ready", async () => {
      const d = await deployment("blue");
      return (
        d.spec.template.metadata.labels["app.kubernetes.io/version"] === "1.6.0" &&
        d.status?.readyReplicas === 2 &&
        d.status?.updatedReplicas === 2
      );
    });
    const bad = await rolloutUnderTraffic(
      loop,
      traffic,
      (w) => users(w, { canary: "blue", canaryErrorRate: 0.08 }),
      "staging",
    );
    expect(bad.status).toBe(3);
    expect(bad.out).toContain("rolled back");
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    expect(release()).toMatchObject({ live: "green", rollout: null });
  }, 900_000);

  it("the plan afterwards is empty, and destroy leaves nothing behind", async () => {
    await loop.synth();
    // each change with the attributes that differ, so a failure says what moto read back differently
    const differing = (c: any) =>
      Object.keys(c.change.after ?? {})
        .filter((k) => JSON.stringify(c.change.before?.[k]) !== JSON.stringify(c.change.after?.[k]))
        .map((k) => `${k}: ${JSON.stringify(c.change.before?.[k])} -> ${JSON.stringify(c.change.after?.[k])}`);
    const changesOf = async (stack: string) => {
      const d = stackDir(loop.dir, stack);
      await loop.engine.init(d);
      const { changed, json } = await loop.engine.planJson(d, "again.tfplan");
      const changes = (json.resource_changes ?? []).filter(
        (c: any) => !c.change.actions.includes("no-op") && !c.change.actions.includes("read"),
      );
      return {
        changed,
        addresses: (json.resource_changes ?? []).map((c: any) => String(c.address)),
        changes: changes.map((c: any) => `${c.address}: ${c.change.actions.join("/")} ${differing(c).join("; ")}`),
      };
    };
    for (const stack of ["staging-workloads", "staging-traffic"]) {
      const { changed, changes } = await changesOf(stack);
      expect(changes, stack).toEqual([]);
      expect(changed, stack).toBe(false);
    }
    // staging holds the cluster, its node groups (with their Auto Scaling groups and target-group
    // attachments), add-ons, Pod Identity associations, Redis with its users and the backup selection,
    // which the moto wrapper serves: all read back unchanged. Only the access-log bucket's tags and
    // policy still read back differently in staging's account (docs/engine-and-emulator-gaps.md).
    const served =
      /^(aws_eks_(cluster|node_group|addon|pod_identity_association)|aws_autoscaling_attachment|aws_elasticache_\w+|aws_backup_\w+|aws_launch_template)\./;
    const { changes, addresses } = await changesOf("staging");
    expect(addresses.filter((a: string) => served.test(a)).length).toBeGreaterThan(10);
    expect(changes.filter((c: string) => !/^aws_s3_bucket(_policy)?\.load-balancer_access-logs_/.test(c))).toEqual([]);
    for (const stack of ["staging-traffic", "staging-workloads", "staging"])
      await loop.must(CDKTF, [
        "destroy",
        stack,
        "--auto-approve",
        "--skip-provider-lock",
        "--ignore-missing-stack-dependencies",
      ]);
    await eventually(
      "the namespace is gone",
      async () => (await api("GET", `/api/v1/namespaces/${NS}`)).status === 404,
      120,
    );
    const ec2 = new EC2Client(
      awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint, emulatorAccount: ACCOUNT }),
    );
    expect(
      (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "tag:Environment", Values: ["staging"] }] }))).Vpcs ??
        [],
    ).toEqual([]);
  }, 1_200_000);
});
