/**
 * `envctl migrate` of an EKS environment on the emulator acting as AWS: no local shortcut
 * (ENVSTACK_LOCAL_POSTGRES unset), so the migration and every schema read run as Kubernetes Jobs
 * (lib/kube/migration-job.ts) on the local control plane's real kube-apiserver, with kwok ending each
 * Job's pod per its stage rules (lib/engine/control-plane/kwok.ts: a command ending in `exit N`
 * fails with N, `sleep infinity` never ends, any other succeeds) and serving the pods' logs.
 *
 * The namespace is made as the workloads stack makes it (restricted Pod Security, the app's
 * service account, the environment's and the slot's ConfigMaps, the deployer and job-runner Roles of
 * lib/constructs/workloads/rbac.ts bound to `staging:deployers`), and envctl acts with a
 * certificate of that group only, so the Role's rules are what is tested. The test plays the
 * database: `schema.log` (what the schema-read pod prints) says the version the last succeeded
 * migration Job went to. Needs the engine's control plane (`npm run setup:engine`); no moto.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { APP_READ_ONLY_RULES, DEPLOYER_RULES, JOB_RUNNER_RULES } from "../lib/constructs/workloads/rbac.ts";
import { criLogLines } from "../lib/engine/control-plane/kwok.ts";
import { writeKubeconfig } from "../lib/engine/control-plane/pki.ts";
import { type ControlPlane, startControlPlane } from "../lib/engine/control-plane.ts";
import { controlPlaneBinaries, readManifest } from "../lib/engine/local.ts";
import { slotSettings } from "../lib/release/model/slots.ts";
import { githubCi } from "./support/approvals.ts";
import { FakeClock } from "./support/fakes.ts";
import { tempProject } from "./support/project.ts";

const NS = "staging";
const VERSION = "9.0.0";
const SETTINGS = slotSettings({ FEATURE_X: "on" });
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:222222222222:secret:rds!db-1234";

let plane: ControlPlane;
let dir: string;
let deps: Deps;
const lines: string[] = [];
let database: ReturnType<typeof setInterval>;

const api = async (method: string, path: string, body?: unknown): Promise<any> => {
  const r = await plane.api(method, path, body);
  if (r.status >= 300 && !(method === "POST" && r.status === 409))
    throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
};
const jobs = async () =>
  (await api("GET", `/apis/batch/v1/namespaces/${NS}/jobs?labelSelector=app.kubernetes.io/managed-by=envctl`)).items;
const schemaLog = (line: string) => writeFileSync(join(plane.logs, "schema.log"), criLogLines([line]));
const image = (labels: Record<string, string>) => {
  mkdirSync(join(dir, "images", VERSION), { recursive: true });
  writeFileSync(
    join(dir, "images", VERSION, "image.json"),
    JSON.stringify({
      labels: { "envstack.schema.requires": "0", "envstack.schema.supports-up-to": "9", ...labels },
    }),
  );
};
const run = (...args: string[]) => {
  lines.length = 0;
  return main(["node", "envctl", ...args], deps);
};
const text = () => lines.join("\n");
const audit = () =>
  readFileSync(join(dir, "environments/releases/staging.audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

/** A client certificate of the deployer group only (as an EKS access entry maps the deploy role), and its kubeconfig. */
function deployerKubeconfig(): string {
  const pki = join(plane.dir, "pki");
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: pki, stdio: "ignore" });
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ci.key");
  openssl("req", "-new", "-key", "ci.key", "-subj", `/O=${NS}:deployers/CN=envctl-ci`, "-out", "ci.csr");
  openssl(
    "x509",
    "-req",
    "-in",
    "ci.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-out",
    "ci.crt",
  );
  return writeKubeconfig(
    join(plane.dir, "ci.kubeconfig"),
    plane.server,
    join(pki, "ca.crt"),
    { cert: join(pki, "ci.crt"), key: join(pki, "ci.key") },
    "envctl-ci",
  );
}

/** The namespace as the workloads stack makes it (the parts a Job uses). */
async function workloadsNamespace(): Promise<void> {
  const level = "restricted";
  await api("POST", "/api/v1/namespaces", {
    metadata: {
      name: NS,
      labels: {
        environment: NS,
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/audit": level,
        "pod-security.kubernetes.io/warn": level,
      },
    },
  });
  await api("POST", `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: "app" } });
  await api("POST", `/api/v1/namespaces/${NS}/configmaps`, {
    metadata: { name: "app-config" },
    data: {
      DATABASE_HOST: "staging-postgres.emulator",
      DATABASE_PORT: "5432",
      DATABASE_NAME: "app",
      DATABASE_SECRET_ARN: SECRET_ARN,
    },
  });
  await api("POST", `/api/v1/namespaces/${NS}/configmaps`, {
    metadata: { name: `app-config-blue-${SETTINGS.checksum}` },
    data: { FEATURE_X: "on" },
  });
  const group = { kind: "Group", name: `${NS}:deployers`, apiGroup: "rbac.authorization.k8s.io" };
  const sa = { kind: "ServiceAccount", name: "app", namespace: NS };
  for (const [name, rules, subject] of [
    ["app-read-only", APP_READ_ONLY_RULES, sa],
    ["ci-deployer", DEPLOYER_RULES, group],
    ["envctl-jobs", JOB_RUNNER_RULES, group],
  ] as const) {
    await api("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, { metadata: { name }, rules });
    await api("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [subject],
    });
  }
}

beforeAll(async () => {
  plane = await startControlPlane(controlPlaneBinaries(readManifest()));
  await workloadsNamespace();
  dir = tempProject((d) => {
    const file = join(d, "environments/releases/staging.json");
    const r = JSON.parse(readFileSync(file, "utf8"));
    r.slots.blue = { ...r.slots.blue, version: VERSION, schema: { requires: 0, supportsUpTo: 9 }, settings: SETTINGS };
    r.history.push({ version: VERSION, served: true });
    writeFileSync(file, JSON.stringify(r));
  });
  const clock = new FakeClock();
  const ci = githubCi(dir, { author: "dana" });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: "1",
    GITHUB_ACTOR: "ci-bot",
    ...ci.env,
    ENVSTACK_TARGET: "local",
    ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:9",
    ENVSTACK_KUBECONFIG: deployerKubeconfig(),
    ENVSTACK_LOCAL_IMAGES: join(dir, "images"),
  };
  delete env.ENVSTACK_LOCAL_POSTGRES;
  deps = {
    github: ci.github,
    cwd: dir,
    env,
    identity: async (o) => ({
      account: o.account!.id,
      arn: `arn:aws:sts::${o.account!.id}:assumed-role/envstack-deploy/ci`,
    }),
    progress: new PlainProgress((l) => lines.push(l), clock.now),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    clock,
  };
  // The database: no migration ran; a succeeded migration Job moves it to its ENVSTACK_SCHEMA_TO.
  schemaLog("error: no migration");
  const seen = new Set<string>();
  database = setInterval(async () => {
    try {
      for (const j of await jobs()) {
        const done = (j.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === "Complete" && c.status === "True",
        );
        if (j.metadata.labels["envstack.io/job"] !== "migrate" || !done || seen.has(j.metadata.name)) continue;
        seen.add(j.metadata.name);
        const to = j.spec.template.spec.containers[0].env.find(
          (e: { name: string }) => e.name === "ENVSTACK_SCHEMA_TO",
        );
        schemaLog(to.value);
      }
    } catch {
      // the control plane is stopping
    }
  }, 200);
}, 120_000);

afterAll(async () => {
  clearInterval(database);
  await plane?.stop();
});

describe("envctl migrate on EKS: a Kubernetes Job on the emulator acting as AWS", () => {
  it("creates the Job in the namespace under the restricted profile, streams its log, and records the migration", async () => {
    image({});
    writeFileSync(join(plane.logs, "migrate.log"), criLogLines(["1/u init (12.3ms)", "2/u add_contact (4.1ms)"]));
    expect(await run("migrate", "staging", "--to", "2")).toBe(0);
    expect(text()).toContain("blue| 1/u init (12.3ms)");
    expect(text()).toContain("staging: database at schema 2 (expand done, exit 0");
    expect(audit().at(-1)).toMatchObject({ outcome: "migrated", to: { schema: 2 } });
    expect(audit().at(-1).note).toMatch(
      /\(kubernetes job migrate-staging-blue-2-[0-9a-f]{5} in namespace staging\): exit 0/,
    );
    const job = (await jobs()).find(
      (j: { metadata: { labels: Record<string, string> } }) => j.metadata.labels["envstack.io/job"] === "migrate",
    );
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600 });
    const pod = job.spec.template.spec;
    // The staging environment's repository at the slot's version (no digest recorded: pulled every time).
    expect(pod.containers[0].image).toMatch(new RegExp(`^[a-z0-9./-]+:${VERSION.replaceAll(".", "\\.")}$`));
    expect(pod.containers[0].imagePullPolicy).toBe("Always");
    expect(pod.containers[0].command).toEqual([
      "migrate",
      "-path",
      "migrations",
      "-database",
      "$(DATABASE_URL)",
      "goto",
      "$(ENVSTACK_SCHEMA_TO)",
    ]);
    expect(pod.containers[0].envFrom).toEqual([
      { configMapRef: { name: "app-config" } },
      { configMapRef: { name: `app-config-blue-${SETTINGS.checksum}` } },
    ]);
    expect(job.spec.template.metadata.annotations["envstack.io/database-secret-arn"]).toBe(SECRET_ARN);
    // The pod existed (Pod Security admitted it) and ran to completion; a schema read ran before and after, as Jobs too.
    expect(
      (await jobs()).filter(
        (j: { metadata: { labels: Record<string, string> } }) => j.metadata.labels["envstack.io/job"] === "schema",
      ).length,
    ).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("a failing Job fails the migration: its exit code is honoured, exit 10, recorded as migration-failed", async () => {
    image({ "envstack.migrate.command": JSON.stringify(["sh", "-c", "echo applying 3; exit 3"]) });
    expect(await run("migrate", "staging", "--to", "3")).toBe(10);
    expect(text()).toMatch(
      /migration schema 2 → 3 .*kubernetes job migrate-staging-blue-3-[0-9a-f]{5} in namespace staging\): exit 3/,
    );
    expect(audit().at(-1)).toMatchObject({ outcome: "migration-failed" });
  }, 120_000);

  it("a Job past its deadline is a timed-out migration (exit 10, migration-timed-out)", async () => {
    image({ "envstack.migrate.command": JSON.stringify(["sh", "-c", "sleep infinity"]) });
    expect(await run("migrate", "staging", "--to", "3", "--timeout", "2")).toBe(10);
    expect(text()).toMatch(/timed out after 2 s and was stopped/);
    expect(audit().at(-1)).toMatchObject({ outcome: "migration-timed-out" });
  }, 120_000);

  it("the deployer group may run Jobs; the app's service account still may not create anything", async () => {
    const review = async (user: string, groups: string[], verb: string, resource: string, group = "") =>
      (
        await api("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
          spec: { user, groups, resourceAttributes: { namespace: NS, verb, group, resource } },
        })
      ).status.allowed;
    expect(await review("envctl-ci", [`${NS}:deployers`], "create", "jobs", "batch")).toBe(true);
    expect(await review("envctl-ci", [`${NS}:deployers`], "get", "pods")).toBe(true);
    expect(await review("envctl-ci", [`${NS}:deployers`], "get", "secrets")).toBe(false);
    const sa = [`system:serviceaccount:${NS}:app`, ["system:serviceaccounts", `system:serviceaccounts:${NS}`]] as const;
    expect(await review(sa[0], [...sa[1]], "create", "jobs", "batch")).toBe(false);
    expect(await review(sa[0], [...sa[1]], "create", "pods")).toBe(false);
  });
});
