/**
 * Atomic writes of small text files (release files, previews.json): temporary file + fsync +
 * rename in the same directory, so a reader sees the old file or the new one, never a torn one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StoreError } from "./errors.ts";

/** The temporary file a write of `file` by this process uses (`.<name>.<pid>.tmp`, beside it). */
export function temporaryFileOf(file: string, pid = process.pid): string {
  return join(dirname(file), `.${basename(file)}.${pid}.tmp`);
}

/** Temporary file + fsync + rename in the same directory: readers see the old file or the new one. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = temporaryFileOf(file);
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
