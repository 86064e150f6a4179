/**
 * Release files on disk: validated reads, atomic writes (temporary file + fsync + rename) under
 * a lock per environment, and an append-only audit history beside each release file.
 */
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { basename, dirname, join } from "node:path";
import lockfile from "proper-lockfile";
import { ConfigError } from "../config/errors.ts";
import { readRelease, releaseFileOf } from "../config/load.ts";
import { ReleaseSchema, type Release } from "../config/release.ts";
import type { Change } from "./core.ts";

/** Another envctl holds the environment's lock. */
export class LockedError extends Error {
  constructor(readonly env: string, readonly file: string) {
    super(`${env} is locked by another envctl (lock ${basename(file)}.lock); wait for it to finish, or pass --wait <seconds>`);
    this.name = "LockedError";
  }
}

export function auditFileOf(root: string, env: string): string {
  return join(dirname(releaseFileOf(root, env)), `${env}.audit.jsonl`);
}

/** Reads and validates `<env>.json`; a ConfigError names the file and the fields. */
export function loadRelease(root: string, env: string): Release {
  const result = readRelease(releaseFileOf(root, env), env, root);
  if ("problems" in result) throw new ConfigError(result.problems, `invalid release file of ${env}`);
  return result.release;
}

/** Canonical text of a release file: stable key order, two-space indent, final newline. */
export function releaseText(r: Release): string {
  return `${JSON.stringify(ReleaseSchema.parse(r), null, 2)}\n`;
}

/** Writes the release atomically: readers see the old file or the new one, never a torn one. */
export function writeRelease(root: string, r: Release): void {
  writeFileAtomic(releaseFileOf(root, r.environment), releaseText(r));
}

/** Temporary file + fsync + rename in the same directory. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

export interface AuditEntry extends Change {
  readonly environment: string;
  readonly from: Pick<Release, "live" | "slots">;
  readonly to: Pick<Release, "live" | "slots">;
  /** `deployed`, `edited` (--no-deploy), `rolled-back`, `failed`... */
  readonly outcome: string;
}

export function appendAudit(root: string, entry: AuditEntry): void {
  appendFileSync(auditFileOf(root, entry.environment), `${JSON.stringify(entry)}\n`);
}

export function readAudit(root: string, env: string): AuditEntry[] {
  try {
    return readFileSync(auditFileOf(root, env), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);
  } catch {
    return [];
  }
}

/** Who is acting: the CI actor, else the git user, else the login name. */
export function currentActor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_ACTOR) return `${env.GITHUB_ACTOR} (ci)`;
  try {
    const name = execFileSync("git", ["config", "user.name"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (name) return name;
  } catch {
    // no git, or no user configured
  }
  return env.USER ?? env.USERNAME ?? "unknown";
}

/**
 * Runs `fn` holding the environment's lock. Waits up to `waitSeconds` for another holder,
 * then fails with {@link LockedError}. The lock is refreshed while held and released after.
 */
export async function withLock<T>(root: string, env: string, waitSeconds: number, fn: () => Promise<T>): Promise<T> {
  return withFileLock(releaseFileOf(root, env), env, waitSeconds, fn);
}

/** {@link withLock} for any existing file; `label` names it in the error. */
export async function withFileLock<T>(file: string, label: string, waitSeconds: number, fn: () => Promise<T>): Promise<T> {
  const env = label;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, {
      stale: 30_000,
      update: 5_000,
      realpath: false,
      retries: waitSeconds > 0 ? { retries: Math.ceil(waitSeconds * 4), factor: 1, minTimeout: 250, maxTimeout: 250 } : 0,
    });
  } catch (err) {
    if ((err as { code?: string }).code === "ELOCKED") throw new LockedError(env, file);
    throw err;
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
