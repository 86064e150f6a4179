/**
 * The audit log of an environment (`releases/<env>.audit.jsonl`): an append-only projection of
 * the records each release file carries in `lastChange`. After a file's rename its record is
 * appended; before every write (under the lock) a record that a crash kept out of the log is
 * appended first. A reader sees the log plus the file's own record, so it never sees a state
 * without its record.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { type ChangeRecord, ChangeRecordSchema } from "../model/records.ts";
import type { Release } from "../model/release.ts";
import { loadRelease, releaseFileOf } from "./release-file.ts";

/** One line of the audit history. */
export type AuditEntry = ChangeRecord & { readonly environment: string };

export function auditFileOf(root: string, env: string): string {
  return join(dirname(releaseFileOf(root, env)), `${env}.audit.jsonl`);
}

/** Appends the file's own record to the log when a crash kept it out (call under the lock). */
export function syncAudit(root: string, r: Release): void {
  const rec = r.lastChange;
  if (!rec || rec.seq === 0) return;
  const file = auditFileOf(root, r.environment);
  repairTornTail(file);
  if (lastLoggedSeq(file) < rec.seq) appendRecord(root, r.environment, rec);
}

export function appendRecord(root: string, env: string, rec: ChangeRecord): void {
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
    process.emitWarning(
      `could not append to ${file} (${(err as Error).message}); the record is kept in the release file and appended on the next change`,
    );
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
 * A history line that is no release-file change (a notification's delivery, a drift heal): kept in
 * the same log, marked by its `kind`, without a `seq` (it changes no state). One write of one line.
 */
export interface HistoryNote {
  readonly kind: string;
  readonly at: string;
  readonly [field: string]: unknown;
}

export function appendNote<T extends { readonly kind: string; readonly at: string }>(
  root: string,
  env: string,
  note: T,
): void {
  const file = auditFileOf(root, env);
  try {
    const fd = openSync(file, "a", 0o644);
    try {
      writeSync(fd, `${JSON.stringify({ environment: env, ...note })}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    process.emitWarning(`could not append to ${file} (${(err as Error).message})`);
  }
}

/** The notes of the environment's history (of one kind, or all), oldest first. */
export function readNotes(root: string, env: string, kind?: string): (HistoryNote & { environment: string })[] {
  const file = auditFileOf(root, env);
  if (!existsSync(file)) return [];
  const out: (HistoryNote & { environment: string })[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    try {
      const x = JSON.parse(line) as HistoryNote & { environment: string };
      if (typeof x.kind === "string" && (kind === undefined || x.kind === kind)) out.push(x);
    } catch {
      // torn line
    }
  }
  return out;
}

/** The change records of the log alone, oldest first (no record only the release file carries): what mitigations and data copies trust. */
export function readLoggedAudit(root: string, env: string): AuditEntry[] {
  const file = auditFileOf(root, env);
  const entries: AuditEntry[] = [];
  if (!existsSync(file)) return entries;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    try {
      const { environment, ...rest } = JSON.parse(line) as AuditEntry & { kind?: unknown };
      if (typeof rest.kind === "string" || environment !== env) continue;
      // Only a well-formed record vouches for a state: anything else is left out (and vouches for nothing).
      const parsed = ChangeRecordSchema.safeParse(rest);
      if (parsed.success) entries.push({ environment: env, ...parsed.data });
    } catch {
      // a torn last line
    }
  }
  return entries;
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
        const entry = JSON.parse(line) as AuditEntry & { kind?: unknown };
        if (typeof entry.kind !== "string") entries.push(entry); // notes (deliveries, heals) are no changes
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
