/**
 * The EKS migration runner without a cluster: the Job's spec (restricted Pod Security, deadline,
 * environment by reference only, names), how a Job's end and its container's exit code are read,
 * the schema-read output parsed (fail closed), the Database adapter over a fake runner, and the
 * composition's dispatch by compute kind. test/e2e-migration-job.test.ts runs it on the local
 * control plane.
 */
import { describe, expect, it } from "vitest";
import { awsDatabase, contractOf } from "../lib/cli/aws-database.ts";
import { databasePort } from "../lib/cli/compose.ts";
import type { Environment } from "../lib/config/schema.ts";
import { clusterDatabase, parseSchemaOutput, readerSlot } from "../lib/database/cluster.ts";
import { imageContract } from "../lib/database/image.ts";
import { CLUSTER_DATABASE_URL, jobCommand, jobName, migrationJob } from "../lib/kube/job-spec.ts";
import { containerExitCode, jobFinished } from "../lib/kube/migration-job.ts";
import { parseRelease, type Release } from "../lib/release/model/release.ts";
import type { JobRequest } from "../lib/release/ports/index.ts";
import { envctlInProcess } from "./support/envctl-deps.ts";

const CHECKSUM = "0123456789abcdef";
const spec = (o: Partial<Parameters<typeof migrationJob>[0]> = {}) =>
  migrationJob({
    env: "staging",
    kind: "migrate",
    slot: "green",
    image: `registry.example/webapp@sha256:${"a".repeat(64)}`,
    version: "1.5.0",
    settingsChecksum: CHECKSUM,
    command: ["migrate", "-path", "migrations", "-database", "${DATABASE_URL}", "goto", "${ENVSTACK_SCHEMA_TO}"],
    to: 3,
    databaseSecretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:rds!db",
    deadlineSeconds: 900,
    id: "abcde",
    ...o,
  });

describe("the migration Job's spec", () => {
  it("runs under the restricted Pod Security profile, once, with the deadline, cleaned up after an hour", () => {
    const job = spec();
    expect(job.metadata).toMatchObject({ name: "migrate-staging-green-3-abcde", namespace: "staging" });
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 900, ttlSecondsAfterFinished: 3600 });
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.containers[0]!.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1001,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.containers[0]!.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
  });

  it("gets the slot's image and settings as the slot's pods do, by reference: no secret value is in the spec", () => {
    const job = spec();
    const c = job.spec.template.spec.containers[0]!;
    expect(c.image).toBe(`registry.example/webapp@sha256:${"a".repeat(64)}`);
    expect(c.imagePullPolicy).toBe("IfNotPresent");
    expect(job.spec.template.spec.serviceAccountName).toBe("app");
    expect(c.envFrom).toEqual([
      { configMapRef: { name: "app-config" } },
      { configMapRef: { name: `app-config-green-${CHECKSUM}` } },
    ]);
    expect(c.env).toEqual([
      { name: "APP_SLOT", value: "green" },
      { name: "APP_VERSION", value: "1.5.0" },
      { name: "DATABASE_URL", value: CLUSTER_DATABASE_URL },
      { name: "ENVSTACK_SCHEMA_TO", value: "3" },
    ]);
    expect(CLUSTER_DATABASE_URL).not.toMatch(/:[^/$]*@/); // no credentials in the URL
    expect(JSON.stringify(job)).not.toMatch(/password|secretKeyRef|secretRef/i);
    expect(job.spec.template.metadata.annotations).toEqual({
      "envstack.io/database-secret-arn": "arn:aws:secretsmanager:eu-west-1:1:secret:rds!db",
    });
    // The contract's `${X}` becomes Kubernetes's `$(X)`, expanded from the container's environment.
    expect(c.command).toEqual([
      "migrate",
      "-path",
      "migrations",
      "-database",
      "$(DATABASE_URL)",
      "goto",
      "$(ENVSTACK_SCHEMA_TO)",
    ]);
    expect(jobCommand(["sh", "-c", "echo ${ENVSTACK_SCHEMA_TO} ${HOME}"])).toEqual([
      "sh",
      "-c",
      "echo $(ENVSTACK_SCHEMA_TO) ${HOME}",
    ]);
  });

  it("a tag without a digest is pulled every time; no settings, no settings map; a schema read has no target", () => {
    const job = spec({
      image: "registry.example/webapp:1.5.0",
      kind: "schema",
      to: undefined,
      settingsChecksum: undefined,
    });
    const c = job.spec.template.spec.containers[0]!;
    expect(job.metadata.name).toBe("schema-staging-green-abcde");
    expect(c.name).toBe("schema");
    expect(c.imagePullPolicy).toBe("Always");
    expect(c.envFrom).toEqual([{ configMapRef: { name: "app-config" } }]);
    expect(c.env.map((e) => e.name)).not.toContain("ENVSTACK_SCHEMA_TO");
  });

  it("names stay valid Kubernetes names (≤ 63, lower case) and distinct when an environment's name is long", () => {
    const long = "pr-1234-a-very-long-branch-name-that-goes-on-and-on";
    const a = jobName({ env: long, kind: "migrate", slot: "blue", to: 12, id: "00000" });
    const b = jobName({ env: `${long}-x`, kind: "migrate", slot: "blue", to: 12, id: "00000" });
    for (const n of [a, b]) expect(n).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    expect(a).not.toBe(b);
    expect(jobName({ env: "dev", kind: "migrate", slot: "blue", to: 2 })).toMatch(/^migrate-dev-blue-2-[0-9a-f]{5}$/);
  });
});

describe("reading a Job's outcome", () => {
  it("its end from its conditions, the exit code from the pod's container status", () => {
    expect(jobFinished({ status: {} })).toBeUndefined();
    expect(jobFinished({ status: { conditions: [{ type: "Complete", status: "True" }] } })).toEqual({ ok: true });
    expect(
      jobFinished({ status: { conditions: [{ type: "Failed", status: "True", reason: "DeadlineExceeded" }] } }),
    ).toEqual({ ok: false, reason: "DeadlineExceeded" });
    expect(jobFinished({ status: { conditions: [{ type: "Failed", status: "False" }] } })).toBeUndefined();
    const pod = (name: string, exitCode: number) => ({
      status: { containerStatuses: [{ name, state: { terminated: { exitCode } } }] },
    });
    expect(containerExitCode([pod("migrate", 3)], "migrate")).toBe(3);
    expect(containerExitCode([pod("sidecar", 0)], "migrate")).toBeUndefined();
    expect(containerExitCode([], "migrate")).toBeUndefined();
  });

  it("parses golang-migrate's version output, and fails closed on anything else", () => {
    expect(parseSchemaOutput(["3"], 0)).toEqual({ schema: 3, dirty: false });
    expect(parseSchemaOutput(["4 (dirty)"], 0)).toEqual({ schema: 4, dirty: true });
    expect(parseSchemaOutput(["2024/01/01 10:00:00 7"], 0)).toEqual({ schema: 7, dirty: false });
    expect(parseSchemaOutput(["error: no migration"], 1)).toEqual({ schema: null, dirty: false });
    expect(() => parseSchemaOutput(["3"], 1)).toThrow("exited 1 without a version");
    expect(() => parseSchemaOutput([], 0)).toThrow("without a version");
    expect(() => parseSchemaOutput(["error: dial tcp postgres://app:s3cret@db:5432: refused"], 1)).toThrow(
      /last line: error: dial tcp postgres:\/\/app:\*\*\*@db:5432/,
    );
    expect(() => parseSchemaOutput(["3"], null)).toThrow("did not finish");
  });
});

function release(live: "blue" | "green", blue: string | null, green: string | null): Release {
  return parseRelease({
    environment: "staging",
    live,
    slots: {
      blue: { version: blue, weight: live === "blue" ? 100 : 0 },
      green: { version: green, weight: live === "green" ? 100 : 0 },
    },
    previousLive: null,
    history: [blue, green].filter((v) => v !== null).map((version) => ({ version, served: true })),
    rollout: null,
    pending: null,
    lastChange: null,
  });
}

describe("the Database adapter over Jobs", () => {
  const fake = (answer: { exitCode: number | null; timedOut?: boolean; output: string[] | null }) => {
    const runs: JobRequest[] = [];
    return {
      runs,
      runner: {
        run: async (req: JobRequest) => {
          for (const l of answer.output ?? []) req.log(l);
          runs.push(req);
          return { timedOut: false, where: "kubernetes job j in namespace staging", ...answer };
        },
      },
    };
  };
  const db = (runner: ReturnType<typeof fake>["runner"], r = release("blue", "1.4.2", null), instance?: string) =>
    clusterDatabase({
      env: "staging",
      runner,
      image: (v, d) => (d ? `repo@${d}` : `repo:${v}`),
      contract: (v) => ({ contract: imageContract({}, `image ${v}`), from: `image ${v}` }),
      release: () => r,
      ...(instance ? { instance } : {}),
    });

  it("reads the schema with the live slot's image and its read command", async () => {
    const f = fake({ exitCode: 0, output: ["2"] });
    expect(await db(f.runner).readSchema()).toEqual({ schema: 2, dirty: false });
    expect(f.runs[0]).toMatchObject({ kind: "schema", slot: "blue", image: "repo:1.4.2", deadlineSeconds: 120 });
    expect(f.runs[0]!.command.at(-1)).toBe("version");
    expect(readerSlot(release("green", null, "1.5.0"))).toBe("green");
    const empty = { live: "blue", slots: { blue: { version: null }, green: { version: null } } } as unknown as Release;
    expect(() => readerSlot(empty)).toThrow("no slot holds a version");
  });

  it("fails closed: no log, a timeout, another database than the workloads stack configures", async () => {
    await expect(db(fake({ exitCode: 0, output: null }).runner).readSchema()).rejects.toThrow("no log was served");
    await expect(db(fake({ exitCode: null, timedOut: true, output: [] }).runner).readSchema()).rejects.toThrow(
      "timed out",
    );
    await expect(
      db(fake({ exitCode: 0, output: ["2"] }).runner, undefined, "staging-postgres-copy-1").readSchema(),
    ).rejects.toThrow("names database staging-postgres-copy-1");
  });

  it("a stopped read (a rollback's bound) hands the signal to the Job and fails closed", async () => {
    const f = fake({ exitCode: null, output: [] });
    const stop = new AbortController();
    stop.abort();
    await expect(db(f.runner).readSchema(stop.signal)).rejects.toThrow("the schema read was stopped");
    expect(f.runs[0]!.signal).toBe(stop.signal);
  });

  it("migrates with the slot's image, settings, target and deadline; its output redacted; the exit code honoured", async () => {
    const f = fake({ exitCode: 3, output: ["connecting to postgres://app:hunter2@db/app", "failed"] });
    const log: string[] = [];
    const result = await db(f.runner).migrate({
      slot: "green",
      version: "1.5.0",
      digest: `sha256:${"b".repeat(64)}`,
      to: 3,
      timeoutSeconds: 60,
      log: (l) => log.push(l),
    });
    expect(result).toEqual({ exitCode: 3, timedOut: false, where: "kubernetes job j in namespace staging" });
    expect(f.runs[0]).toMatchObject({
      kind: "migrate",
      slot: "green",
      to: 3,
      deadlineSeconds: 60,
      image: `repo@sha256:${"b".repeat(64)}`,
    });
    expect(log.join("\n")).toContain("postgres://app:***@db/app");
    expect(log.join("\n")).not.toContain("hunter2");
  });
});

describe("the composition: which database an environment gets", () => {
  const env = (kind: "eks" | "ec2") =>
    ({ name: "staging", compute: { kind }, image: { repository: "repo" } }) as unknown as Environment;
  const io = {
    kube: { kind: "kubeconfig" as const, kubeconfig: "/nonexistent" },
    aws: { region: "eu-west-1", endpoint: "http://127.0.0.1:1" },
    images: "/nonexistent",
    release: () => release("blue", "1.4.2", null),
  };

  it("EKS reaches its cluster (here: none, so the read fails closed naming the kubeconfig)", async () => {
    await expect(awsDatabase(env("eks"), undefined, io).readSchema()).rejects.toThrow("no kubeconfig at /nonexistent");
    expect(contractOf("/nonexistent", "1.0.0").from).toContain("the contract's defaults");
  });

  it("the local shortcut wins when set; without the cluster (a read-only view) there is none", () => {
    const local = { ENVSTACK_TARGET: "local", ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:9" };
    const cluster = { kube: () => io.kube, aws: () => io.aws, release: io.release };
    expect(databasePort({}, local, "/tmp", () => env("eks")).database).toBeUndefined();
    expect(databasePort({}, local, "/tmp", () => env("eks"), cluster).database).toBeTypeOf("function");
    expect(
      databasePort({}, { ...local, ENVSTACK_LOCAL_POSTGRES: "postgres://u@h:1" }, "/tmp", () => env("eks"), cluster)
        .database,
    ).toBeTypeOf("function");
  });

  it("envctl migrate of an EC2 environment whose AWS cannot be reached is refused before anything runs (exit 1), dry run too", async () => {
    const p = envctlInProcess({
      env: {
        ENVSTACK_TARGET: "local",
        ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:9",
        ENVSTACK_LOCAL_POSTGRES: undefined,
      },
      deps: () => ({
        identity: async (o) => ({ account: o.account!.id, arn: `arn:aws:sts::${o.account!.id}:assumed-role/d/ci` }),
      }),
    });
    expect(await p.run("migrate", "dev", "--to", "1")).toBe(1);
    // EC2 goes through SSM (lib/aws/ssm-runner.ts) under dev's role: nothing answers here, so it fails closed.
    expect(p.text()).toMatch(
      /dev: cannot read the database's schema version \(cannot assume .*dev's deploy role.*ECONNREFUSED/,
    );
    expect(p.text()).toContain("nothing was migrated");
    expect(await p.run("migrate", "dev", "--to", "1", "--dry-run")).toBe(1);
  }, 60_000);
});
