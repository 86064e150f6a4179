/**
 * The release store: release files on disk (./release-file.ts), their history (./audit-log.ts),
 * and a lock per environment (lib/fsutil/file-lock.ts). {@link fileStore} is the
 * {@link ReleaseStore} port's adapter that lib/cli wires in.
 *
 * History never misses a change: every write of a release file carries the record of that change
 * (`lastChange`, numbered by `seq`) in the same atomic rename; the record is then appended to the
 * log, and a record a crash kept out of the log is appended before the next write.
 */
import { StoreError } from "../../fsutil/errors.ts";
import { assertLockHeld, withFileLock } from "../../fsutil/file-lock.ts";
import { type ChangeRecord, summarize } from "../model/records.ts";
import type { Release } from "../model/release.ts";
import type { RecordInput, ReleaseStore } from "../ports/index.ts";
import { appendNote, appendRecord, readAudit, readLoggedAudit, syncAudit } from "./audit-log.ts";
import { loadRelease, releaseFileOf, releaseText, removeOrphans, writeRelease } from "./release-file.ts";
import { readSchedule, writeSchedule } from "./schedule.ts";

export {
  type AuditEntry,
  appendNote,
  auditFileOf,
  type HistoryNote,
  readAudit,
  readLoggedAudit,
  readNotes,
} from "./audit-log.ts";
export { loadRelease, releaseFileOf, releaseText } from "./release-file.ts";

/** The release file changed on disk after this command read it (another writer, a git pull): nothing was written. */
export class ConflictError extends StoreError {
  constructor(env: string, read: number, found: string) {
    super(
      [
        `${env}: the release file changed on disk since this command read it `,
        `(it read record ${read}; the file now holds ${found}); nothing was written. `,
        "Run the command again: it starts from the file as it is",
      ].join(""),
    );
    this.name = "ConflictError";
  }
}

/**
 * Compare-and-swap: the file on disk must still be `current` (its record's seq and its whole state),
 * checked under the lock before anything is written and again right before the rename.
 */
function assertUnchanged(root: string, current: Release): void {
  const env = current.environment;
  const read = current.lastChange?.seq ?? 0;
  let onDisk: Release;
  try {
    onDisk = loadRelease(root, env);
  } catch (err) {
    throw new ConflictError(env, read, `something this command cannot read (${(err as Error).message})`);
  }
  const seq = onDisk.lastChange?.seq ?? 0;
  if (seq !== read)
    throw new ConflictError(
      env,
      read,
      `record ${seq}${onDisk.lastChange ? ` by ${onDisk.lastChange.by}, '${onDisk.lastChange.command}'` : ""}`,
    );
  if (releaseText(onDisk) !== releaseText(current))
    throw new ConflictError(env, read, `another state under the same record ${seq} (edited by hand?)`);
}

/**
 * Writes `next` as the new state of the environment, with the record of the change from `current`
 * (the state on disk, read under the lock). Returns what was written. Call holding the
 * environment's lock: a lock lost (taken over, removed, stalled past its stale period) or a file
 * changed on disk since `current` was read stops the write, with nothing written.
 */
export function commit(root: string, current: Release, next: Release, rec: RecordInput): Release {
  const env = current.environment;
  const file = releaseFileOf(root, env);
  const guard = () => {
    assertLockHeld(file, env);
    assertUnchanged(root, current);
  };
  guard();
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
  writeRelease(root, written, guard);
  appendRecord(root, env, record);
  return written;
}

/**
 * Runs `fn` holding the environment's lock (the lock of its release file). Waits up to
 * `waitSeconds` for another holder, then fails with a LockedError naming it.
 */
export function withLock<T>(
  root: string,
  env: string,
  waitSeconds: number,
  fn: () => Promise<T>,
  command = "envctl",
): Promise<T> {
  return withFileLock(releaseFileOf(root, env), env, waitSeconds, fn, command);
}

/** The store of the project at `root`. */
export function fileStore(root: string): ReleaseStore {
  return {
    load: (env) => loadRelease(root, env),
    commit: (current, next, record) => commit(root, current, next, record),
    lock: (env, waitSeconds, fn, command) => withLock(root, env, waitSeconds, fn, command),
    history: (env) => readAudit(root, env),
    note: (env, note) => appendNote(root, env, note),
    schedule: (env) => readSchedule(root, env),
    saveSchedule: (s) => writeSchedule(root, s),
    logged: (env) => readLoggedAudit(root, env),
  };
}
