/**
 * A lock per file, across processes and machines sharing the directory (proper-lockfile: a
 * `<file>.lock` directory refreshed while held), with a holder record beside it so that whoever
 * waits is told who holds it, and a dead holder's lock is taken over at once (issue 12). Used by the
 * release store (one lock per environment) and the preview registry (previews.json).
 */
import * as fs from "node:fs";
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import lockfile from "proper-lockfile";
import { StoreError } from "./errors.ts";

/** Another envctl holds the lock (of an environment, or of previews.json). */
export class LockedError extends Error {
  constructor(
    readonly env: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      `${env} is locked by another envctl${holder ? ` (${describeHolder(holder)})` : ""}; wait for it to finish, or pass --wait <seconds>`,
    );
    this.name = "LockedError";
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
async function abandoned(
  file: string,
  unlabeled: { mtime: number; since: number } | undefined,
): Promise<string | undefined> {
  const holder = readHolder(file);
  const mtime = lockMtime(file);
  if (mtime === undefined) return undefined;
  if (holder) {
    if (!holderIsDead(holder)) return undefined;
    // The holder read may have released its lock and exited since, and another taken the lock:
    // the record and the lock's mtime must be unchanged a moment later.
    await sleep(CONFIRM_MS);
    const again = readHolder(file);
    if (!again || again.pid !== holder.pid || again.since !== holder.since || lockMtime(file) !== mtime)
      return undefined;
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
    mkdir: ((path: string, cb: (err: NodeJS.ErrnoException | null) => void) =>
      done(cb, () => {
        const label = JSON.stringify(holder());
        mkdirSync(path);
        if (!own(path)) return;
        try {
          writeFileSync(ownerFile(file), label);
        } catch {
          // the lock holds without its label
        }
      })) as typeof fs.mkdir,
    rmdir: ((path: string, cb: (err: NodeJS.ErrnoException | null) => void) =>
      done(cb, () => unlabel(path))) as typeof fs.rmdir,
    rmdirSync: ((path: string) => unlabel(path)) as typeof fs.rmdirSync,
  };
}

/**
 * Runs `fn` holding the lock of `file` (which must exist). Waits up to `waitSeconds` for another
 * holder, then fails with {@link LockedError} naming it (`label` names the file in messages). A
 * holder that died on this host is detected at once; one on another host once its lock goes stale
 * (30 s without the holder refreshing it).
 */
export async function withFileLock<T>(
  file: string,
  label: string,
  waitSeconds: number,
  fn: () => Promise<T>,
  command = "envctl",
): Promise<T> {
  // One attempt at a time: between attempts a dead holder is looked for, so it is detected at
  // once even while waiting (proper-lockfile's own retries would only give up after the wait).
  const holder = (): LockHolder => ({ pid: process.pid, host: hostname(), since: new Date().toISOString(), command });
  const attempt = () =>
    lockfile.lock(file, {
      stale: 30_000,
      update: REFRESH_MS,
      realpath: false,
      retries: 0,
      fs: labellingFs(file, holder),
    });
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
