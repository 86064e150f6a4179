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
import * as fs from "node:fs";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
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

/** How often a holder refreshes its lock's mtime (proper-lockfile `update`; its minimum). */
const REFRESH_MS = 1_000;
/**
 * A lock without a holder record whose mtime did not change for this long was left by a holder
 * killed between the two system calls that take it and label it (or unlabel and remove it, see
 * labellingFs): a live holder labels its lock at once and refreshes it every {@link REFRESH_MS}.
 */
const UNLABELED_MS = 3_000;
/** A dead holder's record is read again this much later before its lock is taken over (see abandoned()). */
const CONFIRM_MS = 20;
const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lockMtime(file: string): number | undefined {
  try {
    return statSync(lockDir(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Why the lock of `file` is abandoned (its holder died), or undefined when it is held or gone.
 * `unlabeled` carries what an earlier look saw of a lock without a holder record.
 */
async function abandoned(file: string, unlabeled: { mtime: number; since: number } | undefined): Promise<string | undefined> {
  const holder = readHolder(file);
  const mtime = lockMtime(file);
  if (mtime === undefined) return undefined;
  if (holder) {
    if (!holderIsDead(holder)) return undefined;
    // The holder read may have released its lock and exited since, and another taken the lock:
    // the record and the lock's mtime must be unchanged a moment later.
    await sleep(CONFIRM_MS);
    const again = readHolder(file);
    if (!again || again.pid !== holder.pid || again.since !== holder.since || lockMtime(file) !== mtime) return undefined;
    return `the lock was left by ${describeHolder(holder)}, which is no longer running`;
  }
  if (unlabeled && unlabeled.mtime === mtime && Date.now() - unlabeled.since >= UNLABELED_MS) {
    return `the lock carried no holder record and was not refreshed for ${Math.round((Date.now() - unlabeled.since) / 1000)} s (its holder died while taking or releasing it)`;
  }
  return undefined;
}

/**
 * The file system proper-lockfile works through: the holder record is written in the same
 * synchronous step as the lock directory, and removed in the step that removes it (also by
 * proper-lockfile's exit hook). Written after the lock resolved, as before, a kill in between (the
 * mtime probe that follows the mkdir: milliseconds) left a lock naming nobody, which blocked every
 * envctl for 30 s with "locked by another envctl" (found by test/store-kill.test.ts).
 */
function labellingFs(file: string, holder: () => LockHolder): typeof fs {
  const own = (path: unknown) => path === lockDir(file);
  const done = (cb: (err: NodeJS.ErrnoException | null) => void, work: () => void) => {
    let error: NodeJS.ErrnoException | null = null;
    try {
      work();
    } catch (err) {
      error = err as NodeJS.ErrnoException;
    }
    process.nextTick(cb, error);
  };
  const unlabel = (path: string) => {
    if (own(path)) rmSync(ownerFile(file), { force: true });
    rmdirSync(path);
  };
  return {
    ...fs,
    mkdir: ((path: string, cb: (err: NodeJS.ErrnoException | null) => void) => done(cb, () => {
      const label = JSON.stringify(holder());
      mkdirSync(path);
      if (!own(path)) return;
      try {
        writeFileSync(ownerFile(file), label);
      } catch {
        // the lock holds without its label
      }
    })) as typeof fs.mkdir,
    rmdir: ((path: string, cb: (err: NodeJS.ErrnoException | null) => void) => done(cb, () => unlabel(path))) as typeof fs.rmdir,
    rmdirSync: ((path: string) => unlabel(path)) as typeof fs.rmdirSync,
  };
}

/** {@link withLock} for any existing file; `label` names it in the error. */
export async function withFileLock<T>(file: string, label: string, waitSeconds: number, fn: () => Promise<T>, command = "envctl"): Promise<T> {
  // One attempt at a time: between attempts a dead holder is looked for, so it is detected at
  // once even while waiting (proper-lockfile's own retries would only give up after the wait).
  const holder = (): LockHolder => ({ pid: process.pid, host: hostname(), since: new Date().toISOString(), command });
  const attempt = () => lockfile.lock(file, { stale: 30_000, update: REFRESH_MS, realpath: false, retries: 0, fs: labellingFs(file, holder) });
  const deadline = Date.now() + waitSeconds * 1000;
  let unlabeled: { mtime: number; since: number } | undefined;
  let watchUntil: number | undefined;
  let release: () => Promise<void>;
  for (;;) {
    try {
      release = await attempt();
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new StoreError(`cannot lock ${file}: it does not exist`);
      if (code !== "ELOCKED") throw new StoreError(`cannot lock ${file}: ${(err as Error).message}`);
    }
    const why = await abandoned(file, unlabeled);
    if (why) {
      // Stale locks are cleared with a message naming the dead holder (issue 12).
      rmSync(ownerFile(file), { force: true });
      rmSync(lockDir(file), { recursive: true, force: true });
      process.stderr.write(`${label}: ${why}; taking the lock over\n`);
      unlabeled = undefined;
      continue;
    }
    const current = readHolder(file);
    const mtime = lockMtime(file);
    if (mtime === undefined) continue; // released meanwhile
    if (current) unlabeled = undefined;
    else if (unlabeled?.mtime !== mtime) unlabeled = { mtime, since: Date.now() };
    // An unlabeled lock is watched long enough to tell an abandoned one, whatever the wait:
    // "locked by another envctl" must not be said of a lock nobody holds. One that keeps being
    // refreshed has a live holder (its record could not be written): the wait applies.
    if (!current) watchUntil ??= Date.now() + UNLABELED_MS + POLL_MS;
    if (Date.now() >= Math.max(deadline, watchUntil ?? 0)) throw new LockedError(label, current);
    await sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    // removes the holder record, then the lock (labellingFs)
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
