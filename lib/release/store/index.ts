/**
 * The release store: release files on disk (./release-file.ts), their history (./audit-log.ts),
 * and a lock per environment (lib/fsutil/file-lock.ts). {@link fileStore} is the
 * {@link ReleaseStore} port's adapter that lib/cli wires in.
 *
 * History never misses a change: every write of a release file carries the record of that change
 * (`lastChange`, numbered by `seq`) in the same atomic rename; the record is then appended to the
 * log, and a record a crash kept out of the log is appended before the next write.
 */
import { withFileLock } from "../../fsutil/file-lock.ts";
import { type ChangeRecord, summarize } from "../model/records.ts";
import type { Release } from "../model/release.ts";
import type { RecordInput, ReleaseStore } from "../ports/index.ts";
import { appendNote, appendRecord, readAudit, syncAudit } from "./audit-log.ts";
import { loadRelease, releaseFileOf, removeOrphans, writeRelease } from "./release-file.ts";
import { readSchedule, writeSchedule } from "./schedule.ts";

export { type AuditEntry, appendNote, auditFileOf, type HistoryNote, readAudit, readNotes } from "./audit-log.ts";
export { loadRelease, releaseFileOf, releaseText } from "./release-file.ts";

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
  writeRelease(root, written);
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
  };
}
