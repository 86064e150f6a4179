/**
 * Settings and secrets in the synthesized Terraform JSON, for both compute kinds: each slot gets
 * the settings of the release file (never the environment file's), a settings change of the idle
 * slot leaves the live slot's resources byte-for-byte identical, secrets exist without values,
 * and the boot script of an EC2 slot really turns its parameters into the container's variables.
 */

import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { userData } from "../lib/constructs/ec2-user-data.ts";
import { checkStack } from "../lib/policy/check.ts";
import { type SlotSettings, slotSettings } from "../lib/release/model/slots.ts";
import { readTarget } from "../lib/stacks/target.ts";
import { onlyResource, resources, type Synthesized, synthRepo } from "./support/project.ts";

const devBlue = slotSettings({
  PUBLIC_BASE_URL: "http://dev.webapp.example.com",
  REQUEST_TIMEOUT_MS: 1234,
  FEATURE_NEW_CHECKOUT: false,
});
const stagingBlue = slotSettings({
  PUBLIC_BASE_URL: "https://staging.webapp.example.com",
  SMTP_HOST: "smtp.example.com",
  SMTP_PORT: 587,
  MAIL_FROM: "a@example.com",
});
const stagingGreen = (timeout: number): SlotSettings =>
  slotSettings({ ...stagingBlue.values, REQUEST_TIMEOUT_MS: timeout });

/** dev: blue 1.5.0 with settings that are NOT the file's; staging: blue and green with their own. */
const releases = (greenTimeout: number) => ({
  dev: { slots: { blue: { version: "1.5.0", weight: 100, settings: devBlue }, green: { version: null, weight: 0 } } },
  staging: {
    slots: {
      blue: { version: "1.4.2", weight: 100, settings: stagingBlue },
      green: { version: "1.5.0", weight: 0, settings: stagingGreen(greenTimeout) },
    },
    history: [
      { version: "1.4.2", served: true },
      { version: "1.5.0", served: false },
    ],
  },
});

let s: Synthesized;
let changed: Synthesized;
beforeAll(async () => {
  s = await synthRepo({ releases: releases(5000) as never });
  changed = await synthRepo({
    releases: {
      ...releases(9000),
      dev: {
        slots: {
          blue: releases(0).dev.slots.blue,
          green: {
            version: "1.5.0",
            weight: 0,
            settings: slotSettings({ ...devBlue.values, REQUEST_TIMEOUT_MS: 4321 }),
          },
        },
        history: [{ version: "1.5.0", served: true }],
      },
    } as never,
  });
}, 120_000);

const byName = (stack: any, type: string): Record<string, any> =>
  Object.fromEntries(resources(stack, type).map((r) => [r.name ?? r.metadata?.name, r]));
const withoutMeta = (r: any) => {
  const { "//": _meta, ...rest } = r;
  return rest;
};

describe("EC2 (dev): settings as SSM parameters per slot", () => {
  it("publishes each populated slot's settings from the release file, one String parameter per key; none for an empty slot", () => {
    const params = byName(s.stack("dev"), "aws_ssm_parameter");
    const slotParams = Object.fromEntries(
      Object.entries(params)
        .filter(([n]) => n.startsWith("/webapp/dev/slots/"))
        .map(([n, p]: [string, any]) => [n, [p.type, p.value, p.tags]]),
    );
    const tags = { Slot: "blue", SettingsChecksum: devBlue.checksum };
    expect(slotParams).toEqual({
      "/webapp/dev/slots/blue/FEATURE_NEW_CHECKOUT": ["String", "false", tags],
      "/webapp/dev/slots/blue/PUBLIC_BASE_URL": ["String", "http://dev.webapp.example.com", tags],
      "/webapp/dev/slots/blue/REQUEST_TIMEOUT_MS": ["String", "1234", tags], // the release file's, not dev.ts's 10000
    });
  });

  it("boots a slot's instances with its settings: the launch template names the checksum and the parameter count; the role may read the environment's parameters only", () => {
    const lts = byName(s.stack("dev"), "aws_launch_template");
    const blue = lts["dev-app-blue"].user_data as string;
    expect(blue).toContain(`# settings ${devBlue.checksum}: 3 parameters under /webapp/dev/slots/blue/`);
    expect(blue).toContain("test $(grep -c . /etc/app.env) -eq 3");
    expect(blue).toContain("--path '/webapp/dev/secrets/'");
    expect(blue).toContain(`-e APP_SETTINGS_CHECKSUM='${devBlue.checksum}'`);
    expect(lts["dev-app-green"].user_data).toContain("# empty slot: no version deployed");
    const policy = JSON.parse(
      resources(s.stack("dev"), "aws_iam_role_policy").find((p) => p.policy.includes("ssm:GetParametersByPath")).policy,
    );
    expect(policy.Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"],
        Resource: [
          expect.stringMatching(
            /^arn:\$\{data\.aws_partition\.[^}]+\}:ssm:eu-west-1:\$\{data\.aws_caller_identity\.[^}]+\}:parameter\/webapp\/dev$/,
          ),
          expect.stringMatching(/:parameter\/webapp\/dev\/\*$/),
        ],
      },
    ]);
    // no instance boots before its parameters and the right to read them exist
    const asg = resources(s.stack("dev"), "aws_autoscaling_group").find((a) => a.name === "dev-app-blue");
    expect(asg.depends_on).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws_iam_role_policy\.compute_read-parameters/),
        expect.stringMatching(/^aws_ssm_parameter\.compute_settings-blue_REQUEST_TIMEOUT_MS/),
        expect.stringMatching(/^aws_ssm_parameter\.compute_secret-arn-SMTP_PASSWORD/),
      ]),
    );
  });

  it("a settings change of the idle slot leaves every resource of the live slot identical", () => {
    const live = (x: Synthesized) =>
      Object.entries(x.stack("dev").resource as Record<string, Record<string, any>>).flatMap(([type, rs]) =>
        Object.entries(rs)
          .filter(([id]) => /blue/.test(id))
          .map(([id, r]) => [`${type}.${id}`, withoutMeta(r)]),
      );
    expect(live(changed)).toEqual(live(s));
    const green = byName(changed.stack("dev"), "aws_ssm_parameter")["/webapp/dev/slots/green/REQUEST_TIMEOUT_MS"];
    expect(green.value).toBe("4321");
  });

  it("on the emulator a settings change is a new version of the slot's launch template, as on AWS", async () => {
    const emulator = (root: string) =>
      readTarget(
        { ENVSTACK_TARGET: "local", ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:1", ENVSTACK_BACKEND: "local" },
        root,
      );
    const local = await synthRepo({ target: emulator, releases: releases(5000) as never });
    const lts = byName(local.stack("dev"), "aws_launch_template");
    expect(Object.keys(lts).sort()).toEqual(["dev-app-blue", "dev-app-green"]);
    expect(lts["dev-app-blue"].user_data).toContain(`-e APP_SETTINGS_CHECKSUM='${devBlue.checksum}'`);
    expect(lts["dev-app-blue"].update_default_version).toBe(true);
  }, 60_000);
});

describe("EKS (staging): settings as a ConfigMap per slot named by its checksum", () => {
  const maps = (x: Synthesized) => byName(x.stack("staging-workloads"), "kubernetes_config_map_v1");
  const deployments = (x: Synthesized) => byName(x.stack("staging-workloads"), "kubernetes_deployment_v1");

  it("gives each slot an immutable map of its release-file settings, loaded after the environment's, with the checksum in the pod template", () => {
    const m = maps(s);
    expect(Object.keys(m).sort()).toEqual([
      "app-config",
      `app-config-blue-${stagingBlue.checksum}`,
      `app-config-green-${stagingGreen(5000).checksum}`,
    ]);
    const blue = m[`app-config-blue-${stagingBlue.checksum}`];
    expect(blue.data).toEqual({
      MAIL_FROM: "a@example.com",
      PUBLIC_BASE_URL: "https://staging.webapp.example.com",
      SMTP_HOST: "smtp.example.com",
      SMTP_PORT: "587",
    });
    expect(blue.immutable).toBe(true);
    expect(blue.lifecycle).toEqual({ create_before_destroy: true });
    expect(m[`app-config-green-${stagingGreen(5000).checksum}`].data.REQUEST_TIMEOUT_MS).toBe("5000");
    for (const slot of ["blue", "green"] as const) {
      const c = deployments(s)[`app-${slot}`].spec.template.spec.container[0];
      expect(c.env_from.map((e: any) => e.config_map_ref.name)).toEqual([
        expect.stringMatching(/^\$\{kubernetes_config_map_v1\.config_[0-9A-F]+\.metadata\[0\]\.name\}$/),
        expect.stringMatching(
          new RegExp(
            `^\\$\\{kubernetes_config_map_v1\\.settings-${slot}_config_[0-9A-F]+\\.metadata\\[0\\]\\.name\\}$`,
          ),
        ),
      ]);
      expect(c.env).toContainEqual({
        name: "APP_SETTINGS_CHECKSUM",
        value: slot === "blue" ? stagingBlue.checksum : stagingGreen(5000).checksum,
      });
    }
  });

  it("puts the secrets' ARNs (never values) in the environment's map, read across stacks", () => {
    const data = maps(s)["app-config"].data;
    expect(data.SMTP_PASSWORD_SECRET_ARN).toMatch(
      /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-staging\.outputs\.cross-stack-output-aws_secretsmanager_secretapp-secrets_secret-SMTP_PASSWORD_[0-9A-F]+arn\}$/,
    );
    expect(data.PAYMENT_API_KEY_SECRET_ARN).toMatch(/secret-PAYMENT_API_KEY_[0-9A-F]+arn\}$/);
    expect(resources(s.stack("staging-workloads"), "kubernetes_secret_v1")).toEqual([]);
  });

  it("a settings change of the idle slot replaces only its map and rolls only its pods", () => {
    const before = { maps: maps(s), deployments: deployments(s) };
    const after = { maps: maps(changed), deployments: deployments(changed) };
    expect(after.deployments["app-blue"]).toEqual(before.deployments["app-blue"]);
    expect(after.maps[`app-config-blue-${stagingBlue.checksum}`]).toEqual(
      before.maps[`app-config-blue-${stagingBlue.checksum}`],
    );
    expect(after.maps[`app-config-green-${stagingGreen(9000).checksum}`].data.REQUEST_TIMEOUT_MS).toBe("9000");
    expect(after.maps[`app-config-green-${stagingGreen(5000).checksum}`]).toBeUndefined();
    expect(after.deployments["app-green"]).not.toEqual(before.deployments["app-green"]);
  });
});

describe("secrets: created without values, readable by the application role only", () => {
  it("never synthesizes a secret value: no secret versions, no Kubernetes secret data, no SecureString parameters, in any stack", () => {
    for (const name of Object.keys(s.text)) {
      const stack = s.stack(name);
      expect({ name, versions: resources(stack, "aws_secretsmanager_secret_version") }).toEqual({ name, versions: [] });
      expect(resources(stack, "aws_ssm_parameter").filter((p) => p.type !== "String")).toEqual([]);
      expect(
        checkStack(name, stack).filter((f) => f.rule === "no-secret-values" || f.rule === "secrets-protected"),
      ).toEqual([]);
    }
  });

  it.each([
    ["dev", "compute_role", 0],
    ["production", "compute_app-role", 30],
  ])(
    "%s: one secret per name, on the environment's own key, denying GetSecretValue to all but the app role",
    (env, role, recovery) => {
      const stack = s.stack(env);
      const secrets = resources(stack, "aws_secretsmanager_secret");
      const names =
        env === "dev"
          ? ["webapp/dev/SMTP_PASSWORD"]
          : ["webapp/production/PAYMENT_API_KEY", "webapp/production/SMTP_PASSWORD"];
      expect(secrets.map((x) => x.name).sort()).toEqual(names);
      const key = Object.entries(stack.resource.aws_kms_key).find(
        ([, k]: [string, any]) => k.description === `Application secrets of ${env}`,
      )!;
      expect((key[1] as any).enable_key_rotation).toBe(true);
      for (const secret of secrets) {
        expect(secret.kms_key_id).toBe(`\${aws_kms_key.${key[0]}.arn}`);
        expect(secret.recovery_window_in_days).toBe(recovery);
      }
      const roleRef = new RegExp(`^\\$\\{aws_iam_role\\.${role}_[0-9A-F]+\\.arn\\}$`);
      for (const p of resources(stack, "aws_secretsmanager_secret_policy")) {
        expect(p.block_public_policy).toBe(true);
        const doc = JSON.parse(p.policy);
        expect(doc.Statement).toEqual([
          {
            Sid: "ApplicationReads",
            Effect: "Allow",
            Principal: { AWS: expect.stringMatching(roleRef) },
            Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            Resource: "*",
          },
          {
            Sid: "NobodyElseReadsTheValue",
            Effect: "Deny",
            Principal: "*",
            Action: "secretsmanager:GetSecretValue",
            Resource: "*",
            Condition: { StringNotEquals: { "aws:PrincipalArn": [expect.stringMatching(roleRef)] } },
          },
        ]);
      }
      const read = resources(stack, "aws_iam_role_policy").find(
        (p) => p.policy.includes("secretsmanager:GetSecretValue") && p.policy.includes("app-secrets"),
      );
      expect(read.role).toMatch(new RegExp(`^\\$\\{aws_iam_role\\.${role}_[0-9A-F]+\\.id\\}$`));
      expect(JSON.parse(read.policy).Statement[1]).toEqual({
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: `\${aws_kms_key.${key[0]}.arn}`,
        Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
      });
    },
  );

  it("rotates a secret where a rotation function is declared, on its schedule", async () => {
    const rotation = {
      lambdaArn: "arn:aws:lambda:eu-west-1:123456789012:function:rotate-payment",
      lambdaRoleArn: "arn:aws:iam::123456789012:role/rotate-payment",
      everyDays: 30,
    };
    const r = await synthRepo({
      configs: {
        production: (c) => ({
          ...c,
          app: { ...c.app, secrets: [{ name: "SMTP_PASSWORD" }, { name: "PAYMENT_API_KEY", rotation }] },
        }),
      },
    });
    const stack = r.stack("production");
    const rot = onlyResource(stack, "aws_secretsmanager_secret_rotation");
    expect(rot).toMatchObject({
      rotation_lambda_arn: rotation.lambdaArn,
      rotation_rules: { automatically_after_days: 30 },
    });
    expect(rot.secret_id).toMatch(/secret-PAYMENT_API_KEY_[0-9A-F]+\.id\}$/);
    const policy = resources(stack, "aws_secretsmanager_secret_policy").map(
      (p) => JSON.parse(p.policy).Statement[1].Condition.StringNotEquals["aws:PrincipalArn"],
    );
    expect(policy.map((readers) => readers.length).sort()).toEqual([1, 2]);
    expect(policy.flat()).toContain(rotation.lambdaRoleArn);
  }, 60_000);
});

describe("policy rules for secrets", () => {
  const TAGS = { Environment: "dev", Project: "webapp", ManagedBy: "cdktf", Owner: "o", CostCenter: "c" };
  const stack = (
    type: string,
    config: Record<string, unknown>,
    extra: Record<string, Record<string, unknown>> = {},
  ) => ({
    provider: { aws: [{ region: "eu-west-1", default_tags: [{ tags: TAGS }] }] },
    resource: {
      [type]: { subject: config },
      ...Object.fromEntries(Object.entries(extra).map(([t, c]) => [t, { other: c }])),
    },
  });
  const fired = (json: any) => checkStack("s", json).map((f) => `${f.rule}: ${f.message}`);

  it("no-secret-values refuses secret versions, SecureString parameters and Kubernetes secret data", () => {
    expect(fired(stack("aws_secretsmanager_secret_version", { secret_id: "x", secret_string: "v" }))).toEqual([
      "no-secret-values: would put a secret value into the plan and the state: create the secret only, and set its value with 'envctl secret set'",
    ]);
    expect(fired(stack("aws_ssm_parameter", { name: "/x", type: "SecureString", value: "v" }))).toEqual([
      "no-secret-values: is a SecureString whose value would be in the state: secrets belong in Secrets Manager (app.secrets)",
    ]);
    expect(fired(stack("aws_ssm_parameter", { name: "/x", type: "String", value: "v" }))).toEqual([]);
    expect(fired(stack("kubernetes_secret_v1", { metadata: { name: "x" }, data: { a: "b" } }))).toEqual([
      "no-secret-values: carries secret data, which would be in the state: pods read secrets from Secrets Manager by ARN",
    ]);
  });

  it("secrets-protected wants the environment's key and a resource policy", () => {
    expect(fired(stack("aws_secretsmanager_secret", { name: "x" }))).toEqual([
      "secrets-protected: kms_key_id must name the environment's KMS key (not the AWS-managed key); needs an aws_secretsmanager_secret_policy limiting who reads the value",
    ]);
    expect(
      fired(
        stack(
          "aws_secretsmanager_secret",
          { name: "x", kms_key_id: "${aws_kms_key.k.arn}" },
          { aws_secretsmanager_secret_policy: { secret_arn: "${aws_secretsmanager_secret.subject.arn}" } },
        ),
      ),
    ).toEqual([]);
  });
});

describe("the EC2 boot script", () => {
  /** Runs the script with fake dnf/systemctl/docker/aws; `aws` prints the given parameters like the CLI's text output. */
  function boot(script: string, parameters: Record<string, [string, string][]>) {
    const dir = mkdtempSync(join(tmpdir(), "envstack-boot-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const fake = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> "${dir}/calls"\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    for (const n of ["dnf", "systemctl", "docker"]) fake(n, "");
    fake(
      "aws",
      `case "$*" in\n${Object.entries(parameters)
        .map(
          ([path, ps]) =>
            `  *"--path ${path} "*) printf '${ps.map(() => "%s\\t%s\\n").join("")}' ${ps.map(([k, v]) => `'${path}${k}' '${v}'`).join(" ")} ;;`,
        )
        .join("\n")}\nesac`,
    );
    const env = join(dir, "app.env");
    const r = spawnSync("bash", ["-c", script.replaceAll("/etc/app.env", env)], {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir },
    });
    const read = (f: string) => {
      try {
        return readFileSync(f, "utf8");
      } catch {
        return "";
      }
    };
    return { status: r.status, stderr: r.stderr, env: read(env), calls: read(join(dir, "calls")).trim().split("\n") };
  }
  const script = userData(
    "ghcr.io/example/webapp",
    "1.5.0",
    3000,
    { ENVIRONMENT: "dev" },
    {
      region: "eu-west-1",
      settings: { path: "/webapp/dev/slots/blue/", checksum: "0123456789abcdef", count: 2 },
      secretArnsPath: "/webapp/dev/secrets/",
    },
  );

  it("writes the slot's settings and the secret ARNs to the env file and runs the image with it", () => {
    const r = boot(script, {
      "/webapp/dev/slots/blue/": [
        ["PUBLIC_BASE_URL", "https://x.example.com/a/b?c=d e"],
        ["SMTP_PORT", "587"],
      ],
      "/webapp/dev/secrets/": [
        ["SMTP_PASSWORD", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/dev/SMTP_PASSWORD-AbCdEf"],
      ],
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.env).toBe(
      "PUBLIC_BASE_URL=https://x.example.com/a/b?c=d e\nSMTP_PORT=587\nSMTP_PASSWORD_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/dev/SMTP_PASSWORD-AbCdEf\n",
    );
    expect(r.calls.at(-1)).toMatch(
      /^docker run -d --restart=always --name app -p 3000:3000 --env-file \S+app\.env -e APP_SETTINGS_CHECKSUM=0123456789abcdef -e ENVIRONMENT=dev ghcr\.io\/example\/webapp:1\.5\.0$/,
    );
  });

  it("stops before starting the application when it cannot read every setting (fail closed)", () => {
    const r = boot(script, {
      "/webapp/dev/slots/blue/": [["PUBLIC_BASE_URL", "https://x.example.com"]],
      "/webapp/dev/secrets/": [],
    });
    expect(r.status).not.toBe(0);
    expect(r.calls.some((c) => c.startsWith("docker run"))).toBe(false);
  });
});
