/**
 * Application settings and secrets: the catalogue (every key the application knows, its type and
 * rules, and the tiers that require it), declared ONCE here, and the validation of an
 * environment's `app` block against it.
 *
 * - `app.settings`: plain values (strings, numbers, booleans, URLs, e-mail addresses, host
 *   names). They become part of what a slot runs (the release file's `slots.<slot>.settings`,
 *   with a checksum) and reach the application as environment variables.
 * - `app.secrets`: names only. Values live in AWS Secrets Manager (`envctl secret set`), never in
 *   a file, the synthesized JSON, a plan or the state.
 *
 * Whether an environment has every key its tier requires is checked where settings are released
 * (stage, promote: lib/settings/release.ts) and compared (`envctl config diff`), not at load: the
 * slots keep running what they were promoted with, whatever the file says today.
 *
 * The rules of one value are in lib/config/setting-values.ts, the "looks like a secret" check in
 * lib/config/secret-likeness.ts (both re-exported here).
 */
import { z } from "zod";
import { REGION_PATTERN, type SettingValue, TIERS, type Tier } from "../core/primitives.ts";
import { type SecretSpec, type SettingSpec, type SpecCommon, valueProblems } from "./setting-values.ts";
import { didYouMean } from "./suggest.ts";

export { plainTextProblems, secretLikeness, shannonEntropy } from "./secret-likeness.ts";
export { type SecretSpec, type SettingSpec, valueProblems } from "./setting-values.ts";

const ALL_TIERS: readonly Tier[] = TIERS;

// ------------------------------------------------------------------------ the catalogue

/** Every plain setting the application reads. A key not listed here is refused. */
export const SETTINGS: Readonly<Record<string, SettingSpec>> = {
  PUBLIC_BASE_URL: {
    type: "url",
    description: "Address users reach the application at (links in e-mails)",
    requiredIn: ALL_TIERS,
  },
  SMTP_HOST: {
    type: "hostname",
    description: "Mail relay for notification e-mails",
    requiredIn: ["staging", "production"],
  },
  SMTP_PORT: {
    type: "integer",
    min: 1,
    max: 65535,
    description: "Port of the mail relay",
    requiredIn: ["staging", "production"],
  },
  MAIL_FROM: {
    type: "email",
    description: "Sender address of notification e-mails",
    requiredIn: ["staging", "production"],
  },
  FEATURE_NEW_CHECKOUT: { type: "boolean", description: "Serve the new checkout flow" },
  REQUEST_TIMEOUT_MS: {
    type: "integer",
    min: 100,
    max: 60_000,
    description: "Timeout of calls to other services, milliseconds",
  },
  SESSION_TTL_MINUTES: {
    type: "integer",
    min: 5,
    max: 1440,
    description: "Idle time before a session expires, minutes",
  },
  PAYMENT_PROVIDER: { type: "enum", values: ["stripe", "sandbox"], description: "Payment backend" },
};

/** Every secret the application reads (by ARN, with its own role). A name not listed here is refused. */
export const SECRETS: Readonly<Record<string, SecretSpec>> = {
  SMTP_PASSWORD: { description: "Password of the mail relay user", requiredIn: ["staging", "production"] },
  PAYMENT_API_KEY: { description: "API key of the payment provider" },
  SESSION_SIGNING_KEY: { description: "Key signing session cookies" },
};

/**
 * Environment variables the platform sets itself (lib/stacks): no setting may take these names,
 * nor may a secret's `<NAME>_SECRET_ARN` variable.
 */
export const PLATFORM_VARIABLES: readonly string[] = [
  "ENVIRONMENT",
  "LOG_LEVEL",
  "PORT",
  "AWS_REGION",
  "APP_SLOT",
  "APP_VERSION",
  "APP_SETTINGS_CHECKSUM",
  "DATABASE_HOST",
  "DATABASE_PORT",
  "DATABASE_NAME",
  "DATABASE_SECRET_ARN",
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_TLS",
  "REDIS_USER",
];

/** Environment variable carrying a secret's ARN (the application resolves it with its own role). */
export function secretArnVariable(name: string): string {
  return `${name}_SECRET_ARN`;
}

// ------------------------------------------------------------------------ schema pieces

/** Setting and secret names: environment variable names. */
export const KEY_PATTERN = /^[A-Z][A-Z0-9_]{0,127}$/;
const KeySchema = z.string().regex(KEY_PATTERN, "must be an UPPER_SNAKE_CASE name");

/** Rotation of a secret by a Lambda function (AWS rotates only through one for application secrets). */
export const RotationSchema = z.strictObject({
  /** The rotation function. */
  lambdaArn: z
    .string()
    .regex(
      new RegExp(`^arn:aws[a-z-]*:lambda:${REGION_PATTERN.source}:\\d{12}:function:[A-Za-z0-9_-]{1,64}$`),
      "must be a Lambda function ARN",
    ),
  /** Execution role of that function: besides the application, the only principal allowed to read the value. */
  lambdaRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "must be an IAM role ARN"),
  /** Rotate every this many days (Secrets Manager allows 1-1000). */
  everyDays: z.number().int().min(1).max(1000),
});

/** A secret: its name, or `{ name, rotation }`. Never a value. */
export const SecretEntrySchema = z.preprocess(
  (v) => (typeof v === "string" ? { name: v } : v),
  z.strictObject({ name: KeySchema, rotation: RotationSchema.optional() }),
);
export type SecretEntry = z.infer<typeof SecretEntrySchema>;

/** `app.settings` before the catalogue check: any key, any value (the check names what is wrong). */
export const SettingsInputSchema = z.record(z.string(), z.unknown());

// ------------------------------------------------------------------------ validation

/** A problem of one key, relative to `app`. */
export interface KeyProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Every problem of an `app` block: catalogue, types, rules, secret-looking values, both lists. */
export function appProblems(
  settings: Readonly<Record<string, unknown>>,
  secrets: readonly { name: string }[],
): KeyProblem[] {
  const problems: KeyProblem[] = [];
  const secretNames = new Set(secrets.map((s) => s.name));
  for (const [key, value] of Object.entries(settings)) {
    const at = (message: string) => problems.push({ path: ["settings", key], message });
    if (!KEY_PATTERN.test(key)) {
      at("must be an UPPER_SNAKE_CASE name (an environment variable)");
      continue;
    }
    if (secretNames.has(key)) {
      at("is listed in app.secrets too: a name is either a plain setting or a secret, never both");
      continue;
    }
    if (SECRETS[key]) {
      at(
        `is a secret in the catalogue (lib/config/settings.ts): list it in app.secrets and set its ` +
          `value with 'envctl secret set <env> ${key}', never in a file`,
      );
      continue;
    }
    const spec = SETTINGS[key];
    if (!spec) {
      at(`is not in the settings catalogue (lib/config/settings.ts)${suggestion(key, Object.keys(SETTINGS))}`);
      continue;
    }
    for (const m of valueProblems(spec, value)) at(m);
  }
  secrets.forEach((s, i) => {
    if (!KEY_PATTERN.test(s.name)) return; // the schema reports it
    const at = (message: string) => problems.push({ path: ["secrets", i, "name"], message });
    if (secrets.findIndex((x) => x.name === s.name) !== i) at(`${s.name} is listed more than once`);
    else if (SETTINGS[s.name])
      at(`${s.name} is a plain setting in the catalogue (lib/config/settings.ts): give its value in app.settings`);
    else if (!SECRETS[s.name])
      at(
        `${s.name} is not a secret in the catalogue (lib/config/settings.ts)${suggestion(s.name, Object.keys(SECRETS))}`,
      );
  });
  return problems;
}

/** "; did you mean SMTP_HOST?" (lib/config/suggest.ts), else "; known: <every name>". */
function suggestion(key: string, known: readonly string[]): string {
  if (known.length === 0) return "";
  const guess = didYouMean(key, known);
  return guess ? `; did you mean ${guess}?` : `; known: ${known.join(", ")}`;
}

// ------------------------------------------------------------------------ tiers

/** Keys an environment of `tier` must define. */
export function requiredKeys(tier: Tier): { settings: string[]; secrets: string[] } {
  const req = (c: Readonly<Record<string, SpecCommon>>) =>
    Object.keys(c)
      .filter((k) => c[k]!.requiredIn?.includes(tier))
      .sort();
  return { settings: req(SETTINGS), secrets: req(SECRETS) };
}

/** What a minimal `app` block looks like to the functions below. */
export interface AppKeys {
  readonly tier: Tier;
  readonly app: {
    readonly settings: Readonly<Record<string, SettingValue>>;
    readonly secrets: readonly { readonly name: string }[];
  };
}

/** Keys the environment's tier requires that it does not define. */
export function missingRequired(env: AppKeys): { settings: string[]; secrets: string[] } {
  const req = requiredKeys(env.tier);
  const secrets = new Set(env.app.secrets.map((s) => s.name));
  return {
    settings: req.settings.filter((k) => !(k in env.app.settings)),
    secrets: req.secrets.filter((k) => !secrets.has(k)),
  };
}

/** A setting's value as the application sees it (an environment variable). */
export function settingText(v: SettingValue): string {
  return typeof v === "string" ? v : String(v);
}

/** Every value as text, keys sorted. */
export function settingsText(values: Readonly<Record<string, SettingValue>>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(values)
      .sort()
      .map((k) => [k, settingText(values[k]!)]),
  );
}
