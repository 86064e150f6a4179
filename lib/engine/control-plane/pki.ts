/**
 * The local control plane's PKI, made with openssl: a CA, the API server's serving certificate, one
 * client certificate per component, the service-account signing key; and the kubeconfigs that
 * carry a client's certificate. ECDSA P-256 throughout.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The service CIDR EKS picks for a VPC in 10.0.0.0/8 (172.20.0.0/16 there); the API server's ClusterIP is its first address. */
export const SERVICE_CIDR = "172.20.0.0/16";
const KUBERNETES_SERVICE_IP = "172.20.0.1";
/** The names the API server's certificate is valid for (besides 127.0.0.1 and its ClusterIP). */
const API_SERVER_NAMES = [
  "localhost",
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
];

/** The files of the PKI (paths). */
export interface Pki {
  readonly ca: string;
  readonly caKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  /** Server certificate of the API server. */
  readonly apiserver: { cert: string; key: string };
  /** Server certificate of kwok's kubelet endpoint (127.0.0.1): the API server reaches pods' logs there. */
  readonly kubelet: { cert: string; key: string };
  /** Server certificate of the token webhook (./token-webhook.ts), for 127.0.0.1. */
  readonly webhook: { cert: string; key: string };
  /** Client certificates by component name. */
  readonly clients: Record<ClientName, { cert: string; key: string }>;
}

/** The components with a client certificate. */
export type ClientName = "admin" | "controller-manager" | "scheduler" | "kwok" | "apiserver-webhook";

/** Each component's identity: the user (CN) and groups (O) RBAC sees. */
const CLIENT_SUBJECTS: Record<ClientName, string> = {
  admin: "/O=system:masters/CN=envstack-admin",
  "controller-manager": "/CN=system:kube-controller-manager",
  scheduler: "/CN=system:kube-scheduler",
  // kwok plays every node's kubelet (status, leases) and evicts nothing: as on kwokctl's clusters, an admin.
  kwok: "/O=system:masters/CN=kwok",
  // The API server's client certificate towards the token webhook, which accepts no other caller (no group: no rights).
  "apiserver-webhook": "/CN=kube-apiserver-webhook-client",
};

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** Makes the PKI in `dir`. ECDSA P-256 keys throughout (fast to make; every component and the service-account signer accept them). */
export function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const key = (name: string) => {
    openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`]);
    return join(dir, `${name}.key`);
  };
  const caKey = key("ca");
  openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    "/CN=envstack-local-kubernetes-ca",
    "-days",
    "30",
    "-out",
    "ca.crt",
  ]);
  const sign = (name: string, subject: string, ext: string) => {
    key(name);
    openssl(dir, ["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "30",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ]);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  const apiserver = sign(
    "apiserver",
    "/CN=kube-apiserver",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" +
      `subjectAltName=IP:127.0.0.1,IP:${KUBERNETES_SERVICE_IP},${API_SERVER_NAMES.map((n) => `DNS:${n}`).join(",")}\n`,
  );
  const kubelet = sign(
    "kubelet",
    "/CN=kwok-kubelet",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  const webhook = sign(
    "webhook",
    "/CN=envstack-token-webhook",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  const clients = Object.fromEntries(
    Object.entries(CLIENT_SUBJECTS).map(([name, subject]) => [
      name,
      sign(
        name,
        subject,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
      ),
    ]),
  ) as Pki["clients"];
  const serviceAccountKey = key("service-account");
  openssl(dir, ["ec", "-in", "service-account.key", "-pubout", "-out", "service-account.pub"]);
  return {
    ca: join(dir, "ca.crt"),
    caKey,
    serviceAccountKey,
    serviceAccountPub: join(dir, "service-account.pub"),
    apiserver,
    kubelet,
    webhook,
    clients,
  };
}

/** A kubeconfig (JSON is YAML) with the CA and the client's certificate embedded, so it can be copied alone. */
export function writeKubeconfig(
  file: string,
  server: string,
  ca: string,
  client: { cert: string; key: string },
  user: string,
): string {
  const b64 = (f: string) => readFileSync(f).toString("base64");
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "envstack-local", cluster: { server, "certificate-authority-data": b64(ca) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(client.cert), "client-key-data": b64(client.key) } }],
    contexts: [{ name: "envstack-local", context: { cluster: "envstack-local", user } }],
    "current-context": "envstack-local",
  };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}
