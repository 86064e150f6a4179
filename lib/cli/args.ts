/**
 * Strict parsers of envctl's arguments (zod): numbers are whole, written in decimal digits and
 * in range. `Number("")` is 0, `Number("0x32")` is 50 and `Number("1e2")` is 100: none of them
 * may reach a command (`--percent ""` once moved all traffic), and an unbounded `--wait` once
 * asked the lock library for a billion retries.
 */
import { z } from "zod";
import { ConfigError, zodProblems } from "../config/errors.ts";
import { SlotSchema } from "../config/primitives.ts";

/** The longest bake, seconds: the environment files' own bound (lib/release/policy.ts). */
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

/** `--percent`: a slot's share of the traffic. */
export const PercentArg = intArg(0, 100);
/** `--wait <seconds>`: how long to wait for the environment's lock. */
export const WaitArg = intArg(0, MAX_WAIT_SECONDS, " seconds");
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
export function parseArgs<T extends z.ZodRawShape>(command: string, shape: T, values: Record<string, unknown>): z.infer<z.ZodObject<T>> {
  const parsed = z.strictObject(shape).safeParse(values);
  if (!parsed.success) {
    throw new ConfigError(zodProblems(command, parsed.error).map((p) => ({ ...p, path: `--${kebab(p.path)}` })), "invalid arguments");
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
