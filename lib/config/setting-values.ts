/**
 * The value rules of one catalogued setting (lib/config/settings.ts): its type, range, pattern or
 * enum, and the plain-text rules every string obeys (lib/config/secret-likeness.ts). Messages
 * never repeat the value.
 */
import type { Tier } from "../core/primitives.ts";
import { plainTextProblems } from "./secret-likeness.ts";

export interface SpecCommon {
  /** What the application does with it (shown by `envctl config show`). */
  readonly description: string;
  /** Tiers whose environments must define it before a slot can be staged or promoted. @default none */
  readonly requiredIn?: readonly Tier[];
}

/** The type and rules of one setting. */
export type SettingSpec = SpecCommon &
  (
    | { readonly type: "string"; readonly maxLength?: number; readonly pattern?: RegExp; readonly patternRule?: string }
    | { readonly type: "integer" | "number"; readonly min?: number; readonly max?: number }
    | { readonly type: "boolean" }
    | { readonly type: "url"; readonly protocols?: readonly ("http" | "https")[] }
    | { readonly type: "email" }
    | { readonly type: "hostname" }
    | { readonly type: "enum"; readonly values: readonly string[] }
  );

export type SecretSpec = SpecCommon;

/** What is wrong with one value of a catalogued setting (empty when nothing). */
export function valueProblems(spec: SettingSpec, value: unknown): string[] {
  switch (spec.type) {
    case "boolean":
      return typeof value === "boolean" ? [] : [`must be a boolean (true or false), not ${describeType(value)}`];
    case "integer":
    case "number": {
      if (
        typeof value !== "number" ||
        !Number.isFinite(value) ||
        (spec.type === "integer" && !Number.isInteger(value))
      ) {
        return [
          `must be ${spec.type === "integer" ? "an integer" : "a number"}${range(spec)}, not ${describeType(value)}`,
        ];
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))
        return [`must be${range(spec)} (got ${value})`];
      return [];
    }
    default: {
      if (typeof value !== "string")
        return [`must be ${article(spec.type)} ${spec.type} (a string), not ${describeType(value)}`];
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
  if (typeof v === "number")
    return Number.isFinite(v) ? (Number.isInteger(v) ? "an integer" : "a fractional number") : String(v);
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
// One dot-atom local part, a host name domain: what mail relays accept without quoting.
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/;

function stringRuleProblems(
  spec: Extract<SettingSpec, { type: "string" | "url" | "email" | "hostname" | "enum" }>,
  value: string,
): string[] {
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
      return HOSTNAME.test(value)
        ? []
        : ["must be a host name (lower-case labels separated by dots, no scheme or port)"];
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
      if (!protocols.includes(url.protocol.replace(/:$/, "") as "http" | "https"))
        return [`must use ${protocols.join(" or ")}`];
      if (url.username || url.password)
        return ["must not carry credentials (user:password@): put the password in app.secrets"];
      return [];
    }
  }
}
