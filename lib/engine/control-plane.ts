/**
 * The local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler built from their Go modules by `npm run setup:engine`, plus kwok, which simulates
 * the nodes and makes their pods Ready (no kubelet and no container runtime run here: pods are
 * simulated, their containers never start). Used where the `<env>-workloads` stacks of EKS
 * environments are applied in the local loop: the end-to-end tests and `npm run demo`.
 *
 * It starts every process on free loopback ports, with a PKI of its own (a CA, the API server's
 * serving certificate, one client certificate per component, the service-account signing key, made
 * with openssl) and writes an admin kubeconfig. Admission runs as on EKS (the plugin list below,
 * Pod Security admission included: enforced per namespace by its labels), authorization is
 * Node,RBAC, anonymous requests are refused; with `tokenWebhook`, IAM principals' EKS tokens are
 * authenticated through their access entries in the emulator (control-plane/token-webhook.ts).
 *
 * The parts: `control-plane/pki.ts` (certificates and kubeconfigs), `control-plane/processes.ts`
 * (starting, waiting for and stopping the components, each logging to a file) and
 * `control-plane/client.ts` (the HTTPS client of the API server).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApiResponse, apiRequest } from "./control-plane/client.ts";
import { writeKwokConfig } from "./control-plane/kwok.ts";
import { type ClientName, makePki, SERVICE_CIDR, writeKubeconfig } from "./control-plane/pki.ts";
import { type Started, startProcess, stopProcess, tail, until } from "./control-plane/processes.ts";
import { startTokenWebhook, type TokenWebhookOptions } from "./control-plane/token-webhook.ts";
import { freePort } from "./local.ts";

export { SERVICE_CIDR } from "./control-plane/pki.ts";

/** The control plane's binaries, as recorded in the engine manifest (lib/engine/setup-engine.sh). */
export interface ControlPlaneBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kwok: string;
  readonly versions: { readonly kubernetes: string; readonly etcd: string; readonly kwok: string };
}

/** A simulated node: what kwok keeps Ready, and what the scheduler places pods on. */
export interface SimulatedNode {
  readonly name: string;
  /** @default {} (kubernetes.io/os=linux and the kwok marker are always added) */
  readonly labels?: Record<string, string>;
  /** Allocatable CPU, e.g. "2". @default "2" (a t3.medium) */
  readonly cpu?: string;
  /** Allocatable memory, e.g. "3500Mi". @default "3500Mi" */
  readonly memory?: string;
  /** Allocatable pods. @default 17 (a t3.medium's ENI limit) */
  readonly pods?: number;
}

export interface ControlPlaneOptions {
  /** Where the PKI, kubeconfigs, etcd data and logs go. @default a new temporary directory */
  readonly dir?: string;
  /** Simulated nodes created once the API server is ready. @default three t3.medium-sized nodes */
  readonly nodes?: readonly SimulatedNode[];
  /** Where start-up progress goes (one line per component). @default nowhere */
  readonly say?: (line: string) => void;
  /** Accept EKS tokens of IAM principals, as EKS does (./control-plane/token-webhook.ts). @default client certificates only */
  readonly tokenWebhook?: TokenWebhookOptions;
}

export interface ControlPlane {
  /** The API server's URL, https://127.0.0.1:<port>. */
  readonly server: string;
  /** An admin (system:masters) kubeconfig for the server: what the workloads stacks and envctl use locally. */
  readonly kubeconfig: string;
  /** The CA (PEM file) of the API server's certificate. */
  readonly ca: string;
  readonly dir: string;
  /** The files simulated containers' logs are served from (`migrate.log`, `schema.log`, `other.log`: ./control-plane/kwok.ts). */
  readonly logs: string;
  readonly nodes: readonly string[];
  /** A request to the API server as the admin: `{status, body}` (body parsed when JSON); a PATCH body is a strategic merge patch. */
  api(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  stop(): Promise<void>;
}

/** The admission plugins EKS enables (docs.aws.amazon.com/eks, "Platform versions"), Pod Security among them. */
export const EKS_ADMISSION_PLUGINS = [
  "NamespaceLifecycle",
  "LimitRanger",
  "ServiceAccount",
  "DefaultStorageClass",
  "ResourceQuota",
  "DefaultTolerationSeconds",
  "NodeRestriction",
  "MutatingAdmissionWebhook",
  "ValidatingAdmissionWebhook",
  "PodSecurity",
  "TaintNodesByCondition",
  "Priority",
  "StorageObjectInUseProtection",
  "PersistentVolumeClaimResize",
  "ExtendedResourceToleration",
  "CertificateApproval",
  "CertificateSigning",
  "CertificateSubjectRestriction",
  "DefaultIngressClass",
  "RuntimeClass",
  "ValidatingAdmissionPolicy",
] as const;

/** Where `npm run kube` keeps the control plane, relative to the project root (its kubeconfig: `admin.kubeconfig` in it). */
export const LOCAL_KUBE_DIR = ".envstack/kube";

/** The annotation kwok manages nodes by (the control plane passes it as kwok's selector). */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";

/** The simulated nodes by default: three t3.medium-sized ones. */
export const DEFAULT_NODES: readonly SimulatedNode[] = [0, 1, 2].map((i) => ({ name: `simulated-node-${i}` }));

/** The Node object kwok takes over (by its annotation), with the node's allocatable resources. */
function nodeObject(n: SimulatedNode): unknown {
  const allocatable = { cpu: n.cpu ?? "2", memory: n.memory ?? "3500Mi", pods: String(n.pods ?? 17) };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: n.name,
      annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": n.name,
        type: "kwok",
        ...n.labels,
      },
    },
    status: {
      allocatable,
      capacity: allocatable,
      nodeInfo: { kubeletVersion: "fake", kubeProxyVersion: "fake", operatingSystem: "linux", architecture: "amd64" },
    },
  };
}

/**
 * Starts etcd, the API server, the controller manager, the scheduler and kwok, in that order, each
 * waited for; creates the simulated nodes and waits until kwok reports them Ready. On any failure
 * everything started so far is stopped and the error names the component and its log's tail.
 */
export async function startControlPlane(
  bin: ControlPlaneBinaries,
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "envstack-kube-"));
  const say = options.say ?? (() => {});
  const pki = makePki(join(dir, "pki"));
  const [etcdClient, etcdPeer, securePort, kubeletPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const server = `https://127.0.0.1:${securePort}`;
  const started: Started[] = [];
  const webhook = options.tokenWebhook ? await startTokenWebhook(dir, pki, options.tokenWebhook) : undefined;
  const stop = async () => {
    for (const p of [...started].reverse()) await stopProcess(p);
    await webhook?.stop();
  };
  const api = (method: string, path: string, body?: unknown) => apiRequest(server, pki, "admin", method, path, body);
  try {
    const etcd = startProcess(dir, "etcd", bin.etcd, [
      "--name=local",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=local=http://127.0.0.1:${etcdPeer}`,
      "--listen-metrics-urls=",
      "--log-level=warn",
      // A throwaway store: no fsync (the data directory is deleted with the control plane).
      "--unsafe-no-fsync",
    ]);
    started.push(etcd);
    await until(etcd, "health", 30, async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok);
    say(`etcd ${bin.versions.etcd} on 127.0.0.1:${etcdClient}`);

    const apiserver = startProcess(dir, "kube-apiserver", bin.kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${securePort}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--authorization-mode=Node,RBAC",
      "--anonymous-auth=false",
      "--allow-privileged=true",
      `--enable-admission-plugins=${EKS_ADMISSION_PLUGINS.join(",")}`,
      // Pods' logs come from kwok's kubelet endpoint on the node's InternalIP (127.0.0.1), with a certificate of the CA.
      `--kubelet-certificate-authority=${pki.ca}`,
      "--kubelet-preferred-address-types=InternalIP",
      "--profiling=false",
      ...(webhook?.flags ?? []),
      "--v=1",
    ]);
    started.push(apiserver);
    await until(apiserver, "readiness (/readyz)", 90, async () => (await api("GET", "/readyz")).status === 200);
    await webhook?.bindAccessPolicies(api);
    say(`kube-apiserver ${bin.versions.kubernetes} on ${server} (admission as on EKS, Pod Security included; RBAC)`);

    const kubeconfig = writeKubeconfig(
      join(dir, "admin.kubeconfig"),
      server,
      pki.ca,
      pki.clients.admin,
      "envstack-admin",
    );
    const cfg = (name: ClientName, user: string) =>
      writeKubeconfig(join(dir, `${name}.kubeconfig`), server, pki.ca, pki.clients[name], user);

    started.push(
      startProcess(dir, "kube-controller-manager", bin.kubeControllerManager, [
        `--kubeconfig=${cfg("controller-manager", "system:kube-controller-manager")}`,
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.ca}`,
        `--cluster-signing-cert-file=${pki.ca}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        "--use-service-account-credentials=true",
        "--leader-elect=false",
        "--secure-port=0",
        // No cloud: node IPAM and the cloud controllers stay off (kwok gives pods their IPs).
        "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service,-route",
        "--v=1",
      ]),
    );
    started.push(
      startProcess(dir, "kube-scheduler", bin.kubeScheduler, [
        `--kubeconfig=${cfg("scheduler", "system:kube-scheduler")}`,
        "--leader-elect=false",
        "--secure-port=0",
        "--v=1",
      ]),
    );
    // The pod stages (a Job's pod ends per its command: test-only rules) and the simulated logs: ./control-plane/kwok.ts.
    const kwokFiles = writeKwokConfig(dir);
    const kwok = startProcess(dir, "kwok", bin.kwok, [
      `--kubeconfig=${cfg("kwok", "kwok")}`,
      `--config=${kwokFiles.config}`,
      `--server-address=127.0.0.1:${kubeletPort}`,
      `--node-port=${kubeletPort}`,
      `--tls-cert-file=${pki.kubelet.cert}`,
      `--tls-private-key-file=${pki.kubelet.key}`,
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      "--cidr=10.244.0.1/16",
      "--node-ip=127.0.0.1",
      // Heartbeats through node leases, renewed every 10 s (as kwokctl's clusters do). Without them
      // kwok refreshes node status only about once a minute, past the controller manager's 50 s
      // grace period: every node turned NotReady for a moment and its pods with it.
      "--node-lease-duration-seconds=40",
    ]);
    started.push(kwok);

    const nodes = options.nodes ?? DEFAULT_NODES;
    for (const n of nodes) {
      const r = await api("POST", "/api/v1/nodes", nodeObject(n));
      if (r.status !== 201 && r.status !== 409)
        throw new Error(`creating simulated node ${n.name}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    }
    await until(kwok, `Ready nodes (${nodes.map((n) => n.name).join(", ")})`, 60, async () => {
      const r = await api("GET", "/api/v1/nodes");
      const ready = (r.body.items ?? []).filter(
        // biome-ignore lint/suspicious/noExplicitAny: Kubernetes API JSON, untyped on the wire
        (n: any) =>
          // biome-ignore lint/suspicious/noExplicitAny: Kubernetes API JSON, untyped on the wire
          n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
      );
      return ready.length >= nodes.length;
    });
    // The controller manager and the scheduler have no serving port: running is what can be checked.
    for (const p of started)
      if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}): ${tail(p)}`);
    say(
      `kube-controller-manager, kube-scheduler; kwok ${bin.versions.kwok} simulating ${nodes.length} Ready nodes ` +
        `(no kubelet: pods are simulated); kubeconfig ${kubeconfig}`,
    );
    return { server, kubeconfig, ca: pki.ca, dir, logs: kwokFiles.logs, nodes: nodes.map((n) => n.name), api, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
