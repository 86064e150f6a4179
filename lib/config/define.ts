import { ConfigError, zodProblems } from "./errors.ts";
import { type Environment, type EnvironmentInput, EnvironmentSchema, NameSchema } from "./schema.ts";

/** Subject of the problems of a definition without a valid name (the loader names its file instead). */
export const UNNAMED = "(unnamed environment)";

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
  return parsed.data;
}
