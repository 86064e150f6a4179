/**
 * Strict parsers of envctl's arguments (zod): numbers are whole, written in decimal digits and
 * in range. `Number("")` is 0, `Number("0x32")` is 50 and `Number("1e2")` is 100: none of them
 * may reach a command (`--percent ""` once moved all traffic), and an unbounded `--wait` once
 * asked the lock library for a billion retries.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError, type Problem, zodProblems } from "../config/errors.ts";
import { SlotSchema } from "../core/primitives.ts";

/** The longest bake, seconds: the environment files' own bound (lib/release/model/policy.ts). */
const MAX_BAKE_SECONDS = 86_400;

/** Decimal digits, no sign, no leading zero, no spaces, no fraction, no exponent, no prefix. */
const DIGITS = /^(?:0|[1-9][0-9]*)$/;

/** A whole number `min`-`max` given as text (what commander passes). */
export function intArg(min: number, max: number, unit = "") {
  const rule = `must be ${min}-${max}${unit} (a whole number in decimal digits)`;
  return z
    .string({ error: rule })
    .regex(DIGITS, rule)
    .transform(Number)
    .pipe(z.number().int(rule).min(min, rule).max(max, rule));
}

/** The longest `--wait` for another envctl's lock, seconds: one hour. */
export const MAX_WAIT_SECONDS = 3600;
/** The longest preview lifetime, days. */
export const MAX_TTL_DAYS = 90;

/** `--schema <requires>..<supportsUpTo>`: the database schema versions a version runs on. */
export const SchemaRangeArg = z
  .string()
  .regex(
    /^(?:0|[1-9][0-9]{0,14})\.\.(?:0|[1-9][0-9]{0,14})$/,
    "must be <requires>..<supportsUpTo>, two whole schema versions such as 2..3",
  )
  .transform((s) => {
    const [requires, supportsUpTo] = s.split("..").map(Number) as [number, number];
    return { requires, supportsUpTo };
  })
  .refine(
    (r) => r.supportsUpTo >= r.requires,
    "must not end below its start (<requires>..<supportsUpTo>, supportsUpTo ≥ requires)",
  );
/** `--to <N>` of `envctl migrate`: a schema version. */
export const SchemaVersionArg = intArg(0, Number.MAX_SAFE_INTEGER);

/** `--percent`: a slot's share of the traffic. */
export const PercentArg = intArg(0, 100);
/** `--wait <seconds>`: how long to wait for the environment's lock. */
export const WaitArg = intArg(0, MAX_WAIT_SECONDS, " seconds");
/** `--break-glass <reason>`: why a change runs outside the release calendar. */
export const BreakGlassArg = z
  .string()
  .trim()
  .min(10, "must say why in at least 10 characters (it is recorded and notified)")
  .max(200, "must be at most 200 characters");
/** `--bake <seconds>`: bake time of every canary step (the environment files' own bound). */
export const BakeArg = intArg(0, MAX_BAKE_SECONDS, " seconds");
/** `--ttl-days <n>`: days until `preview gc` destroys a preview. */
export const TtlDaysArg = intArg(1, MAX_TTL_DAYS, " days");
/** `--to <slot>`. */
export const SlotArg = z.enum(SlotSchema.options, { error: "must be blue or green" });

/**
 * Validates CLI options (keys are the flag names, camel-cased as commander gives them); every
 * problem at once, each naming its command and flag: `shift: --percent must be 0-100 (...)`.
 */
export function parseArgs<T extends z.ZodRawShape>(
  command: string,
  shape: T,
  values: Record<string, unknown>,
): z.infer<z.ZodObject<T>> {
  const parsed = z.strictObject(shape).safeParse(values);
  if (!parsed.success) {
    throw new ConfigError(
      zodProblems(command, parsed.error).map((p) => ({ ...p, path: `--${kebab(p.path)}` })),
      "invalid arguments",
    );
  }
  return parsed.data as z.infer<z.ZodObject<T>>;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Decimal digits with an optional fraction: no sign, no exponent, no prefix, no spaces. */
const DECIMAL = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/** A decimal number `min`-`max` given as text. */
export function decimalArg(min: number, max: number, unit = "") {
  const rule = `must be ${min}-${max}${unit} (a decimal number, e.g. 12.5)`;
  return z
    .string({ error: rule })
    .regex(DECIMAL, rule)
    .transform(Number)
    .pipe(z.number().min(min, rule).max(max, rule));
}

/** `--rps <n>`: requests per second the load balancer serves (traffic plan). */
export const RpsArg = decimalArg(0.001, 1_000_000, " requests per second");
/** `--error-rate <percent>`: the stable slot's error rate (traffic plan). */
export const ErrorRateArg = decimalArg(0, 100, " %");

/** Arguments (by name) and option placeholders that take an environment's name. */
const ENVIRONMENT_ARGUMENTS = new Set(["env", "from", "to", "envA", "envB", "a", "b"]);

/** A command's path below envctl: `status`, `config show`, `preview create`. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

const blank = (v: unknown) => typeof v === "string" && v.trim() === "";

/**
 * No positional argument of any command may be empty or blank (`envctl status ""` once read as
 * "every environment"), nor an option taking an environment (`--only ""`): one check for every
 * command, run by commander before its action (a preAction hook on the program). Every problem
 * at once, each naming its command and argument: `status: <env> must not be empty or blank: …`.
 */
export function refuseBlankArguments(cmd: Command): void {
  const subject = commandPath(cmd);
  const problems: Problem[] = [];
  cmd.registeredArguments.forEach((arg, i) => {
    const values: unknown[] = arg.variadic
      ? ((cmd.processedArgs[i] as unknown[] | undefined) ?? [])
      : [cmd.processedArgs[i]];
    if (!values.some(blank)) return;
    const byDefault = /\((default: [^)]*)\)/.exec(arg.description)?.[1];
    const rule = !ENVIRONMENT_ARGUMENTS.has(arg.name())
      ? ""
      : arg.required
        ? ": name an environment"
        : `: name an environment, or leave it out${byDefault ? ` (${byDefault})` : ""}`;
    problems.push({ subject, path: `<${arg.name()}>`, message: `must not be empty or blank${rule}` });
  });
  for (const option of cmd.options) {
    if (!/<env>/.test(option.flags) || !blank(cmd.getOptionValue(option.attributeName()))) continue;
    problems.push({
      subject,
      path: option.long ?? option.flags,
      message: "must not be empty or blank: name an environment",
    });
  }
  if (problems.length > 0) throw new ConfigError(problems, "invalid arguments");
}
