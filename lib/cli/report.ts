/** How envctl reports an error: its exit code (lib/cli/exit-codes.ts) and its text; stack traces only for bugs. */
import { relative } from "node:path";
import { ConfigError } from "../config/errors.ts";
import { readRelease } from "../config/load.ts";
import { EngineError } from "../engine/engine.ts";
import { StoreError } from "../fsutil/errors.ts";
import { LockedError } from "../fsutil/file-lock.ts";
import { PolicyError } from "../policy/errors.ts";
import {
  DeployFailedError,
  GateStoppedError,
  InterruptedError,
  InvalidReleaseFile,
  MigrationFailedError,
  RefusedError,
  SupersededError,
} from "../release/model/errors.ts";
import { ChangedStacksError } from "../review/changed-stacks.ts";
import { EngineMissingError } from "../review/drift.ts";
import { EXIT } from "./exit-codes.ts";

/** Errors the user caused and can fix: reported as text, never with a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.invalid,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** Exit code and message for an error; stack traces only for genuine bugs. */
export function describeError(err: unknown): { code: number; text: string } {
  if (err instanceof ConfigError || err instanceof PolicyError)
    return { code: EXIT.invalid, text: `error: ${err.message}` };
  if (err instanceof UserError) return { code: err.exitCode, text: `error: ${err.message}` };
  if (err instanceof ChangedStacksError || err instanceof EngineMissingError)
    return { code: EXIT.invalid, text: `error: ${err.message}` };
  // The engine ran and failed (credentials, state, provider): its own words, no stack trace of ours.
  if (err instanceof EngineError) return { code: EXIT.invalid, text: `error: ${err.message}` };
  return {
    code: EXIT.internal,
    text: `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  };
}

/** Exit code and message of any error of an envctl command: the release's and the file system's, then {@link describeError}. */
export function classify(e: unknown): { code: number; text: string } {
  if (e instanceof RefusedError || e instanceof StoreError) return { code: EXIT.invalid, text: `error: ${e.message}` };
  if (e instanceof InvalidReleaseFile) return { code: EXIT.invalid, text: `error: ${releaseFileProblems(e).message}` };
  if (e instanceof LockedError) return { code: EXIT.locked, text: `error: ${e.message}` };
  if (e instanceof GateStoppedError) return { code: EXIT.gateStopped, text: `error: ${e.message}` };
  if (e instanceof DeployFailedError) return { code: EXIT.deployFailed, text: `error: ${e.message}` };
  if (e instanceof MigrationFailedError) return { code: EXIT.migrationFailed, text: `error: ${e.message}` };
  if (e instanceof SupersededError) return { code: EXIT.superseded, text: `stopped: ${e.message}` };
  if (e instanceof InterruptedError) return { code: EXIT.interrupted, text: `interrupted: ${e.message}` };
  const fs = fileSystemError(e);
  if (fs) return { code: EXIT.invalid, text: `error: ${fs}` };
  return describeError(e);
}

/** The problems of an invalid release file, field by field, as the configuration's reader names them. */
function releaseFileProblems(e: InvalidReleaseFile): ConfigError {
  const read = readRelease(e.file, e.env, e.root);
  const problems =
    "problems" in read
      ? read.problems
      : [{ subject: relative(e.root, e.file) || e.file, path: "", message: e.message }];
  return new ConfigError(problems, `invalid release file of ${e.env}`);
}

/**
 * Errors of the machine, not of envctl: a folder that is not writable, a full disk, a missing
 * file. Reported as a clear error (exit 1), never as an internal error with a stack trace.
 */
const FILE_SYSTEM_CODES: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EEXIST: "already exists",
  EMFILE: "too many open files",
};

export function fileSystemError(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (
    !(e instanceof Error) ||
    typeof err?.code !== "string" ||
    !Object.hasOwn(FILE_SYSTEM_CODES, err.code) ||
    typeof err.syscall !== "string"
  )
    return undefined;
  const inside = typeof err.path === "string" ? relative(process.cwd(), err.path) : "";
  const where = typeof err.path !== "string" ? "a file" : inside && !inside.startsWith("..") ? inside : err.path;
  return `cannot ${err.syscall} ${where}: ${FILE_SYSTEM_CODES[err.code]} (${err.code})`;
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
