import { ConfigError, zodProblems } from "./errors.ts";
import { type Environment, type EnvironmentInput, EnvironmentSchema, NameSchema } from "./schema.ts";

/** Subject of the problems of a definition without a valid name (the loader names its file instead). */
export const UNNAMED = "(unnamed environment)";

/** Each definition defineEnvironment returned, with its JSON then: unchanged since, it needs no second validation. */
const validated = new WeakMap<object, string>();

/**
 * The value as defineEnvironment validated and returned it, when it is still exactly that (its JSON
 * unchanged: a file that edits the result afterwards is validated again by the loader); else undefined.
 */
export function stillValidated(value: unknown): Environment | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const json = validated.get(value);
  return json !== undefined && json === JSON.stringify(value) ? (value as Environment) : undefined;
}

/**
 * Validates one environment definition and returns it typed, with defaults applied.
 * Throws a {@link ConfigError} listing every problem of this environment at once.
 */
export function defineEnvironment(input: EnvironmentInput): Environment {
  const parsed = EnvironmentSchema.safeParse(input);
  if (!parsed.success) {
    const named = NameSchema.safeParse((input as { name?: unknown } | undefined)?.name);
    const subject = named.success ? named.data : UNNAMED;
    throw new ConfigError(zodProblems(subject, parsed.error));
  }
  validated.set(parsed.data, JSON.stringify(parsed.data));
  return parsed.data;
}
