/**
 * Application settings and secrets: the catalogue and the `app` block (bad input, all problems at
 * once), the release boundary (stage and promote carry the target's settings and refuse missing
 * keys), `envctl config diff/show` and `envctl secret set/list` in process against a fake Secrets
 * Manager, and the seeds' scenario: production missing a setting staging has.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import production from "../environments/production.ts";
import staging from "../environments/staging.ts";
import { secretsManagerStore } from "../lib/aws/secrets-manager.ts";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { ConfigError } from "../lib/config/errors.ts";
import { loadProject } from "../lib/config/load.ts";
import { previewEnvironment } from "../lib/config/previews.ts";
import { AppSchema, type Environment, EnvironmentSchema } from "../lib/config/schema.ts";
import {
  KEY_PATTERN,
  missingRequired,
  PLATFORM_VARIABLES,
  requiredKeys,
  SECRETS,
  SETTINGS,
  secretArnVariable,
  secretLikeness,
} from "../lib/config/settings.ts";
import { parseRelease, type Release } from "../lib/release/model/release.ts";
import { slotSettings } from "../lib/release/model/slots.ts";
import { type ConfigSide, configDiff, formatDiffMarkdown } from "../lib/settings/compare.ts";
import { promotionMissing, slotSettingsFor } from "../lib/settings/release.ts";
import type { SecretStatus } from "../lib/settings/secret-store.ts";
import { tempProject } from "./support/project.ts";

const problemsOf = (app: unknown): string[] => {
  const r = AppSchema.safeParse(app);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("the settings catalogue", () => {
  it("is consistent: environment-variable names, settings and secrets apart, none taking a platform variable", () => {
    const settings = Object.keys(SETTINGS);
    const secrets = Object.keys(SECRETS);
    for (const k of [...settings, ...secrets]) expect(k).toMatch(KEY_PATTERN);
    expect(settings.filter((k) => secrets.includes(k))).toEqual([]);
    const taken = new Set([...PLATFORM_VARIABLES, ...settings]);
    expect([...settings, ...secrets].filter((k) => PLATFORM_VARIABLES.includes(k))).toEqual([]);
    expect(secrets.map(secretArnVariable).filter((v) => taken.has(v))).toEqual([]);
    for (const spec of Object.values(SETTINGS)) if (spec.type === "enum") expect(spec.values.length).toBeGreaterThan(0);
  });

  it("says which keys each tier requires, and every shipped environment has them", () => {
    expect(requiredKeys("production")).toEqual({
      settings: ["MAIL_FROM", "PUBLIC_BASE_URL", "SMTP_HOST", "SMTP_PORT"],
      secrets: ["SMTP_PASSWORD"],
    });
    expect(requiredKeys("development")).toEqual({ settings: ["PUBLIC_BASE_URL"], secrets: [] });
    for (const e of [dev, staging, production])
      expect({ env: e.name, missing: missingRequired(e) }).toEqual({
        env: e.name,
        missing: { settings: [], secrets: [] },
      });
  });

  it("refuses every bad key at once, each naming the key and the rule, never repeating a secret-looking value", () => {
    const awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const found = problemsOf({
      settings: {
        SMTP_HSOT: "smtp.example.com",
        SMTP_PORT: "587",
        FEATURE_NEW_CHECKOUT: 1,
        REQUEST_TIMEOUT_MS: 5,
        PAYMENT_PROVIDER: "paypal",
        PUBLIC_BASE_URL: "https://admin:pw@example.com",
        MAIL_FROM: awsSecret,
        SMTP_PASSWORD: "hunter2",
        SESSION_TTL_MINUTES: 30.5,
        lower_case: "x",
      },
      secrets: [
        "SMTP_PASSWORD",
        "SMTP_PASSWORD",
        "SMTP_PORT",
        "NOT_A_SECRET",
        "bad-name",
        { name: "PAYMENT_API_KEY", value: "x" },
      ],
    });
    expect(found.sort()).toEqual(
      [
        "secrets.1.name: SMTP_PASSWORD is listed more than once",
        "secrets.2.name: SMTP_PORT is a plain setting in the catalogue (lib/config/settings.ts): give its value in app.settings",
        "secrets.3.name: NOT_A_SECRET is not a secret in the catalogue (lib/config/settings.ts); known: SMTP_PASSWORD, PAYMENT_API_KEY, SESSION_SIGNING_KEY",
        "secrets.4.name: must be an UPPER_SNAKE_CASE name",
        'secrets.5: Unrecognized key: "value"',
        "settings.FEATURE_NEW_CHECKOUT: must be a boolean (true or false), not an integer",
        "settings.MAIL_FROM: looks like a secret (a 40-character high-entropy string): declare it in app.secrets and set its value with 'envctl secret set'",
        "settings.PAYMENT_PROVIDER: must be one of stripe, sandbox",
        "settings.PUBLIC_BASE_URL: looks like a secret (a URL with a password): declare it in app.secrets and set its value with 'envctl secret set'",
        "settings.REQUEST_TIMEOUT_MS: must be 100-60000 (got 5)",
        "settings.SESSION_TTL_MINUTES: must be an integer 5-1440, not a fractional number",
        "settings.SMTP_HSOT: is not in the settings catalogue (lib/config/settings.ts); did you mean SMTP_HOST?",
        "settings.SMTP_PASSWORD: is listed in app.secrets too: a name is either a plain setting or a secret, never both",
        "settings.SMTP_PORT: is listed in app.secrets too: a name is either a plain setting or a secret, never both",
        "settings.lower_case: must be an UPPER_SNAKE_CASE name (an environment variable)",
      ].sort(),
    );
    expect(found.join("\n")).not.toContain(awsSecret);
    expect(found.join("\n")).not.toContain("hunter2");
  });

  it("refuses a catalogued secret given as a plain setting, multi-line values and empty strings", () => {
    expect(problemsOf({ settings: { SESSION_SIGNING_KEY: "k" } })).toEqual([
      "settings.SESSION_SIGNING_KEY: is a secret in the catalogue (lib/config/settings.ts): list it in app.secrets and set its value with 'envctl secret set <env> SESSION_SIGNING_KEY', never in a file",
    ]);
    expect(problemsOf({ settings: { SMTP_HOST: "a\nb" } })).toEqual([
      "settings.SMTP_HOST: must be one line without control characters (it becomes an environment variable)",
    ]);
    expect(problemsOf({ settings: { PUBLIC_BASE_URL: "" } })).toEqual([
      "settings.PUBLIC_BASE_URL: must not be empty (leave the key out instead)",
    ]);
    expect(problemsOf({ settings: { PUBLIC_BASE_URL: "ftp://example.com" } })).toEqual([
      "settings.PUBLIC_BASE_URL: must use http or https",
    ]);
    expect(problemsOf({ settings: { MAIL_FROM: "not an address" } })).toEqual([
      "settings.MAIL_FROM: must be an e-mail address such as noreply@example.com",
    ]);
    expect(problemsOf({ settings: { SMTP_HOST: "smtp.example.com:25" } })).toEqual([
      "settings.SMTP_HOST: must be a host name (lower-case labels separated by dots, no scheme or port)",
    ]);
  });

  /**
   * A fake credential, assembled at run time: the repository never holds a string that secret
   * scanners (or this project's own check) would take for a committed key.
   */
  const credentialShaped = (prefix: string, body: string) => prefix + body;

  it.each([
    ["-----BEGIN RSA PRIVATE KEY-----", "a PEM block"],
    [credentialShaped("AKIA", "IOSFODNN7EXAMPLE"), "an AWS access key id"],
    [`prefix ${credentialShaped("ASIA", "Y34FZKBOKMUTVV7A")} suffix`, "an AWS access key id"],
    [credentialShaped("ghp_", "abcdefghijklmnopqrstuvwxyz0123456789"), "a GitHub token"],
    [credentialShaped("sk_live_", "abcdefghijklmnop1234"), "a Stripe key"],
    [
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "a JSON Web Token",
    ],
    ["postgres://app:hunter2@db:5432/app", "a URL with a password"],
    ["9f86d081884c7d659a2feaa0c55ad015", "a 32-character hex string"],
    ["Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA=", "a 36-character high-entropy string"],
    ["k3j4h5g6f7d8s9a0q1w2e3r4", "a 24-character high-entropy string"],
  ])("takes %s for a secret (%s)", (value, what) => {
    expect(secretLikeness(value)).toBe(what);
  });

  it.each([
    "https://dev.webapp.example.com",
    "noreply@webapp.example.com",
    "email-smtp.eu-west-1.amazonaws.com",
    "ghcr.io/example/webapp",
    "The quick brown fox jumps over the lazy dog",
    "checkout-v2-experiment-enabled",
    "https://api.example.com/customers/orders/history/export/v2",
    "123e4567-e89b-12d3-a456-426614174000",
    "EnvironmentConfigurationLoader",
    "sandbox",
  ])("does not take %s for a secret", (value) => {
    expect(secretLikeness(value)).toBeUndefined();
  });

  it("reports app problems with the other problems of the environment file, naming the environment", async () => {
    const dir = tempProject((d) => {
      const f = join(d, "environments/dev.ts");
      writeFileSync(
        f,
        readFileSync(f, "utf8")
          .replace("SMTP_PORT: 1025,", 'SMTP_PORT: "1025", SMTP_HSOT: "x",')
          .replace('"mailpit.dev.webapp.example.com"', '"${file(\\"/etc/passwd\\")}"')
          .replace('instanceType: "t3.micro"', 'instanceType: "t3.micro", bogus: 1'),
      );
    });
    const err = await loadProject(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message.split("\n").slice(1).sort()).toEqual(
      [
        "  - dev: app.settings.SMTP_HSOT is not in the settings catalogue (lib/config/settings.ts); did you mean SMTP_HOST?",
        "  - dev: app.settings.SMTP_HOST must be a host name (lower-case labels separated by dots, no scheme or port)",
        '  - dev: app.settings.SMTP_HOST must not contain a Terraform template sequence ("${" or "%{"): the engine would evaluate it',
        "  - dev: app.settings.SMTP_PORT must be an integer 1-65535, not a string",
        "  - dev: compute has unknown field(s) bogus",
      ].sort(),
    );
  });

  it("keeps the app block through a preview's re-validation, and secrets as names (with optional rotation)", () => {
    const p = previewEnvironment(
      {
        name: "pr-1-x",
        base: "dev",
        cidr: "10.64.0.0/20",
        createdAt: "2026-11-01T00:00:00.000Z",
        expiresAt: "2026-11-08T00:00:00.000Z",
      },
      dev,
    );
    expect(p.app).toEqual(dev.app);
    const rotation = {
      lambdaArn: "arn:aws:lambda:eu-west-1:123456789012:function:rotate-payment",
      lambdaRoleArn: "arn:aws:iam::123456789012:role/rotate-payment",
      everyDays: 30,
    };
    expect(AppSchema.parse({ secrets: ["SMTP_PASSWORD", { name: "PAYMENT_API_KEY", rotation }] }).secrets).toEqual([
      { name: "SMTP_PASSWORD" },
      { name: "PAYMENT_API_KEY", rotation },
    ]);
    expect(problemsOf({ secrets: [{ name: "PAYMENT_API_KEY", rotation: { ...rotation, everyDays: 0 } }] })).toEqual([
      "secrets.0.rotation.everyDays: Too small: expected number to be >=1",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

const env = (base: Environment, edit: (settings: Record<string, unknown>) => void, secrets?: string[]): Environment => {
  const settings: Record<string, unknown> = { ...base.app.settings };
  edit(settings);
  return EnvironmentSchema.parse({ ...base, app: { settings, secrets: secrets ?? base.app.secrets } });
};

describe("the release boundary", () => {
  it("a staged slot carries the environment file's values with their checksum; none without settings", () => {
    expect(slotSettingsFor(dev)).toEqual(slotSettings(dev.app.settings));
    expect(
      slotSettingsFor(
        EnvironmentSchema.parse({ ...dev, app: { settings: { PUBLIC_BASE_URL: "http://x.example.com" } } }),
      ),
    ).toEqual(slotSettings({ PUBLIC_BASE_URL: "http://x.example.com" }));
  });

  it("refuses to stage a slot without a key the tier requires, naming every one", () => {
    const bare = env(
      production,
      (s) => {
        delete s.SMTP_HOST;
        delete s.MAIL_FROM;
      },
      [],
    );
    expect(() => slotSettingsFor(bare)).toThrow(
      "production: a slot cannot be staged without setting MAIL_FROM (required in the production tier), setting SMTP_HOST (required in the production tier), secret SMTP_PASSWORD (required in the production tier); add them to environments/production.ts (app.settings / app.secrets)",
    );
  });

  it("a promotion needs every key the source runs the version with (its slot's settings), and every key of the tier", () => {
    const sourceRelease: Release = parseRelease({
      environment: "staging",
      live: "green",
      slots: {
        blue: { version: "1.5.0", weight: 0, settings: slotSettings({ PUBLIC_BASE_URL: "https://s.example.com" }) },
        green: {
          version: "1.6.0",
          weight: 100,
          settings: slotSettings({ PUBLIC_BASE_URL: "https://s.example.com", SESSION_TTL_MINUTES: 30 }),
        },
      },
      history: [
        { version: "1.5.0", served: true },
        { version: "1.6.0", served: true },
      ],
    });
    const target = env(production, (s) => {
      delete s.SMTP_HOST;
    });
    expect(promotionMissing(staging, sourceRelease, target, "1.6.0")).toEqual([
      { kind: "setting", key: "SESSION_TTL_MINUTES", reasons: ["staging runs 1.6.0 with it"] },
      { kind: "setting", key: "SMTP_HOST", reasons: ["required in the production tier"] },
    ]);
    // 1.5.0 ran without SESSION_TTL_MINUTES; a version in no slot is judged by the source file
    expect(promotionMissing(staging, sourceRelease, target, "1.5.0").map((m) => m.key)).toEqual(["SMTP_HOST"]);
    const noSecret = env(production, () => undefined, ["SMTP_PASSWORD"]);
    expect(promotionMissing(staging, sourceRelease, noSecret, "1.4.0")).toEqual([
      { kind: "secret", key: "PAYMENT_API_KEY", reasons: ["staging defines it"] },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

const set = (lastChanged: string): SecretStatus => ({
  id: "x",
  state: "set",
  currentVersion: "v1",
  versions: 1,
  lastChanged,
  rotation: { enabled: false },
});
const none: SecretStatus = { id: "x", state: "empty", versions: 0, rotation: { enabled: false } };

describe("config diff (pure)", () => {
  const side = (e: Environment, secrets?: ConfigSide["secrets"]): ConfigSide => ({
    env: e,
    ...(secrets ? { secrets } : {}),
  });

  it("classifies settings as same, different, missing or extra, and blocks only on keys the target's tier requires", () => {
    const b = env(production, (s) => {
      delete s.SMTP_HOST;
      delete s.FEATURE_NEW_CHECKOUT;
      s.SESSION_TTL_MINUTES = 60;
    });
    const d = configDiff(side(staging), side(b));
    const status = Object.fromEntries(d.settings.map((r) => [r.key, r.status]));
    expect(status).toEqual({
      FEATURE_NEW_CHECKOUT: "missing",
      MAIL_FROM: "different",
      PAYMENT_PROVIDER: "different",
      PUBLIC_BASE_URL: "different",
      REQUEST_TIMEOUT_MS: "same",
      SESSION_TTL_MINUTES: "extra",
      SMTP_HOST: "missing",
      SMTP_PORT: "same",
    });
    expect(d.blocking).toEqual(["production: app.settings.SMTP_HOST is missing: required in the production tier"]);
    expect(configDiff(side(staging), side(b), { failOnMissing: true }).blocking).toEqual([
      "production: app.settings.FEATURE_NEW_CHECKOUT is missing: staging has it, so a promotion staging → production is refused",
      "production: app.settings.SMTP_HOST is missing: required in the production tier",
    ]);
  });

  it("compares secrets by presence and last change only; a required secret without a value, or unreadable, blocks", () => {
    const a = side(staging, {
      SMTP_PASSWORD: set("2026-11-20T10:00:00.000Z"),
      PAYMENT_API_KEY: set("2026-11-01T10:00:00.000Z"),
    });
    const ok = configDiff(
      a,
      side(production, {
        SMTP_PASSWORD: set("2026-11-02T10:00:00.000Z"),
        PAYMENT_API_KEY: set("2026-11-01T10:00:00.000Z"),
      }),
    );
    expect(ok.secrets.map((r) => [r.name, r.status, r.newer])).toEqual([
      ["PAYMENT_API_KEY", "present", "same"],
      ["SMTP_PASSWORD", "present", "a"],
    ]);
    expect(ok.blocking).toEqual([]);
    const empty = configDiff(a, side(production, { SMTP_PASSWORD: none, PAYMENT_API_KEY: none }));
    expect(empty.secrets.map((r) => r.status)).toEqual(["no value in b", "no value in b"]);
    expect(empty.blocking).toEqual([
      "production: app.secrets SMTP_PASSWORD has no value: required in the production tier; set it with 'envctl secret set production SMTP_PASSWORD'",
    ]);
    const unreadable = configDiff(
      a,
      side(production, {
        SMTP_PASSWORD: { state: "unknown", reason: "AccessDeniedException: no" },
        PAYMENT_API_KEY: set("2026-11-01T10:00:00.000Z"),
      }),
    );
    expect(unreadable.blocking).toEqual([
      "production: app.secrets SMTP_PASSWORD could not be read (AccessDeniedException: no): required in the production tier, so it counts as missing",
    ]);
    const undeclared = configDiff(side(staging), side(env(production, () => undefined, ["PAYMENT_API_KEY"])));
    expect(undeclared.online).toBe(false);
    expect(undeclared.blocking).toEqual([
      "production: app.secrets SMTP_PASSWORD is missing: required in the production tier",
    ]);
  });

  it("renders Markdown tables with the blocking keys", () => {
    const md = formatDiffMarkdown(
      configDiff(
        side(staging),
        side(
          env(production, (s) => {
            delete s.SMTP_HOST;
          }),
        ),
      ),
    );
    expect(md).toContain("### staging → production");
    expect(md).toContain(
      "| `SMTP_HOST` | email-smtp.eu-west-1.amazonaws.com | – | missing in production (required in production) |",
    );
    expect(md).toContain("| `SMTP_PASSWORD` | declared | declared |  |");
    expect(md).toContain(
      "**Blocking**:\n\n- production: app.settings.SMTP_HOST is missing: required in the production tier",
    );
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * Secrets Manager's API in memory, behind the real store (lib/aws/secrets-manager.ts): values
 * are kept to check what was written; DescribeSecret and ListSecretVersionIds never return them.
 */
class FakeSecretsManager {
  readonly values = new Map<string, string[]>();
  fail?: Error;
  constructor(readonly existing: readonly string[]) {}
  async send(command: { constructor: { name: string }; input: Record<string, any> }): Promise<any> {
    if (this.fail) throw this.fail;
    const id = command.input.SecretId as string;
    if (!this.existing.includes(id))
      throw Object.assign(new Error("Secrets Manager can't find the specified secret."), {
        name: "ResourceNotFoundException",
        $metadata: { httpStatusCode: 400 },
      });
    const versions = this.values.get(id) ?? [];
    switch (command.constructor.name) {
      case "PutSecretValueCommand":
        this.values.set(id, [...versions, command.input.SecretString]);
        return { VersionId: `v${versions.length + 1}-0000-0000` };
      case "DescribeSecretCommand":
        return { ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${id}-AbCdEf`, RotationEnabled: false };
      case "ListSecretVersionIdsCommand":
        return {
          Versions: versions
            .map((_, i) => ({
              VersionId: `v${i + 1}-0000-0000`,
              VersionStages: i === versions.length - 1 ? ["AWSCURRENT"] : ["AWSPREVIOUS"],
              CreatedDate: new Date(Date.parse("2026-11-23T10:00:00.000Z") + i * 60_000),
            }))
            .slice(-2),
        };
      default:
        throw new Error(`unexpected ${command.constructor.name}`);
    }
  }
}

function cli(edit?: (dir: string) => void, opts: { interactive?: boolean; value?: string } = {}) {
  const dir = tempProject(edit);
  const lines: string[] = [];
  const deployed: string[][] = [];
  const store = new FakeSecretsManager([
    "webapp/dev/SMTP_PASSWORD",
    "webapp/staging/SMTP_PASSWORD",
    "webapp/staging/PAYMENT_API_KEY",
    "webapp/production/SMTP_PASSWORD",
    "webapp/production/PAYMENT_API_KEY",
  ]);
  const prompts: string[] = [];
  const deps: Deps = {
    cwd: dir,
    env: { ...process.env, CI: "1", GITHUB_ACTOR: "ci-bot" },
    deployer: {
      deploy: async (stacks) => {
        deployed.push([...stacks]);
      },
    },
    secrets: (e) => secretsManagerStore({ region: e.region }, store),
    readSecret: async (prompt) => {
      prompts.push(prompt);
      return opts.value ?? "s3cr3t-Value-xyz";
    },
    interactive: () => opts.interactive ?? false,
    confirm: async () => true,
    snapshots: () => ({ snapshot: async (_db, id) => id }),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
  };
  return {
    dir,
    store,
    deployed,
    prompts,
    run: async (...args: string[]) => {
      lines.length = 0;
      const status = await main(["node", "envctl", ...args], deps);
      return { status, text: lines.join("\n") };
    },
    releaseText: (e: string) => readFileSync(join(dir, "environments/releases", `${e}.json`), "utf8"),
  };
}

describe("envctl secret", () => {
  it("set writes the value read from stdin or a hidden prompt to the environment's secret, and never shows it", async () => {
    const c = cli();
    const r = await c.run("secret", "set", "dev", "SMTP_PASSWORD");
    expect(r.status).toBe(0);
    expect(c.store.values.get("webapp/dev/SMTP_PASSWORD")).toEqual(["s3cr3t-Value-xyz"]);
    expect(c.prompts).toEqual(["value of SMTP_PASSWORD for dev (input hidden): "]);
    expect(r.text).toBe(
      "dev: SMTP_PASSWORD set (webapp/dev/SMTP_PASSWORD, version v1-0000-0000); the value is not shown anywhere",
    );
    const list = await c.run("secret", "list", "dev");
    expect(list.status).toBe(0);
    expect(list.text).toBe(
      [
        "dev secrets (values are never shown)",
        "  name           state  version   versions  last changed              rotation",
        "  SMTP_PASSWORD  set    v1-0000-  1         2026-11-23T10:00:00.000Z  off",
      ].join("\n"),
    );
    expect(list.text + JSON.stringify(JSON.parse((await c.run("secret", "list", "dev", "--json")).text))).not.toContain(
      "s3cr3t",
    );
  });

  it("never takes the value as an argument, and does not echo it back", async () => {
    const c = cli();
    const r = await c.run("secret", "set", "dev", "SMTP_PASSWORD", "hunter2-as-argument");
    expect(r.status).toBe(1);
    expect(r.text).toContain("too many arguments");
    expect(r.text).not.toContain("hunter2");
    expect(c.store.values.size).toBe(0);
    expect((await c.run("secret", "set", "dev", "SMTP_PASSWORD", "--value", "x")).status).toBe(1);
    expect(c.store.values.size).toBe(0);
  });

  it("refuses undeclared names, empty values, and production without --yes when no one can confirm; writes nothing", async () => {
    const c = cli();
    const typo = await c.run("secret", "set", "dev", "SMTP_PASWORD");
    expect([typo.status, typo.text]).toEqual([
      1,
      "error: dev declares no secret SMTP_PASWORD in app.secrets (did you mean SMTP_PASSWORD?); a new secret is listed in environments/dev.ts and deployed before its value is set",
    ]);
    const prod = await c.run("secret", "set", "production", "SMTP_PASSWORD");
    expect(prod.status).toBe(1);
    expect(prod.text).toContain(
      "production (production): setting SMTP_PASSWORD changes what the running application reads; pass --yes",
    );
    expect(c.prompts).toEqual([]); // refused before reading the value
    // --yes answers the prompt; production's approvals are still needed, and asked before the value is read.
    const unapproved = await c.run("secret", "set", "production", "SMTP_PASSWORD", "--yes");
    expect(unapproved.status).toBe(1);
    expect(unapproved.text).toMatch(/^error: production.* approval/);
    expect(c.prompts).toEqual([]);
    expect(c.store.values.size).toBe(0);
    expect((await c.run("secret", "set", "staging", "SMTP_PASSWORD", "--yes")).status).toBe(0);
    expect(c.store.values.get("webapp/staging/SMTP_PASSWORD")).toEqual(["s3cr3t-Value-xyz"]);
    const empty = cli(undefined, { value: "" });
    expect((await empty.run("secret", "set", "dev", "SMTP_PASSWORD")).text).toBe(
      "error: dev: empty value for SMTP_PASSWORD: nothing written",
    );
    expect(empty.store.values.size).toBe(0);
  });

  it("explains a secret that does not exist yet (environment not deployed), and fails closed when Secrets Manager cannot be read", async () => {
    const c = cli((d) => {
      const f = join(d, "environments/dev.ts");
      writeFileSync(
        f,
        readFileSync(f, "utf8").replace('secrets: ["SMTP_PASSWORD"]', 'secrets: ["SMTP_PASSWORD", "PAYMENT_API_KEY"]'),
      );
    });
    const r = await c.run("secret", "set", "dev", "PAYMENT_API_KEY");
    expect(r).toEqual({
      status: 1,
      text: "error: secret webapp/dev/PAYMENT_API_KEY does not exist: deploy the environment first (Terraform creates the secret, envctl sets its value)",
    });
    c.store.fail = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const list = await c.run("secret", "list", "dev");
    expect(list).toEqual({
      status: 1,
      text: "error: could not describe webapp/dev/SMTP_PASSWORD: connect ECONNREFUSED 127.0.0.1:9",
    }); // never a partial table
  });
});

describe("envctl config", () => {
  it("diff without arguments compares along every promotion edge; show lists the file, the slots and the secrets' state", async () => {
    const c = cli();
    await c.run("secret", "set", "staging", "SMTP_PASSWORD");
    const all = await c.run("config", "diff");
    // production's SMTP_PASSWORD, required in its tier, has no value yet: that blocks (exit 1)
    expect(all.status).toBe(1);
    expect(all.text).toContain(
      "blocking: production: app.secrets SMTP_PASSWORD has no value: required in the production tier; set it with 'envctl secret set production SMTP_PASSWORD'",
    );
    expect(all.text.split("\n").filter((l) => l.startsWith("config diff"))).toEqual([
      "config diff dev → staging",
      "config diff staging → production",
    ]);
    expect(all.text).toMatch(
      /SMTP_PASSWORD\s+set 2026-11-23T10:00:00.000Z\s+no value\s+no value in production \(required in production\)/,
    );
    const show = await c.run("config", "show", "dev");
    expect(show.status).toBe(0);
    expect(show.text).toContain(
      `dev (development): settings ${slotSettings(dev.app.settings).checksum} in environments/dev.ts`,
    );
    expect(show.text).toMatch(/blue\s+1\.5\.0\s+100 %\s+no settings\s+differs from the file: FEATURE_NEW_CHECKOUT/);
    expect(show.text).toMatch(/SMTP_PASSWORD\s+no value\s+Password of the mail relay user/);
    const bad = await c.run("config", "show", "dev", "--slot", "purple");
    expect([bad.status, bad.text]).toEqual([
      1,
      "error: invalid arguments:\n  - config show: --slot must be blue or green",
    ]);
  });

  it("show --slot gives what a slot runs (the release file), marking keys where the file differs", async () => {
    const c = cli();
    expect((await c.run("stage", "dev")).status).toBe(0); // settings-only change: green = 1.5.0 with dev's settings
    const f = join(c.dir, "environments/dev.ts");
    writeFileSync(f, readFileSync(f, "utf8").replace("REQUEST_TIMEOUT_MS: 10000", "REQUEST_TIMEOUT_MS: 20000"));
    const green = await c.run("config", "show", "dev", "--slot", "green", "--offline");
    expect(green.text).toContain(
      `dev green: 1.5.0, settings ${slotSettings(dev.app.settings).checksum} (what the slot runs: the release file)`,
    );
    expect(green.text).toMatch(/REQUEST_TIMEOUT_MS\s+10000\s+file: 20000/);
    expect(green.text).toMatch(/SMTP_PORT\s+1025\n/);
  });
});

describe("the seeds' scenario: production lacks a setting staging has", () => {
  const withoutSmtpHost = (d: string) => {
    const f = join(d, "environments/production.ts");
    writeFileSync(f, readFileSync(f, "utf8").replace('      SMTP_HOST: "email-smtp.eu-west-1.amazonaws.com",\n', ""));
  };

  it("config diff names it and exits 1; the promotion is refused and changes nothing", async () => {
    const c = cli(withoutSmtpHost);
    expect(readFileSync(join(c.dir, "environments/production.ts"), "utf8")).not.toContain("SMTP_HOST");
    const diff = await c.run("config", "diff", "staging", "production", "--offline");
    expect(diff.status).toBe(1);
    expect(diff.text).toMatch(
      /SMTP_HOST\s+email-smtp\.eu-west-1\.amazonaws\.com\s+–\s+missing in production \(required in production\)/,
    );
    expect(diff.text).toContain(
      "blocking: production: app.settings.SMTP_HOST is missing: required in the production tier",
    );
    const before = c.releaseText("production");
    const promote = await c.run("promote", "staging", "production", "--yes");
    expect(promote.status).toBe(1);
    expect(promote.text).toBe(
      "error: staging → production refused: production lacks setting SMTP_HOST (staging defines it; required in the production tier); add it to environments/production.ts (app.settings / app.secrets) with production's own values ('envctl config diff staging production' shows every difference)",
    );
    expect(c.releaseText("production")).toBe(before);
    expect(c.deployed).toEqual([]);
  });

  it("a key staging runs with that production's tier does not require: diff shows it, --fail-on missing and the promotion refuse", async () => {
    const c = cli((d) => {
      const f = join(d, "environments/production.ts");
      writeFileSync(f, readFileSync(f, "utf8").replace("      FEATURE_NEW_CHECKOUT: false,\n", ""));
    });
    const diff = await c.run("config", "diff", "staging", "production", "--offline");
    expect(diff.status).toBe(0);
    expect(diff.text).toMatch(/FEATURE_NEW_CHECKOUT\s+true\s+–\s+missing in production$/m);
    expect((await c.run("config", "diff", "staging", "production", "--offline", "--fail-on", "missing")).status).toBe(
      1,
    );
    const promote = await c.run("promote", "staging", "production", "--yes", "--no-deploy");
    expect(promote.text).toContain("production lacks setting FEATURE_NEW_CHECKOUT (staging defines it)");
    expect(promote.status).toBe(1);
  });

  it("promote carries the target's own values; a stage without a required key is refused", async () => {
    const c = cli();
    expect((await c.run("promote", "staging", "production", "--yes", "--no-deploy")).status).toBe(0);
    const green = JSON.parse(c.releaseText("production")).slots.green;
    expect(green.settings).toEqual(slotSettings(production.app.settings));
    const d = cli((dir) => {
      const f = join(dir, "environments/dev.ts");
      writeFileSync(
        f,
        readFileSync(f, "utf8").replace('      PUBLIC_BASE_URL: "http://dev.webapp.example.com",\n', ""),
      );
    });
    const stage = await d.run("stage", "dev", "--version", "1.6.0");
    expect([stage.status, stage.text]).toEqual([
      1,
      "error: dev: a slot cannot be staged without setting PUBLIC_BASE_URL (required in the development tier); add it to environments/dev.ts (app.settings / app.secrets)",
    ]);
  });
});
