/**
 * The emulator profile: Aspects BaseStack adds for ENVSTACK_TARGET=local (lib/stacks/local-gaps.ts).
 * Each gap is asserted on the local synthesis against the real one; constructs never ask.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_GAPS } from "../lib/stacks/local-gaps.ts";
import { readTarget } from "../lib/stacks/target.ts";
import { onlyResource, REPO, resources, type Synthesized, synthRepo } from "./support/project.ts";

let real: Synthesized;
let local: Synthesized;
beforeAll(async () => {
  real = await synthRepo();
  local = await synthRepo({
    target: (root) => readTarget({ ENVSTACK_TARGET: "local", ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:4566" }, root),
  });
});

const statements = (stack: any) =>
  Object.values((stack.data?.aws_iam_policy_document ?? {}) as Record<string, any>).flatMap((d) => d.statement);

describe("emulator profile (Aspects)", () => {
  it("no construct imports the emulator profile: only BaseStack applies it", () => {
    const importers = (dir: string): string[] =>
      readdirSync(join(REPO, dir), { recursive: true, encoding: "utf8" })
        .filter(
          (f) =>
            f.endsWith(".ts") &&
            /from ["'][^"']*local-(gaps|removals)\.ts["']/.test(readFileSync(join(REPO, dir, f), "utf8")),
        )
        .map((f) => `${dir}/${f}`);
    expect([
      ...importers("lib/constructs"),
      // The profile itself: the gaps and their Aspects, and the removals.
      ...importers("lib/stacks").filter((f) => !/local-(gaps|removals)\.ts$/.test(f)),
    ]).toEqual(["lib/stacks/base-stack.ts"]);
  });

  it("tlsOnlyBucketPolicy: the SecureTransport deny goes, other statements and their policies stay", () => {
    const isTls = (s: any) => s.condition?.some((c: any) => c.variable === "aws:SecureTransport");
    expect(statements(real.stack("bootstrap-123456789012")).filter(isTls)).toHaveLength(2);
    const boot = local.stack("bootstrap-123456789012");
    expect(statements(boot).filter(isTls)).toEqual([]);
    // The log bucket's policy lets S3 write its access logs: kept. The state bucket's keeps the approvals' statements
    // (moto stores them without evaluating them: docs/operations/threat-model.md).
    expect(resources(boot, "aws_s3_bucket_policy")).toHaveLength(2);
    expect(statements(boot).map((s) => s.sid)).toEqual([
      "AllowS3ServerAccessLogs",
      "ApprovalsOnlyByPeople",
      "ApprovalsUnderOwnUserId",
      "ApprovalsWithOwnUserName",
      "ApprovalsNeverErased",
    ]);
    expect(onlyResource(boot, "aws_s3_bucket_logging").depends_on).toEqual([
      expect.stringMatching(/^aws_s3_bucket_policy\./),
    ]);
  });

  it("ElastiCache (replication group, subnet group, user group, users) and the AWS Backup selection stay: the wrapper serves them", () => {
    for (const env of ["dev", "staging"]) {
      const [l, r] = [local.stack(env), real.stack(env)];
      for (const type of [
        "aws_elasticache_replication_group",
        "aws_elasticache_subnet_group",
        "aws_elasticache_user_group",
        "aws_elasticache_user",
        "aws_backup_selection",
      ]) {
        expect(resources(r, type).length, `${env} ${type}`).toBeGreaterThan(0);
        expect(resources(l, type), `${env} ${type}`).toEqual(resources(r, type));
      }
    }
    const dev = local.stack("dev");
    const policy = JSON.parse(
      resources(dev, "aws_iam_role_policy").find((p) => p.policy.includes("elasticache:Connect")).policy,
    );
    expect(policy.Statement[0].Resource).toEqual([
      expect.stringMatching(/^\$\{aws_elasticache_replication_group\.[^}]+\.arn\}$/),
      expect.stringMatching(/^\$\{aws_elasticache_user\.[^}]+\.arn\}$/),
    ]);
    expect(dev.output.cache_endpoint.value).toMatch(
      /^\$\{aws_elasticache_replication_group\.[^}]+\.primary_endpoint_address\}$/,
    );
    for (const closed of ["elasticacheReplicationGroup", "elasticacheRbac", "backupSelection"])
      expect(EMULATOR_GAPS).not.toHaveProperty(closed);
  });

  it("Auto Scaling groups keep their instance refresh and capacity wait, launch templates their versions, as on AWS", () => {
    const [dev, realDev] = [local.stack("dev"), real.stack("dev")];
    expect(resources(dev, "aws_autoscaling_group")).toEqual(resources(realDev, "aws_autoscaling_group"));
    for (const asg of resources(dev, "aws_autoscaling_group")) {
      expect(asg.instance_refresh.strategy).toBe("Rolling");
      expect(asg.wait_for_capacity_timeout).toBeUndefined();
      expect(asg.launch_template.version).toMatch(/^\$\{aws_launch_template\.[^}]+\.latest_version\}$/);
    }
    // one template per slot, updated in place to a new version (the wrapper stores its user data as AWS does)
    expect(resources(dev, "aws_launch_template")).toEqual(resources(realDev, "aws_launch_template"));
    expect(resources(dev, "aws_launch_template").map((t) => t.name)).toEqual(["dev-app-blue", "dev-app-green"]);
    for (const closed of ["autoscalingRefresh", "launchTemplateVersions"])
      expect(EMULATOR_GAPS).not.toHaveProperty(closed);
  });

  it("moto's read-backs need no ignore_changes: the wrapper reads back what it was given", () => {
    for (const [env, type] of [
      ["dev", "aws_db_parameter_group"],
      ["dev", "aws_backup_vault"],
      ["dev", "aws_backup_plan"],
      ["dev", "aws_launch_template"],
      ["dev", "aws_vpc_security_group_ingress_rule"],
      ["production", "aws_launch_template"],
    ] as const) {
      const found = resources(local.stack(env), type);
      expect(found.length, `${env} ${type}`).toBeGreaterThan(0);
      for (const r of found) expect(r.lifecycle?.ignore_changes, `${env} ${type}`).toBeUndefined();
    }
    expect(EMULATOR_GAPS).not.toHaveProperty("perpetualDiffs");
  });

  it("EKS add-ons, Pod Identity associations and the node groups' target-group attachments stay: the wrapper serves them", () => {
    for (const env of ["staging", "production"]) {
      const [l, r] = [local.stack(env), real.stack(env)];
      for (const type of [
        "aws_eks_addon",
        "aws_eks_pod_identity_association",
        "aws_autoscaling_attachment",
        "aws_eks_node_group",
      ]) {
        expect(resources(r, type).length, `${env} ${type}`).toBeGreaterThan(0);
        expect(resources(l, type), `${env} ${type}`).toEqual(resources(r, type));
      }
      // the attachments name the node groups' own Auto Scaling groups, as on AWS
      for (const attachment of resources(l, "aws_autoscaling_attachment"))
        expect(attachment.autoscaling_group_name).toMatch(/^\$\{aws_eks_node_group\.[^}]+\.resources\[0\]/);
      for (const group of resources(l, "aws_eks_node_group"))
        expect(group.depends_on.some((d: string) => d.startsWith("aws_eks_addon."))).toBe(true);
    }
    for (const closed of ["eksAddons", "eksNodeGroupAsg"]) expect(EMULATOR_GAPS).not.toHaveProperty(closed);
  });

  it("eksControlPlane: the workloads stack's Kubernetes provider reads the local control plane's kubeconfig, no EKS token", () => {
    for (const env of ["staging", "production"]) {
      const [l, r] = [local.stack(`${env}-workloads`), real.stack(`${env}-workloads`)];
      expect(r.provider.kubernetes[0]).toMatchObject({
        host: expect.stringContaining("endpoint"),
        token: expect.stringContaining("aws_eks_cluster_auth"),
      });
      expect(l.provider.kubernetes).toEqual([
        { config_path: join(REPO, ".envstack/kube/admin.kubeconfig"), config_context: "envstack-local" },
      ]);
      expect(l.data?.aws_eks_cluster_auth).toBeUndefined();
      // the same Kubernetes objects either way
      expect(Object.keys(l.resource).sort()).toEqual(Object.keys(r.resource).sort());
    }
    const chosen = readTarget(
      {
        ENVSTACK_TARGET: "local",
        ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:4566",
        ENVSTACK_KUBECONFIG: "/tmp/k/admin.kubeconfig",
      },
      REPO,
    );
    expect(chosen.kubeconfig).toBe("/tmp/k/admin.kubeconfig");
  });

  it("every gap has its reason, and only gaps that would need a whole service (or TLS) are left", () => {
    expect(Object.keys(EMULATOR_GAPS).sort()).toEqual(["eksControlPlane", "rdsSql", "tlsOnlyBucketPolicy"]);
    for (const [gap, why] of Object.entries(EMULATOR_GAPS)) expect(why.length, gap).toBeGreaterThan(40);
  });
});
