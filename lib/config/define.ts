import { EnvironmentSchema, type Environment, type EnvironmentInput } from "./schema.ts";
import { ConfigError, zodProblems } from "./errors.ts";

/**
 * Validates one environment definition and returns it typed, with defaults applied.
 * Throws a {@link ConfigError} listing every problem of this environment at once.
 */
export function defineEnvironment(input: EnvironmentInput): Environment {
  const parsed = EnvironmentSchema.safeParse(input);
  if (!parsed.success) {
    const subject = typeof input?.name === "string" && input.name !== "" ? input.name : "(unnamed environment)";
    throw new ConfigError(zodProblems(subject, parsed.error));
  }
  return parsed.data;
}
