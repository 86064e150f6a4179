import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadProject } from "../lib/config/load.ts";
import { slotAlarmNames } from "../lib/constructs/monitoring.ts";
import { readTarget } from "../lib/stacks/target.ts";
import {
  localBackend,
  onlyResource,
  REPO,
  resources,
  type Synthesized,
  s3Backend,
  synthRepo,
  synthTo,
} from "./support/project.ts";

let s: Synthesized;
beforeAll(async () => {
  s = await synthRepo();
});

const tiers = {
  dev: {
    cidr: "10.0.0.0/16",
    azs: 2,
    nats: 1,
    compute: { kind: "ec2", instance: "t3.micro", asg: [1, 1, 2], scaling: false },
    db: "db.t3.micro",
    storage: 20,
    backups: 1,
    multiAz: false,
    redis: "cache.t3.micro",
    nodes: 1,
    failover: false,
  },
  staging: {
    cidr: "10.1.0.0/16",
    azs: 2,
    nats: 1,
    compute: { kind: "eks", nodeGroups: { "staging-general": [1, 2, 5] } },
    db: "db.t3.small",
    storage: 50,
    backups: 14,
    multiAz: false,
    redis: "cache.t3.small",
    nodes: 1,
    failover: false,
  },
  production: {
    cidr: "10.2.0.0/16",
    azs: 3,
    nats: 3,
    compute: { kind: "eks", nodeGroups: { "production-general": [3, 3, 10], "production-spot": [0, 2, 5] } },
    db: "db.t3.medium",
    storage: 100,
    backups: 30,
    multiAz: true,
    redis: "cache.r6g.large",
    nodes: 2,
    failover: true,
  },
} as const;

describe("stacks", () => {
  it("synthesizes a bootstrap per account, global, two stacks per environment and a workloads stack per EKS environment", () => {
    expect(Object.keys(s.text).sort()).toEqual([
      "bootstrap-123456789012",
      "bootstrap-222222222222",
      "bootstrap-333333333333",
      "dev",
      "dev-traffic",
      "global",
      "production",
      "production-traffic",
      "production-workloads",
      "staging",
      "staging-traffic",
      "staging-workloads",
    ]);
  });

  it("gives every stack its own S3 state key with encryption and S3-native locking (no DynamoDB table)", () => {
    const accountOf = (name: string) =>
      ({ dev: "123456789012", staging: "222222222222", production: "333333333333" })[
        name.replace(/-(traffic|workloads)$/, "")
      ] ?? (name.startsWith("bootstrap-") ? name.slice(10) : "123456789012");
    const keys = Object.entries(s.text).map(([name]) => {
      const backend = s.stack(name).terraform.backend.s3;
      // Each stack's state is in its own account's bucket, reached through that account's deploy role.
      expect(backend).toMatchObject({
        bucket: `webapp-tfstate-${accountOf(name)}`,
        encrypt: true,
        use_lockfile: true,
        assume_role: {
          role_arn: `arn:aws:iam::${accountOf(name)}:role/envstack-deploy`,
          session_name: `envstack-${name}`,
        },
      });
      expect(backend.dynamodb_table).toBeUndefined();
      expect(backend.key).toBe(`webapp/${name}/terraform.tfstate`);
      return backend.key;
    });
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("switches every stack to a local backend with ENVSTACK_BACKEND=local", () => {
    const outdir = mkdtempSync(join(tmpdir(), "envstack-local-"));
    const text = synthTo(s.project, localBackend(REPO), outdir);
    for (const [name, json] of Object.entries(text)) {
      const tf = JSON.parse(json).terraform;
      expect(tf.backend.s3).toBeUndefined();
      expect(tf.backend.local.path).toBe(join(REPO, ".state", `${name}.tfstate`));
    }
  });

  it("tags every resource through the provider's default tags", () => {
    for (const name of Object.keys(s.text)) {
      const tags = s.stack(name).provider.aws[0].default_tags[0].tags;
      expect(Object.keys(tags)).toEqual(
        expect.arrayContaining(["Environment", "Project", "ManagedBy", "Owner", "CostCenter"]),
      );
    }
    expect(s.stack("production").provider.aws[0].default_tags[0].tags).toMatchObject({
      Environment: "production",
      Tier: "production",
      Project: "webapp",
    });
  });
});

describe.each(Object.entries(tiers))("%s sizing", (env, t) => {
  const stack = () => s.stack(env);

  it("network: CIDR, subnets per AZ, NAT per tier, flow logs, locked default SG", () => {
    expect(onlyResource(stack(), "aws_vpc").cidr_block).toBe(t.cidr);
    const subnets = resources(stack(), "aws_subnet");
    expect(subnets).toHaveLength(t.azs * 3);
    expect(new Set(subnets.map((x) => x.availability_zone)).size).toBe(t.azs);
    expect(subnets.every((x) => x.map_public_ip_on_launch === false)).toBe(true);
    expect(resources(stack(), "aws_nat_gateway")).toHaveLength(t.nats);
    expect(onlyResource(stack(), "aws_flow_log").traffic_type).toBe("ALL");
    const sg = onlyResource(stack(), "aws_default_security_group");
    expect(sg.ingress).toEqual([]);
    expect(sg.egress).toEqual([]);
  });

  it(`compute (${t.compute.kind}): EC2 — a launch template and ASG per slot, IMDSv2, encrypted EBS; EKS — node groups, no per-slot ASG`, () => {
    const c = t.compute;
    if (c.kind === "ec2") {
      const lts = resources(stack(), "aws_launch_template");
      expect(lts.map((l) => l.name).sort()).toEqual([`${env}-app-blue`, `${env}-app-green`]);
      for (const lt of lts) {
        expect(lt.instance_type).toBe(c.instance);
        expect(lt.metadata_options.http_tokens).toBe("required");
        expect(lt.block_device_mappings[0].ebs.encrypted).toBe("true");
      }
      const asgs = Object.fromEntries(resources(stack(), "aws_autoscaling_group").map((a) => [a.name, a]));
      // blue runs the live version; green is empty and scaled to 0.
      expect([
        asgs[`${env}-app-blue`].min_size,
        asgs[`${env}-app-blue`].desired_capacity,
        asgs[`${env}-app-blue`].max_size,
      ]).toEqual(c.asg);
      expect([asgs[`${env}-app-green`].min_size, asgs[`${env}-app-green`].max_size]).toEqual([0, 0]);
      expect(resources(stack(), "aws_autoscaling_policy").length).toBe(c.scaling ? 1 : 0);
      expect(resources(stack(), "aws_eks_cluster")).toEqual([]);
    } else {
      const groups: Record<string, any> = Object.fromEntries(
        resources(stack(), "aws_eks_node_group").map((g) => [g.node_group_name, g.scaling_config]),
      );
      expect(
        Object.fromEntries(Object.entries(groups).map(([n, sc]) => [n, [sc.min_size, sc.desired_size, sc.max_size]])),
      ).toEqual(c.nodeGroups);
      // The slots are Deployments in the workloads stack, not Auto Scaling groups of their own.
      expect(resources(stack(), "aws_autoscaling_group")).toEqual([]);
      const lt = onlyResource(stack(), "aws_launch_template");
      expect(lt.metadata_options.http_tokens).toBe("required");
      expect(lt.block_device_mappings[0].ebs.encrypted).toBe("true");
    }
  });

  it("database: class, storage, backups, multi-AZ, encryption, managed password", () => {
    const db = onlyResource(stack(), "aws_db_instance");
    expect(db).toMatchObject({
      engine: "postgres",
      instance_class: t.db,
      allocated_storage: t.storage,
      backup_retention_period: t.backups,
      multi_az: t.multiAz,
      storage_encrypted: true,
      manage_master_user_password: true,
      publicly_accessible: false,
    });
    expect(db.password).toBeUndefined();
    expect(db.kms_key_id).toMatch(/^\$\{aws_kms_key\./);
    expect(db.deletion_protection).toBe(env !== "dev");
  });

  it("cache: node type, replicas, failover, encryption and IAM auth", () => {
    const rg = onlyResource(stack(), "aws_elasticache_replication_group");
    expect(rg).toMatchObject({
      node_type: t.redis,
      num_cache_clusters: t.nodes,
      automatic_failover_enabled: t.failover,
      at_rest_encryption_enabled: "true",
      transit_encryption_enabled: true,
    });
    expect(rg.auth_token).toBeUndefined();
    expect(
      resources(stack(), "aws_elasticache_user")
        .map((u) => u.authentication_mode.type)
        .sort(),
    ).toEqual(["iam", "no-password-required"]);
  });
});

describe("load balancer and traffic", () => {
  it("has blue and green target groups with the reference health check", () => {
    const tgs = resources(s.stack("dev"), "aws_lb_target_group");
    expect(tgs.map((t) => t.name).sort()).toEqual(["dev-app-blue", "dev-app-green"]);
    for (const tg of tgs) {
      expect(tg).toMatchObject({ port: 3000, protocol: "HTTP" });
      expect(tg.health_check).toMatchObject({
        path: "/health",
        matcher: "200",
        interval: 30,
        timeout: 5,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
      });
    }
  });

  it("serves HTTPS with TLS 1.2+ and redirects HTTP where a certificate is given; plain HTTP otherwise", () => {
    const prod = resources(s.stack("production"), "aws_lb_listener");
    expect(prod.map((l) => l.protocol).sort()).toEqual(["HTTP", "HTTPS"]);
    expect(prod.find((l) => l.protocol === "HTTPS").ssl_policy).toMatch(/TLS13-1-2/);
    expect(prod.find((l) => l.protocol === "HTTP").default_action[0].redirect).toMatchObject({
      protocol: "HTTPS",
      status_code: "HTTP_301",
    });
    expect(resources(s.stack("dev"), "aws_lb_listener").map((l) => l.protocol)).toEqual(["HTTP"]);
  });

  it("drops invalid headers and logs access to an encrypted bucket", () => {
    const alb = onlyResource(s.stack("staging"), "aws_lb");
    expect(alb.drop_invalid_header_fields).toBe(true);
    expect(alb.access_logs.enabled).toBe(true);
    expect(resources(s.stack("staging"), "aws_s3_bucket_server_side_encryption_configuration")).toHaveLength(1);
  });

  it("has a header test route per slot in the infrastructure stack", () => {
    const rules = resources(s.stack("dev"), "aws_lb_listener_rule");
    expect(rules.map((r) => r.condition[0].http_header.values[0]).sort()).toEqual(["blue", "green"]);
    expect(rules.every((r) => r.condition[0].http_header.http_header_name === "X-Release-Slot")).toBe(true);
  });

  it("puts the weighted forward rule, alone, in the traffic stack", () => {
    const traffic = s.stack("production-traffic");
    expect(Object.keys(traffic.resource)).toEqual(["aws_lb_listener_rule"]);
    const rule = onlyResource(traffic, "aws_lb_listener_rule");
    expect(rule.priority).toBe(100);
    expect(rule.condition[0].path_pattern.values).toEqual(["/*"]);
    expect(rule.action[0].forward.target_group.map((g: any) => g.weight)).toEqual([100, 0]);
    expect(rule.listener_arn).toMatch(/terraform_remote_state\.cross-stack-reference-input-production/);
    expect(traffic.data.terraform_remote_state["cross-stack-reference-input-production"].config.key).toBe(
      "webapp/production/terraform.tfstate",
    );
  });

  it("changes only the traffic stack, byte for byte, when weights change", async () => {
    const shifted = await synthRepo({
      releases: { dev: { slots: { blue: { version: "1.5.0", weight: 75 }, green: { version: "1.6.0", weight: 25 } } } },
    });
    const green = await synthRepo({
      releases: { dev: { slots: { blue: { version: "1.5.0", weight: 0 }, green: { version: "1.6.0", weight: 100 } } } },
    });
    expect(shifted.text.dev).toBe(green.text.dev);
    expect(shifted.text["dev-traffic"]).not.toBe(green.text["dev-traffic"]);
    for (const name of Object.keys(s.text).filter((n) => !n.startsWith("dev")))
      expect(shifted.text[name]).toBe(s.text[name]);
    const weights = onlyResource(
      JSON.parse(shifted.text["dev-traffic"]!),
      "aws_lb_listener_rule",
    ).action[0].forward.target_group.map((g: any) => g.weight);
    expect(weights).toEqual([75, 25]);
  });
});

describe("monitoring", () => {
  it("creates the per-slot gate alarms under the names the canary reads", () => {
    const names = resources(s.stack("production"), "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name);
    for (const slot of ["blue", "green"] as const)
      expect(names).toEqual(expect.arrayContaining(slotAlarmNames("production", slot)));
    expect(names).toEqual(
      expect.arrayContaining([
        "production-alb-5xx-rate",
        "production-database-cpu",
        "production-database-free-storage",
        "production-cache-cpu",
        "production-cache-evictions",
      ]),
    );
  });

  it("uses the tier thresholds and notifies the SNS topic", () => {
    const alarms = resources(s.stack("staging"), "aws_cloudwatch_metric_alarm");
    const latency = alarms.find((a) => a.alarm_name === "staging-app-green-p99-latency");
    expect(latency).toMatchObject({ threshold: 1, extended_statistic: "p99" });
    expect(alarms.find((a) => a.alarm_name === "staging-alb-5xx-rate").threshold).toBe(1);
    expect(alarms.find((a) => a.alarm_name === "staging-database-cpu").threshold).toBe(80);
    expect(alarms.every((a) => a.alarm_actions[0].startsWith("${aws_sns_topic."))).toBe(true);
    expect(onlyResource(s.stack("staging"), "aws_sns_topic_subscription").endpoint).toBe("oncall-staging@example.com");
  });

  it("has a global dashboard with one line per environment", () => {
    const body = JSON.parse(onlyResource(s.stack("global"), "aws_cloudwatch_dashboard").dashboard_body);
    const [requests, latency, cpu] = body.widgets;
    expect(requests.properties.metrics.map((m: any[]) => m.at(-1).label)).toEqual(["dev", "production", "staging"]);
    expect(latency.properties.metrics[0][1]).toBe("TargetResponseTime");
    expect(cpu.properties.metrics[0][1]).toBe("CPUUtilization");
    expect(requests.properties.period).toBe(300);
  });
});

describe("the local (emulator) target", () => {
  it("switches off only the listed gaps; the real stacks keep everything", async () => {
    const local = await synthRepo({
      target: (root) => readTarget({ ENVSTACK_TARGET: "local", ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:4566" }, root),
    });
    const dev = local.stack("dev");
    // CloudWatch is no gap: the emulator's proxy speaks the provider's CBOR protocol
    expect(resources(dev, "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name)).toEqual(
      resources(s.stack("dev"), "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name),
    );
    // moto (through the project's wrapper) reads back what it was given: no ignore_changes, no per-version template
    for (const type of ["aws_elasticache_replication_group", "aws_backup_selection", "aws_launch_template"])
      expect(resources(dev, type), type).toEqual(resources(s.stack("dev"), type));
    const readBack = [
      ...resources(dev, "aws_vpc_security_group_ingress_rule"),
      ...resources(dev, "aws_vpc_security_group_egress_rule"),
      ...resources(dev, "aws_db_parameter_group"),
      ...resources(dev, "aws_backup_vault"),
    ];
    expect(readBack.length).toBeGreaterThan(0);
    for (const r of readBack) expect(r.lifecycle).toBeUndefined();

    const real = s.stack("dev");
    expect(resources(real, "aws_cloudwatch_metric_alarm").length).toBeGreaterThan(0);
    expect(resources(real, "aws_elasticache_replication_group")).toHaveLength(1);
    expect(resources(real, "aws_launch_template").every((t) => t.lifecycle === undefined)).toBe(true);
  });
});

describe("bootstrap", () => {
  it("creates a versioned, encrypted, private, TLS-only state bucket whose access is logged, and no lock table", () => {
    const b = s.stack("bootstrap-123456789012");
    const buckets = Object.fromEntries(
      Object.entries(b.resource.aws_s3_bucket as Record<string, any>).map(([id, x]) => [
        x.bucket.replace("-tfstate-123456789012", "-terraform-state"),
        id,
      ]),
    );
    expect(Object.keys(buckets).sort()).toEqual(["webapp-terraform-state", "webapp-terraform-state-access-logs"]);
    const of = (type: string, bucket: string) =>
      resources(b, type).find((r) => r.bucket.includes(`.${buckets[bucket]}.`));
    expect(of("aws_s3_bucket_versioning", "webapp-terraform-state").versioning_configuration.status).toBe("Enabled");
    expect(
      of("aws_s3_bucket_server_side_encryption_configuration", "webapp-terraform-state").rule[0]
        .apply_server_side_encryption_by_default.sse_algorithm,
    ).toBe("aws:kms");
    // S3 server access logs are delivered only to SSE-S3 buckets.
    expect(
      of("aws_s3_bucket_server_side_encryption_configuration", "webapp-terraform-state-access-logs").rule[0]
        .apply_server_side_encryption_by_default.sse_algorithm,
    ).toBe("AES256");
    for (const block of resources(b, "aws_s3_bucket_public_access_block")) {
      expect(block).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
    }
    const logging = onlyResource(b, "aws_s3_bucket_logging");
    expect(logging.bucket).toContain(buckets["webapp-terraform-state"]);
    expect(logging.target_bucket).toContain(buckets["webapp-terraform-state-access-logs"]);
    for (const doc of Object.values(b.data.aws_iam_policy_document as Record<string, any>)) {
      expect(doc.statement[0]).toMatchObject({
        effect: "Deny",
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      });
    }
    for (const lifecycle of resources(b, "aws_s3_bucket_lifecycle_configuration")) {
      expect(lifecycle.rule[0]).toMatchObject({
        id: "abort-incomplete-uploads",
        abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
      });
    }
    expect(
      of("aws_s3_bucket_lifecycle_configuration", "webapp-terraform-state").rule[1].noncurrent_version_expiration,
    ).toEqual([{ noncurrent_days: 365 }]);
    expect(resources(b, "aws_dynamodb_table")).toEqual([]);
    const key = JSON.parse(onlyResource(b, "aws_kms_key").policy);
    expect(key.Statement.map((x: any) => x.Sid)).toEqual(["AccountAdministersAndUsesThroughIam"]);
  });
});

it("loads the shipped project without problems", async () => {
  const p = await loadProject(REPO);
  expect(p.environments.map((e) => e.config.name)).toEqual(["dev", "production", "staging"]);
  expect(s3Backend(REPO).backend).toBe("s3");
});
