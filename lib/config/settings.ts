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
 */
import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";
import type { SettingValue } from "./primitives.ts";
import type { Tier } from "./schema.ts";

const ALL_TIERS: readonly Tier[] = ["development", "staging", "production"];

interface SpecCommon {
  /** What the application does with it (shown by `envctl config show`). */
  readonly description: string;
  /** Tiers whose environments must define it before a slot can be staged or promoted. @default none */
  readonly requiredIn?: readonly Tier[];
}

/** The type and rules of one setting. */
export type SettingSpec = SpecCommon & (
  | { readonly type: "string"; readonly maxLength?: number; readonly pattern?: RegExp; readonly patternRule?: string }
  | { readonly type: "integer" | "number"; readonly min?: number; readonly max?: number }
  | { readonly type: "boolean" }
  | { readonly type: "url"; readonly protocols?: readonly ("http" | "https")[] }
  | { readonly type: "email" }
  | { readonly type: "hostname" }
  | { readonly type: "enum"; readonly values: readonly string[] }
);

export type SecretSpec = SpecCommon;

// ------------------------------------------------------------------------ the catalogue

/** Every plain setting the application reads. A key not listed here is refused. */
export const SETTINGS: Readonly<Record<string, SettingSpec>> = {
  PUBLIC_BASE_URL: { type: "url", description: "Address users reach the application at (links in e-mails)", requiredIn: ALL_TIERS },
  SMTP_HOST: { type: "hostname", description: "Mail relay for notification e-mails", requiredIn: ["staging", "production"] },
  SMTP_PORT: { type: "integer", min: 1, max: 65535, description: "Port of the mail relay", requiredIn: ["staging", "production"] },
  MAIL_FROM: { type: "email", description: "Sender address of notification e-mails", requiredIn: ["staging", "production"] },
  FEATURE_NEW_CHECKOUT: { type: "boolean", description: "Serve the new checkout flow" },
  REQUEST_TIMEOUT_MS: { type: "integer", min: 100, max: 60_000, description: "Timeout of calls to other services, milliseconds" },
  SESSION_TTL_MINUTES: { type: "integer", min: 5, max: 1440, description: "Idle time before a session expires, minutes" },
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
  "ENVIRONMENT", "LOG_LEVEL", "PORT", "AWS_REGION", "APP_SLOT", "APP_VERSION", "APP_SETTINGS_CHECKSUM",
  "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_SECRET_ARN", "REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "REDIS_USER",
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
  lambdaArn: z.string().regex(/^arn:aws[a-z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}$/, "must be a Lambda function ARN"),
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
export function appProblems(settings: Readonly<Record<string, unknown>>, secrets: readonly { name: string }[]): KeyProblem[] {
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
      at(`is a secret in the catalogue (lib/config/settings.ts): list it in app.secrets and set its value with 'envctl secret set <env> ${key}', never in a file`);
      continue;
    }
    const spec = SETTINGS[key];
    if (!spec) {
      at(`is not in the settings catalogue (lib/config/settings.ts)${didYouMean(key, Object.keys(SETTINGS))}`);
      continue;
    }
    for (const m of valueProblems(spec, value)) at(m);
  }
  secrets.forEach((s, i) => {
    if (!KEY_PATTERN.test(s.name)) return; // the schema reports it
    const at = (message: string) => problems.push({ path: ["secrets", i, "name"], message });
    if (secrets.findIndex((x) => x.name === s.name) !== i) at(`${s.name} is listed more than once`);
    else if (SETTINGS[s.name]) at(`${s.name} is a plain setting in the catalogue (lib/config/settings.ts): give its value in app.settings`);
    else if (!SECRETS[s.name]) at(`${s.name} is not a secret in the catalogue (lib/config/settings.ts)${didYouMean(s.name, Object.keys(SECRETS))}`);
  });
  return problems;
}

function didYouMean(key: string, known: readonly string[]): string {
  if (known.length === 0) return "";
  const best = closest(key, known);
  return distance(key, best) <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean ${best}?` : `; known: ${known.join(", ")}`;
}

/** What is wrong with one value of a catalogued setting (empty when nothing). */
export function valueProblems(spec: SettingSpec, value: unknown): string[] {
  switch (spec.type) {
    case "boolean":
      return typeof value === "boolean" ? [] : [`must be a boolean (true or false), not ${describeType(value)}`];
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value) || (spec.type === "integer" && !Number.isInteger(value))) {
        return [`must be ${spec.type === "integer" ? "an integer" : "a number"}${range(spec)}, not ${describeType(value)}`];
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) return [`must be${range(spec)} (got ${value})`];
      return [];
    }
    default: {
      if (typeof value !== "string") return [`must be ${article(spec.type)} ${spec.type} (a string), not ${describeType(value)}`];
      if (value === "") return ["must not be empty (leave the key out instead)"];
      const plain = plainTextProblems(value);
      if (plain.length > 0) return plain;
      return stringRuleProblems(spec, value);
    }
  }
}

function range(spec: { min?: number; max?: number }): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` ${spec.min}-${spec.max}`;
  if (spec.min !== undefined) return ` ≥ ${spec.min}`;
  if (spec.max !== undefined) return ` ≤ ${spec.max}`;
  return "";
}

const article = (word: string) => (/^[aeiou]/.test(word) ? "an" : "a");

function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return Number.isFinite(v) ? (Number.isInteger(v) ? "an integer" : "a fractional number") : String(v);
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
// One dot-atom local part, a host name domain: what mail relays accept without quoting.
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/;

function stringRuleProblems(spec: Extract<SettingSpec, { type: "string" | "url" | "email" | "hostname" | "enum" }>, value: string): string[] {
  switch (spec.type) {
    case "string": {
      const max = spec.maxLength ?? 1024;
      if (value.length > max) return [`must be at most ${max} characters (got ${value.length})`];
      if (spec.pattern && !spec.pattern.test(value)) return [`must match ${spec.patternRule ?? String(spec.pattern)}`];
      return [];
    }
    case "enum":
      return spec.values.includes(value) ? [] : [`must be one of ${spec.values.join(", ")}`];
    case "hostname":
      return HOSTNAME.test(value) ? [] : ["must be a host name (lower-case labels separated by dots, no scheme or port)"];
    case "email":
      return EMAIL.test(value) ? [] : ["must be an e-mail address such as noreply@example.com"];
    case "url": {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return ["must be an absolute URL such as https://example.com"];
      }
      const protocols = spec.protocols ?? ["http", "https"];
      if (!protocols.includes(url.protocol.replace(/:$/, "") as "http" | "https")) return [`must use ${protocols.join(" or ")}`];
      if (url.username || url.password) return ["must not carry credentials (user:password@): put the password in app.secrets"];
      return [];
    }
  }
}

/**
 * Rules of every plain string: one line, nothing that looks like a secret. Messages never repeat
 * the value. (Terraform template sequences are refused for the whole environment file by the one
 * generic check of lib/config/template.ts.)
 */
export function plainTextProblems(value: string): string[] {
  if (/[\u0000-\u001f\u007f]/.test(value)) return ["must be one line without control characters (it becomes an environment variable)"];
  const secret = secretLikeness(value);
  return secret ? [`looks like a secret (${secret}): declare it in app.secrets and set its value with 'envctl secret set'`] : [];
}

/** Known credential formats; matched anywhere in the value. */
const CREDENTIAL_PATTERNS: readonly [RegExp, string][] = [
  [/-----BEGIN[A-Z ]*-----/, "a PEM block"],
  [/\b(AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}/, "a GitHub token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}/, "a Stripe key"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, "a JSON Web Token"],
  [/:\/\/[^/\s:@]+:[^/\s@]+@/, "a URL with a password"],
];

/** Why a value looks like a secret, or undefined. */
export function secretLikeness(value: string): string | undefined {
  for (const [pattern, what] of CREDENTIAL_PATTERNS) if (pattern.test(value)) return what;
  // Tokens of base64/base64url/hex characters; separators of host names, paths and sentences split them.
  for (const token of value.split(/[^A-Za-z0-9+/=_-]+/).flatMap((t) => t.split(/(?<=[a-z])\/(?=[a-z])/))) {
    if (/^[0-9a-fA-F]{32,}$/.test(token)) return `a ${token.length}-character hex string`;
    if (token.length >= 20 && randomLooking(token) && shannonEntropy(token) >= 4) return `a ${token.length}-character high-entropy string`;
  }
  return undefined;
}

/**
 * Lower case, upper case and digits all present; or two of them, the rarer making up at least a
 * quarter (random tokens mix evenly; `checkout-v2-enabled` or `ConfigurationLoader` do not).
 */
function randomLooking(s: string): boolean {
  const counts = [/[a-z]/g, /[A-Z]/g, /[0-9]/g].map((r) => s.match(r)?.length ?? 0).filter((n) => n > 0);
  if (counts.length === 3) return true;
  if (counts.length < 2) return false;
  return Math.min(...counts) / (counts[0]! + counts[1]!) >= 0.25;
}

/** Bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

// ------------------------------------------------------------------------ tiers

/** Keys an environment of `tier` must define. */
export function requiredKeys(tier: Tier): { settings: string[]; secrets: string[] } {
  const req = (c: Readonly<Record<string, SpecCommon>>) => Object.keys(c).filter((k) => c[k]!.requiredIn?.includes(tier)).sort();
  return { settings: req(SETTINGS), secrets: req(SECRETS) };
}

/** What a minimal `app` block looks like to the functions below. */
export interface AppKeys {
  readonly tier: Tier;
  readonly app: { readonly settings: Readonly<Record<string, SettingValue>>; readonly secrets: readonly { readonly name: string }[] };
}

/** Keys the environment's tier requires that it does not define. */
export function missingRequired(env: AppKeys): { settings: string[]; secrets: string[] } {
  const req = requiredKeys(env.tier);
  const secrets = new Set(env.app.secrets.map((s) => s.name));
  return { settings: req.settings.filter((k) => !(k in env.app.settings)), secrets: req.secrets.filter((k) => !secrets.has(k)) };
}

/** A setting's value as the application sees it (an environment variable). */
export function settingText(v: SettingValue): string {
  return typeof v === "string" ? v : String(v);
}

/** Every value as text, keys sorted. */
export function settingsText(values: Readonly<Record<string, SettingValue>>): Record<string, string> {
  return Object.fromEntries(Object.keys(values).sort().map((k) => [k, settingText(values[k]!)]));
}
