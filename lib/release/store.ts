/**
 * Release files on disk: validated reads, atomic writes (temporary file + fsync + rename) under a
 * lock per environment, and the history.
 *
 * History never misses a change: every write of a release file carries the record of that change
 * (`lastChange`, numbered by `seq`) in the same atomic rename. `releases/<env>.audit.jsonl` is an
 * append-only projection of those records: after the rename the record is appended, and before
 * every write (under the lock) a record that a crash kept out of the log is appended first. A reader
 * of the history sees the log plus the file's own record, so it never sees a state without its record.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import lockfile from "proper-lockfile";
import { ConfigError } from "../config/errors.ts";
import { readRelease, releaseFileOf } from "../config/load.ts";
import { ReleaseSchema, summarize, type AnalysisRecord, type ChangeRecord, type Release } from "../config/release.ts";
import type { Change } from "./core.ts";

/** Another envctl holds the environment's lock. */
export class LockedError extends Error {
  constructor(readonly env: string, readonly holder: LockHolder | undefined) {
    super(`${env} is locked by another envctl${holder ? ` (${describeHolder(holder)})` : ""}; wait for it to finish, or pass --wait <seconds>`);
    this.name = "LockedError";
  }
}

/** The file system refused a read or write (permissions, full disk): nothing was changed. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO time the lock was taken. */
  readonly since: string;
  readonly command: string;
}

function describeHolder(h: LockHolder): string {
  const age = Math.max(0, Math.round((Date.now() - Date.parse(h.since)) / 1000));
  return `pid ${h.pid} on ${h.host}, '${h.command}', held for ${age} s`;
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

/** What a change is recorded as. */
export interface RecordInput {
  readonly change: Change;
  /** `deploying`, `deployed`, `edited`, `rolled-back`, ... */
  readonly outcome: string;
  readonly analysis?: AnalysisRecord;
  readonly note?: string;
  /**
   * The state the change started from, when it is not the file's current one: a deploy's final
   * record describes the whole change (before the pending marker), not the marker's removal.
   */
  readonly from?: Release;
}

/** One line of the audit history. */
export type AuditEntry = ChangeRecord & { readonly environment: string };

/**
 * Writes `next` as the new state of the environment, with the record of the change from `current`
 * (the state on disk, read under the lock). Returns what was written.
 */
export function commit(root: string, current: Release, next: Release, rec: RecordInput): Release {
  const env = current.environment;
  syncAudit(root, current);
  removeOrphans(root, env);
  const record: ChangeRecord = {
    seq: (current.lastChange?.seq ?? 0) + 1,
    ...rec.change,
    outcome: rec.outcome,
    from: summarize(rec.from ?? current),
    to: summarize(next),
    ...(rec.analysis ? { analysis: rec.analysis } : {}),
    ...(rec.note ? { note: rec.note.slice(0, 2000) } : {}),
  };
  const written: Release = { ...next, lastChange: record };
  writeFileAtomic(releaseFileOf(root, env), releaseText(written));
  appendRecord(root, env, record);
  return written;
}

/** Appends the file's own record to the log when a crash kept it out (call under the lock). */
export function syncAudit(root: string, r: Release): void {
  const rec = r.lastChange;
  if (!rec || rec.seq === 0) return;
  const file = auditFileOf(root, r.environment);
  repairTornTail(file);
  if (lastLoggedSeq(file) < rec.seq) appendRecord(root, r.environment, rec);
}

function appendRecord(root: string, env: string, rec: ChangeRecord): void {
  const file = auditFileOf(root, env);
  try {
    const fd = openSync(file, "a", 0o644);
    try {
      writeSync(fd, `${JSON.stringify({ environment: env, ...rec })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    // The release file already carries the record: the next write appends it.
    process.emitWarning(`could not append to ${file} (${(err as Error).message}); the record is kept in the release file and appended on the next change`);
  }
}

/** A line cut short by a crash or a full disk is dropped (its record is still in the release file). */
function repairTornTail(file: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, "utf8");
  if (text === "" || text.endsWith("\n")) return;
  truncateSync(file, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
}

function lastLoggedSeq(file: string): number {
  if (!existsSync(file)) return 0;
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const seq = (JSON.parse(lines[i]!) as { seq?: unknown }).seq;
      if (typeof seq === "number") return seq;
    } catch {
      // torn or foreign line: keep looking
    }
  }
  return 0;
}

/**
 * The environment's history, oldest first: the log, plus the release file's own record when a
 * crash kept it out of the log. Version 1 lines (without `seq`) are kept as they are.
 */
export function readAudit(root: string, env: string): AuditEntry[] {
  const file = auditFileOf(root, env);
  const entries: AuditEntry[] = [];
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as AuditEntry);
      } catch {
        // a torn last line: its record is in the release file
      }
    }
  }
  try {
    const own = loadRelease(root, env).lastChange;
    const last = entries.reduce((m, e) => (typeof e.seq === "number" ? Math.max(m, e.seq) : m), 0);
    if (own && own.seq > last) entries.push({ environment: env, ...own });
  } catch {
    // an unreadable release file shows the log alone
  }
  return entries;
}

/** Temporary files of writes that never reached their rename (call under the lock). */
function removeOrphans(root: string, env: string): void {
  const dir = dirname(releaseFileOf(root, env));
  const prefix = `.${env}.json.`;
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (f.startsWith(prefix) && f.endsWith(".tmp")) rmSync(join(dir, f), { force: true });
  }
}

/** Temporary file + fsync + rename in the same directory: readers see the old file or the new one. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, "w", 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new StoreError(`cannot write ${file}: ${(err as Error).message}; nothing was changed`);
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
 * Runs `fn` holding the environment's lock. Waits up to `waitSeconds` for another holder, then
 * fails with {@link LockedError} naming it. A holder that died on this host is detected at once;
 * one on another host once its lock goes stale (30 s without the holder refreshing it).
 */
export async function withLock<T>(root: string, env: string, waitSeconds: number, fn: () => Promise<T>, command = "envctl"): Promise<T> {
  return withFileLock(releaseFileOf(root, env), env, waitSeconds, fn, command);
}

const lockDir = (file: string) => `${file}.lock`;
/** Who holds the lock: beside the lock directory (proper-lockfile removes that directory with rmdir, so it must stay empty). */
const ownerFile = (file: string) => `${file}.lock-owner.json`;

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(ownerFile(file), "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
}

function holderIsDead(h: LockHolder | undefined): boolean {
  if (!h || h.host !== hostname()) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** {@link withLock} for any existing file; `label` names it in the error. */
export async function withFileLock<T>(file: string, label: string, waitSeconds: number, fn: () => Promise<T>, command = "envctl"): Promise<T> {
  const attempt = () => lockfile.lock(file, {
    stale: 30_000,
    update: 5_000,
    realpath: false,
    retries: waitSeconds > 0 ? { retries: Math.ceil(waitSeconds * 4), factor: 1, minTimeout: 250, maxTimeout: 250 } : 0,
  });
  let release: () => Promise<void>;
  try {
    release = await attempt();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOCKED" && holderIsDead(readHolder(file))) {
      rmSync(lockDir(file), { recursive: true, force: true });
      rmSync(ownerFile(file), { force: true });
      release = await attempt().catch((again) => {
        throw (again as NodeJS.ErrnoException).code === "ELOCKED" ? new LockedError(label, readHolder(file)) : again;
      });
    } else if (code === "ELOCKED") {
      throw new LockedError(label, readHolder(file));
    } else if (code === "ENOENT") {
      throw new StoreError(`cannot lock ${file}: it does not exist`);
    } else {
      throw new StoreError(`cannot lock ${file}: ${(err as Error).message}`);
    }
  }
  try {
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command };
    try {
      writeFileSync(ownerFile(file), JSON.stringify(holder));
    } catch {
      // the lock holds without its label
    }
    return await fn();
  } finally {
    rmSync(ownerFile(file), { force: true });
    await release().catch(() => undefined);
  }
}

/** Seconds since the lock of `file` was last refreshed, if it is held (for messages and tests). */
export function lockAge(file: string): number | undefined {
  try {
    return (Date.now() - statSync(lockDir(file)).mtimeMs) / 1000;
  } catch {
    return undefined;
  }
}
