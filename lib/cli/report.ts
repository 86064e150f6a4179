import { ConfigError } from "../config/errors.ts";
import { EngineError } from "../engine/engine.ts";
import { PolicyError } from "../policy/errors.ts";
import { ChangedStacksError } from "../review/changed-stacks.ts";
import { EngineMissingError } from "../review/drift.ts";

/** Errors the user caused and can fix: reported as text, never with a stack trace. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "UserError";
  }
}

/** Exit code and message for an error; stack traces only for genuine bugs. */
export function describeError(err: unknown): { code: number; text: string } {
  if (err instanceof ConfigError || err instanceof PolicyError) return { code: 1, text: `error: ${err.message}` };
  if (err instanceof UserError) return { code: err.exitCode, text: `error: ${err.message}` };
  if (err instanceof ChangedStacksError || err instanceof EngineMissingError) return { code: 1, text: `error: ${err.message}` };
  // The engine ran and failed (credentials, state, provider): its own words, no stack trace of ours.
  if (err instanceof EngineError) return { code: 1, text: `error: ${err.message}` };
  return { code: 70, text: `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` };
}

/** Runs `main`; on failure prints the report to stderr and exits with its code. */
export async function runOrReport(main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (err) {
    const { code, text } = describeError(err);
    process.stderr.write(`${text}\n`);
    process.exit(code);
  }
}
