/**
 * A lock per file, across processes and machines sharing the directory (proper-lockfile: a
 * `<file>.lock` directory refreshed every second while held), with a holder record beside it that
 * names the holder precisely (./process-identity.ts: host, boot, PID namespace, pid, start time and a
 * random token). Used by the release store (one lock per environment) and the preview registry.
 *
 * - A holder is judged gone only when its identity proves it (same host, boot and PID namespace, and
 *   its pid no longer runs or runs another process): its lock is taken over at once. A holder this
 *   process cannot check (another host or PID namespace) is judged only by its lock going unrefreshed
 *   for the stale period (30 s, `ENVSTACK_LOCK_STALE_SECONDS`). A live holder of this host and
 *   namespace is never taken over, however long it stalls.
 * - Before each write the holder checks that the lock is still its own ({@link assertLockHeld}): a
 *   lock taken over or removed, or not refreshed for the stale period (a stalled event loop), stops the
 *   holder with a {@link LockLostError}, never a crash; it never removes a lock that is not its own.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import lockfile from "proper-lockfile";
import { StoreError } from "./errors.ts";
import { judgeHolder, ownIdentity, type ProcessIdentity } from "./process-identity.ts";

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

/** The lock this command held was taken over, removed, or went stale while it stalled: it stopped before writing. */
export class LockLostError extends StoreError {
  constructor(label: string, why: string) {
    super(
      [
        `${label}: stopped before writing: ${why}; this command wrote nothing more. `,
        "See what the other envctl did ('envctl status', the history) before running it again",
      ].join(""),
    );
    this.name = "LockLostError";
  }
}

export interface LockHolder extends Partial<Omit<ProcessIdentity, "pid" | "host">> {
  readonly pid: number;
  readonly host: string;
  /** ISO time the lock was taken. */
  readonly since: string;
  readonly command: string;
  /** Random, per lock taken: tells this holder's lock from a later one of the same process. */
  readonly token?: string;
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
    const h = JSON.parse(readFileSync(ownerFile(file), "utf8")) as LockHolder;
    return typeof h === "object" && h !== null && typeof h.pid === "number" && typeof h.host === "string"
      ? h
      : undefined;
  } catch {
    return undefined;
  }
}

/** How often a holder refreshes its lock's mtime (proper-lockfile `update`; its minimum). */
const REFRESH_MS = 1_000;
/** A lock without a holder record whose mtime did not change for this long was left by a holder killed while taking or releasing it. */
const UNLABELED_MS = 3_000;
/** A dead holder's record is read again this much later before its lock is taken over (see abandoned()). */
const CONFIRM_MS = 20;
const POLL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stale period: a lock whose holder cannot be checked is abandoned after this long unrefreshed; a holder stalled this long stops. */
export function staleMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ENVSTACK_LOCK_STALE_SECONDS;
  if (raw === undefined || raw === "") return 30_000;
  const s = Number(raw);
  if (!Number.isInteger(s) || s < 2 || s > 3600)
    throw new StoreError(
      `ENVSTACK_LOCK_STALE_SECONDS must be a whole number of seconds from 2 to 3600 (found '${raw}')`,
    );
  return s * 1000;
}

function lockMtime(file: string): number | undefined {
  try {
    return statSync(lockDir(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The locks this process holds: file → its token, and why it was lost (set by proper-lockfile's compromise callback). */
const held = new Map<string, { token: string; label: string; lost?: string }>();

/**
 * Why the lock of `file` is abandoned, or undefined when it is held (or gone). `unlabeled` carries
 * what an earlier look saw of a lock without a holder record.
 */
async function abandoned(
  file: string,
  self: ProcessIdentity,
  stale: number,
  unlabeled: { mtime: number; since: number } | undefined,
): Promise<string | undefined> {
  const holder = readHolder(file);
  const mtime = lockMtime(file);
  if (mtime === undefined) return undefined;
  if (holder) {
    const verdict = judgeHolder(holder, self);
    if (verdict.state === "alive") return undefined;
    if (verdict.state === "unknown") {
      const age = Date.now() - mtime;
      return age >= stale
        ? [
            `the lock was left by ${describeHolder(holder)}; envctl cannot check that process (${verdict.why}) `,
            `and the lock was not refreshed for ${Math.round(age / 1000)} s (its holder refreshes it every second)`,
          ].join("")
        : undefined;
    }
    // The holder read may have released its lock and exited since, and another taken the lock:
    // the record and the lock's mtime must be unchanged a moment later.
    await sleep(CONFIRM_MS);
    const again = readHolder(file);
    if (
      !again ||
      again.pid !== holder.pid ||
      again.since !== holder.since ||
      again.token !== holder.token ||
      lockMtime(file) !== mtime
    )
      return undefined;
    return `the lock was left by ${describeHolder(holder)}, ${verdict.why}`;
  }
  if (unlabeled && unlabeled.mtime === mtime && Date.now() - unlabeled.since >= UNLABELED_MS) {
    const seconds = Math.round((Date.now() - unlabeled.since) / 1000);
    return `the lock carried no holder record and was not refreshed for ${seconds} s (its holder died while taking or releasing it)`;
  }
  return undefined;
}

/**
 * The file system proper-lockfile works through: the holder record is written in the same
 * synchronous step as the lock directory, and removed in the step that removes it (also by
 * proper-lockfile's exit hook), but only while the record is still this holder's: a lock taken over
 * by another envctl is never removed by the one it was taken from.
 */
function labellingFs(file: string, holder: LockHolder): typeof fs {
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
    if (own(path)) {
      if (readHolder(file)?.token !== holder.token) return; // no longer ours: leave it to its holder
      rmSync(ownerFile(file), { force: true });
    }
    rmdirSync(path);
  };
  return {
    ...fs,
    mkdir: ((path: string, cb: (err: NodeJS.ErrnoException | null) => void) =>
      done(cb, () => {
        const label = JSON.stringify({ ...holder, since: new Date().toISOString() });
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
 * Throws a {@link LockLostError} unless this process holds the lock of `file` and it is still its
 * own: called right before each write of a file the lock guards (after any wait, with no wait after).
 */
export function assertLockHeld(file: string, label = file): void {
  const h = held.get(file);
  if (!h) throw new LockLostError(label, `this envctl does not hold the lock of ${file}`);
  if (h.lost) throw new LockLostError(h.label, h.lost);
  const owner = readHolder(file);
  const mtime = lockMtime(file);
  let lost: string | undefined;
  if (mtime === undefined || !owner)
    lost = "its lock was removed while it held it (another envctl judged it abandoned, or someone deleted it)";
  else if (owner.token !== h.token) lost = `its lock was taken over by ${describeHolder(owner)}`;
  else if (Date.now() - mtime > staleMs())
    lost = `its lock was not refreshed for ${Math.round((Date.now() - mtime) / 1000)} s (this process stalled), so another envctl may have judged it abandoned`;
  if (lost) {
    h.lost = lost;
    throw new LockLostError(h.label, lost);
  }
}

/**
 * Runs `fn` holding the lock of `file` (which must exist). Waits up to `waitSeconds` for another
 * holder, then fails with {@link LockedError} naming it (`label` names the file in messages).
 */
export async function withFileLock<T>(
  file: string,
  label: string,
  waitSeconds: number,
  fn: () => Promise<T>,
  command = "envctl",
): Promise<T> {
  const stale = staleMs();
  const self = ownIdentity();
  const holder: LockHolder = {
    ...self,
    since: new Date().toISOString(),
    command,
    token: randomBytes(12).toString("hex"),
  };
  let compromised: string | undefined;
  const attempt = () =>
    lockfile.lock(file, {
      // Staleness is judged here (abandoned()), never by proper-lockfile's mtime rule alone.
      stale: Number.MAX_SAFE_INTEGER,
      update: REFRESH_MS,
      realpath: false,
      retries: 0,
      fs: labellingFs(file, holder),
      // Found by a refresh: recorded, never thrown (proper-lockfile's default would crash the process).
      onCompromised: () => {
        const owner = readHolder(file);
        compromised =
          owner && owner.token !== holder.token
            ? `its lock was taken over by ${describeHolder(owner)}`
            : "its lock was removed while it held it (another envctl judged it abandoned, or someone deleted it)";
        const h = held.get(file);
        if (h && !h.lost) h.lost = compromised;
      },
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
    const why = await abandoned(file, self, stale, unlabeled);
    if (why) {
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
    // An unlabeled lock is watched long enough to tell an abandoned one, whatever the wait.
    if (!current) watchUntil ??= Date.now() + UNLABELED_MS + POLL_MS;
    if (Date.now() >= Math.max(deadline, watchUntil ?? 0)) throw new LockedError(label, current);
    await sleep(POLL_MS);
  }
  held.set(file, { token: holder.token!, label, ...(compromised ? { lost: compromised } : {}) });
  try {
    return await fn();
  } finally {
    held.delete(file);
    // removes the holder record, then the lock (labellingFs), only while both are still ours
    await release().catch(() => undefined);
  }
}
