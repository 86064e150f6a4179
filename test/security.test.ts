/**
 * Security and recovery posture in the synthesized Terraform: WAF, KMS key policies and
 * encrypted logs, database logging and monitoring, AWS Backup per tier with the disaster-recovery
 * copy, tags the provider's default tags miss, images by digest; and the environment file's
 * validation of the new fields.
 */
import { beforeAll, describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import production from "../environments/production.ts";
import { defineEnvironment } from "../lib/config/define.ts";
import { ConfigError } from "../lib/config/errors.ts";
import { checkEnvironments } from "../lib/config/rules.ts";
import { REQUIRED_TAGS } from "../lib/config/tags.ts";
import { MANAGED_RULE_GROUPS, REDACTED_HEADERS } from "../lib/constructs/web-acl.ts";
import { onlyResource, resources, type Synthesized, synthRepo } from "./support/project.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

let s: Synthesized;
beforeAll(async () => {
  s = await synthRepo({
    releases: {
      production: {
        slots: { blue: { version: "1.5.0", digest: DIGEST, weight: 100 }, green: { version: null, weight: 0 } },
      },
      dev: { slots: { blue: { version: "1.5.0", digest: DIGEST, weight: 100 }, green: { version: null, weight: 0 } } },
    } as any,
  });
});

/** The resource a `${type.name.attr}` reference points at. */
function target(stack: any, ref: string): any {
  const m = /\$\{([a-z0-9_]+)\.([^.}]+)\./.exec(ref);
  if (!m) throw new Error(`not a reference: ${ref}`);
  return stack.resource[m[1]!][m[2]!];
}

describe("WAF", () => {
  it.each(["production", "staging"])(
    "%s: a regional web ACL with the rate limit and the AWS managed groups, logged encrypted, on the ALB",
    (env) => {
      const stack = s.stack(env);
      const acl = onlyResource(stack, "aws_wafv2_web_acl");
      expect(acl).toMatchObject({ scope: "REGIONAL", default_action: { allow: {} } });
      expect(acl.rule[0]).toMatchObject({
        name: "rate-limit-per-ip",
        action: { block: {} },
        statement: { rate_based_statement: { limit: 2000, aggregate_key_type: "IP" } },
      });
      expect(acl.rule.slice(1).map((r: any) => r.statement.managed_rule_group_statement.name)).toEqual([
        ...MANAGED_RULE_GROUPS,
      ]);
      expect(acl.rule.slice(1).every((r: any) => r.override_action.none !== undefined)).toBe(true);
      const association = onlyResource(stack, "aws_wafv2_web_acl_association");
      expect(association.resource_arn).toMatch(/^\$\{aws_lb\./);
      const logging = onlyResource(stack, "aws_wafv2_web_acl_logging_configuration");
      const group = target(stack, logging.log_destination_configs[0]);
      expect(group.name).toBe(`aws-waf-logs-${env}`);
      expect(logging.redacted_fields.map((f: any) => f.single_header.name)).toEqual([...REDACTED_HEADERS]);
      expect(group.kms_key_id).toMatch(/^\$\{aws_kms_key\./);
    },
  );

  it("dev has none (and says why at its ALB)", () => {
    expect(resources(s.stack("dev"), "aws_wafv2_web_acl")).toEqual([]);
    expect(onlyResource(s.stack("dev"), "aws_lb")["//"].checkov.skip.map((x: any) => x.id)).toContain("CKV2_AWS_28");
  });
});

describe("KMS keys and encrypted logs", () => {
  it.each(["dev", "staging", "production"])(
    "%s: every key has an explicit policy; every log group is encrypted by a key that lets CloudWatch Logs use it for that group only",
    (env) => {
      const stack = s.stack(env);
      for (const key of resources(stack, "aws_kms_key")) {
        expect(key.enable_key_rotation).toBe(true);
        const policy = JSON.parse(key.policy);
        expect(policy.Statement[0]).toMatchObject({
          Effect: "Allow",
          Principal: {
            AWS: expect.stringMatching(
              /^arn:\$\{data\.aws_partition\..*\}:iam::\$\{data\.aws_caller_identity\..*\}:root$/,
            ),
          },
          Action: "kms:*",
        });
        expect(JSON.stringify(policy)).not.toContain('"AWS":"*"');
      }
      const groups = resources(stack, "aws_cloudwatch_log_group");
      expect(groups.length).toBeGreaterThan(0);
      for (const group of groups) {
        const key = target(stack, group.kms_key_id);
        const logs = JSON.parse(key.policy).Statement.find((x: any) => x.Sid === "CloudWatchLogsForTheseLogGroups");
        expect(logs.Principal.Service).toMatch(/^logs\.\$\{data\.aws_region\..*\.region\}\.amazonaws\.com$/);
        expect(logs.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"]).toEqual([
          expect.stringMatching(new RegExp(`:log-group:${group.name.replace(/\//g, "\\/")}$`)),
        ]);
      }
    },
  );
});

describe("database", () => {
  it.each([
    ["dev", 0],
    ["staging", 60],
    ["production", 15],
  ] as const)(
    "%s: query logging and TLS through its parameter group; enhanced monitoring every %i s",
    (env, interval) => {
      const stack = s.stack(env);
      const db = onlyResource(stack, "aws_db_instance");
      const params = onlyResource(stack, "aws_db_parameter_group");
      expect(db.parameter_group_name).toMatch(/^\$\{aws_db_parameter_group\./);
      expect(params.family).toBe("postgres16");
      expect(Object.fromEntries(params.parameter.map((p: any) => [p.name, p.value]))).toEqual({
        log_min_duration_statement: "1000",
        log_statement: "ddl",
        "rds.force_ssl": "1",
      });
      expect(db.monitoring_interval).toBe(interval);
      if (interval === 0) {
        expect(db.monitoring_role_arn).toBeUndefined();
      } else {
        const role = target(stack, db.monitoring_role_arn);
        expect(JSON.parse(role.assume_role_policy).Statement[0].Principal.Service).toBe("monitoring.rds.amazonaws.com");
        expect(resources(stack, "aws_iam_role_policy_attachment").map((a) => a.policy_arn)).toContain(
          "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
        );
      }
    },
  );
});

describe("backups", () => {
  it("production: the seeds' schedule and retention, every point copied to the DR region's vault, both vaults locked", () => {
    const stack = s.stack("production");
    const plan = onlyResource(stack, "aws_backup_plan");
    expect(plan.rule.map((r: any) => [r.rule_name, r.schedule, r.lifecycle.delete_after])).toEqual([
      ["every-6h", "cron(0 0/6 * * ? *)", 7],
      ["weekly", "cron(0 3 ? * SUN *)", 28],
      ["monthly", "cron(0 4 1 * ? *)", 183],
      ["yearly", "cron(0 5 1 1 ? *)", 730],
    ]);
    const vaults = Object.fromEntries(
      Object.entries(stack.resource.aws_backup_vault as Record<string, any>).map(([id, v]) => [v.name, { id, ...v }]),
    );
    expect(Object.keys(vaults).sort()).toEqual(["production-backup", "production-backup-dr"]);
    for (const r of plan.rule) {
      expect(r.target_vault_name).toContain(vaults["production-backup"].id);
      expect(r.copy_action).toEqual([
        {
          destination_vault_arn: expect.stringContaining(vaults["production-backup-dr"].id),
          lifecycle: { delete_after: r.lifecycle.delete_after },
        },
      ]);
      expect(r.completion_window).toBeLessThan(360); // done before the next 6-hourly job
    }
    // The DR vault (and its key) come from the second provider, in the region the file names.
    const dr = stack.provider.aws.find((p: any) => p.alias === "dr");
    expect(dr.region).toBe("eu-central-1");
    expect(dr.default_tags).toEqual(stack.provider.aws.find((p: any) => p.alias === undefined).default_tags);
    expect(vaults["production-backup-dr"].provider).toBe("aws.dr");
    expect(target(stack, vaults["production-backup-dr"].kms_key_arn).provider).toBe("aws.dr");
    for (const v of Object.values(vaults) as any[]) expect(v.force_destroy).toBe(false);
    expect(
      resources(stack, "aws_backup_vault_lock_configuration").map((l) => [
        l.min_retention_days,
        l.max_retention_days,
        l.changeable_for_days,
      ]),
    ).toEqual([
      [7, 730, 3],
      [7, 730, 3],
    ]);
    const selection = onlyResource(stack, "aws_backup_selection");
    expect(selection.resources).toEqual([expect.stringMatching(/^\$\{aws_db_instance\..*\.arn\}$/)]);
    const role = target(stack, selection.iam_role_arn);
    expect(JSON.parse(role.assume_role_policy).Statement[0].Principal.Service).toBe("backup.amazonaws.com");
  });

  it("lower tiers: lighter plans in their own region, no copy, no lock, vaults removable with the environment", () => {
    for (const [env, rules] of [
      ["staging", ["daily", "weekly"]],
      ["dev", ["daily"]],
    ] as const) {
      const stack = s.stack(env);
      const plan = onlyResource(stack, "aws_backup_plan");
      expect(plan.rule.map((r: any) => r.rule_name)).toEqual(rules);
      expect(plan.rule.every((r: any) => r.copy_action === undefined)).toBe(true);
      expect(onlyResource(stack, "aws_backup_vault")).toMatchObject({ name: `${env}-backup`, force_destroy: true });
      expect(resources(stack, "aws_backup_vault_lock_configuration")).toEqual([]);
      expect(stack.provider.aws).toHaveLength(1);
    }
  });
});

describe("tags the provider's default tags miss", () => {
  it("dev's Auto Scaling groups carry every required tag, propagated to their instances", () => {
    for (const asg of resources(s.stack("dev"), "aws_autoscaling_group")) {
      const tags = Object.fromEntries(asg.tag.map((t: any) => [t.key, t]));
      for (const k of REQUIRED_TAGS)
        expect(tags[k]).toMatchObject({ value: expect.any(String), propagate_at_launch: true });
      expect(tags.Environment.value).toBe("dev");
    }
  });

  it("EKS nodes and their volumes carry them through the launch template", () => {
    const lt = onlyResource(s.stack("production"), "aws_launch_template");
    expect(lt.tag_specifications.map((t: any) => t.resource_type)).toEqual(["instance", "volume"]);
    for (const spec of lt.tag_specifications)
      expect(spec.tags).toMatchObject({ Environment: "production", Project: "webapp", CostCenter: "cc-1042" });
  });
});

describe("images by digest", () => {
  it("EKS: a slot with a digest runs <repository>@<digest>; one without runs the tag and pulls it every time", () => {
    const deployments = Object.fromEntries(
      resources(s.stack("production-workloads"), "kubernetes_deployment_v1").map((d) => [
        d.metadata.name,
        d.spec.template.spec.container[0],
      ]),
    );
    expect(deployments["app-blue"]).toMatchObject({
      image: `ghcr.io/example/webapp@${DIGEST}`,
      image_pull_policy: "IfNotPresent",
    });
    const staging = Object.fromEntries(
      resources(s.stack("staging-workloads"), "kubernetes_deployment_v1").map((d) => [
        d.metadata.name,
        d.spec.template.spec.container[0],
      ]),
    );
    expect(staging["app-blue"].image).toMatch(/^ghcr\.io\/example\/webapp:\d/);
    expect(staging["app-blue"].image_pull_policy).toBe("Always");
  });

  it("EC2: the user data runs the image by digest", () => {
    const lts = resources(s.stack("dev"), "aws_launch_template");
    const blue = lts.find((l) => l.name === "dev-app-blue");
    const script = Buffer.from(
      /^\$\{base64encode\("([\s\S]*)"\)\}$/.exec(blue.user_data)![1]!.replace(/\\n/g, "\n").replace(/\\"/g, '"'),
      "utf8",
    ).toString();
    expect(script).toContain(`'ghcr.io/example/webapp@${DIGEST}'`);
  });
});

describe("validation of the new environment fields", () => {
  const problems = (input: unknown) => {
    try {
      defineEnvironment(input as any);
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e.message
        .split("\n")
        .slice(1)
        .map((l) => l.trim().replace(/^- /, ""));
    }
  };

  it("names the field and the rule, all at once", () => {
    expect(
      problems({
        ...dev,
        waf: { rateLimitPerIp: 5, logRetentionDays: 42 },
        backup: {
          rules: [
            { name: "daily", schedule: "every 6 hours", retainDays: 3 },
            { name: "daily", schedule: "cron(0 3 * * ? *)", retainDays: 900 },
          ],
          copyToRegion: "frankfurt",
          vaultLock: { minRetentionDays: 7, maxRetentionDays: 730, changeableForDays: 1 },
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dev: waf\.rateLimitPerIp /),
        expect.stringMatching(/^dev: waf\.logRetentionDays must be a CloudWatch Logs retention/),
        expect.stringMatching(/^dev: backup\.rules\[0\]\.schedule must be an AWS cron expression/),
        "dev: backup.rules[1].name daily is used by more than one rule",
        expect.stringMatching(/^dev: backup\.copyToRegion must be an AWS region/),
        expect.stringMatching(/^dev: backup\.vaultLock\.changeableForDays /),
      ]),
    );
  });

  it("keeps every recovery point inside the vault lock's bounds", () => {
    expect(
      problems({
        ...production,
        backup: { ...production.backup, rules: [{ name: "hourly", schedule: "cron(0 * * * ? *)", retainDays: 1 }] },
      }),
    ).toEqual(["production: backup.rules[0].retainDays 1 is outside the vault lock's 7-730 days"]);
  });

  it("production needs a backup with a copy in another region and a vault lock", () => {
    const without = { ...production, backup: undefined };
    expect(checkEnvironments([without]).map((p) => `${p.path} ${p.message}`)).toContain(
      "backup is required in the production tier (AWS Backup plan with a copy to a second region and a vault lock)",
    );
    const partial = { ...production, backup: { rules: production.backup!.rules, copyToRegion: production.region } };
    expect(checkEnvironments([partial]).map((p) => `${p.path} ${p.message}`)).toEqual(
      expect.arrayContaining([
        "backup.copyToRegion must be another region than the environment's own (eu-west-1)",
        "backup.vaultLock is required in the production tier",
      ]),
    );
    expect(checkEnvironments([production]).filter((p) => p.path.startsWith("backup"))).toEqual([]);
  });
});
