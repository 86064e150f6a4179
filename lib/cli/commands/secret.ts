/**
 * `envctl secret set <env> <name>` and `envctl secret list <env>`: application secret values go
 * straight to Secrets Manager (from a hidden prompt or stdin, never an argument: arguments end up
 * in shell history and process lists); listing shows names, versions and dates, never values.
 */
import type { Command } from "commander";
import type { Project } from "../../config/load.ts";
import type { Environment } from "../../config/schema.ts";
import { didYouMean } from "../../config/suggest.ts";
import { RefusedError } from "../../release/model/errors.ts";
import type { Approval } from "../../release/ports/index.ts";
import { secretName } from "../../settings/names.ts";
import { type SecretStatus, type SecretStore, SecretStoreError } from "../../settings/secret-store.ts";
import { examples } from "../help.ts";
import { UserError } from "../report.ts";

export interface SecretCommandDeps {
  readonly load: () => Promise<Project>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Secrets Manager of an environment. */
  readonly secrets: (env: Environment) => SecretStore;
  /** Reads a value: all of stdin when it is piped, else a hidden prompt on the terminal. */
  readonly readSecret: (prompt: string) => Promise<string>;
  /** True when the value would come from a terminal (a person can be asked to confirm). */
  readonly interactive: () => boolean;
  readonly confirm: (question: string) => Promise<boolean>;
  /**
   * The environment's approvals for this change (the release context's approve port): refuses
   * (nothing written) unless they are met; environments that require none pass at once.
   */
  readonly approve: (env: string, command: string, what: Approval) => Promise<void>;
}

/** Secrets Manager's limit for a SecretString. */
export const MAX_SECRET_BYTES = 65_536;

export function registerSecretCommands(program: Command, d: SecretCommandDeps): void {
  const secret = examples(
    program
      .command("secret")
      .description("application secrets in AWS Secrets Manager: values are written, never shown"),
    [
      ["envctl secret set production SMTP_PASSWORD", "a hidden prompt, asked twice"],
      ["envctl secret list production", "state, versions, last change, rotation; never values"],
    ],
  );

  examples(
    secret
      .command("set")
      .argument("<env>")
      .argument("<name>", "a secret the environment declares (app.secrets)")
      .description("write a new value of a secret (from stdin when piped, else a hidden prompt; never an argument)")
      .option("-y, --yes", "do not ask for confirmation (production; required when the value comes from stdin)")
      .option("--json", "machine-readable output"),
    [
      ["envctl secret set staging PAYMENT_API_KEY", "a hidden prompt"],
      [
        "vault read -field=key secret/pay | envctl secret set production PAYMENT_API_KEY --yes",
        "from stdin, never an argument",
      ],
    ],
  ).action(async (envName: string, name: string, o: { yes?: boolean; json?: boolean }) => {
    const e = await declared(d, envName, name);
    const id = secretName(e.project, e.name, name);
    const interactive = d.interactive();
    if (e.tier === "production" && !o.yes && !interactive)
      throw new UserError(
        `${e.name} (production): setting ` +
          `${name} changes what the running application reads; pass --yes to confirm (the value comes from stdin, so there is no prompt)`,
      );
    // Approvals before the value is asked for: a refused change never reads a secret.
    await d.approve(e.name, `secret set ${e.name} ${name}`, {
      summary: `envctl secret set ${e.name} ${name}: write a new value of ${name} (${id}); the running application reads it when it next fetches it`,
      stacks: [],
    });
    const value = await d.readSecret(`value of ${name} for ${e.name} (input hidden): `);
    if (value.length === 0) throw new UserError(`${e.name}: empty value for ${name}: nothing written`);
    if (Buffer.byteLength(value, "utf8") > MAX_SECRET_BYTES)
      throw new UserError(
        `${e.name}: the value of ${name} is larger than Secrets Manager's ${MAX_SECRET_BYTES} bytes: nothing written`,
      );
    if (
      e.tier === "production" &&
      !o.yes &&
      !(await d.confirm(
        `Set ${name} of ${e.name} (production)? The running application reads the new value when it next fetches it.`,
      ))
    ) {
      throw new UserError("cancelled, nothing written");
    }
    const { versionId } = await storeCall(() => d.secrets(e).put(id, value));
    d.out(
      o.json
        ? JSON.stringify({ environment: e.name, name, secret: id, versionId })
        : `${e.name}: ${name} set (${id}, version ${versionId}); the value is not shown anywhere`,
    );
  });

  examples(
    secret
      .command("list")
      .argument("<env>")
      .description(
        "the environment's secrets: state, current version, versions kept, last change, rotation (never values)",
      )
      .option("--json", "machine-readable output"),
    [
      ["envctl secret list production", "one line per declared secret"],
      ["envctl secret list staging --json", "machine-readable"],
    ],
  ).action(async (envName: string, o: { json?: boolean }) => {
    const e = await environment(d, envName);
    const store = d.secrets(e);
    const rows = await storeCall(() =>
      Promise.all(
        e.app.secrets.map(async (s) => ({
          name: s.name,
          ...(await store.describe(secretName(e.project, e.name, s.name))),
        })),
      ),
    );
    if (o.json) return d.out(JSON.stringify({ environment: e.name, secrets: rows }, null, 2));
    if (rows.length === 0) return d.out(`${e.name} declares no secrets (app.secrets)`);
    d.out(formatSecretList(e.name, rows));
  });
}

/** The table of `secret list`. */
export function formatSecretList(env: string, rows: readonly (SecretStatus & { name: string })[]): string {
  const state = (r: SecretStatus) => (r.state === "set" ? "set" : r.state === "empty" ? "no value" : "not created");
  const table = [
    ["name", "state", "version", "versions", "last changed", "rotation"],
    ...rows.map((r) => [
      r.name,
      state(r),
      r.currentVersion ? r.currentVersion.slice(0, 8) : "–",
      String(r.versions),
      r.lastChanged ?? "–",
      r.rotation.enabled
        ? `every ${r.rotation.everyDays ?? "?"} d${r.rotation.next ? `, next ${r.rotation.next}` : ""}`
        : "off",
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return [
    `${env} secrets (values are never shown)`,
    ...table.map(
      (r) =>
        `  ${r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd()}`,
    ),
  ].join("\n");
}

async function environment(d: SecretCommandDeps, name: string): Promise<Environment> {
  const project = await d.load();
  const e = project.environments.find((x) => x.config.name === name);
  if (!e)
    throw new RefusedError(
      `unknown environment ${name} (known: ${project.environments.map((x) => x.config.name).join(", ")})`,
    );
  return e.config;
}

async function declared(d: SecretCommandDeps, envName: string, name: string): Promise<Environment> {
  const e = await environment(d, envName);
  const names = e.app.secrets.map((s) => s.name);
  if (!names.includes(name)) {
    const near = didYouMean(name, names);
    const hint = near ? `did you mean ${near}?` : `it declares ${names.length ? names.join(", ") : "none"}`;
    throw new RefusedError(
      `${e.name} declares no secret ${name} in app.secrets (${hint}); a new secret is listed in environments/${e.name}.ts and deployed before its value is set`,
    );
  }
  return e;
}

async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SecretStoreError) throw new UserError(err.message);
    throw err;
  }
}
