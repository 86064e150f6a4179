/**
 * Atomic writes of small text files (release files, previews.json): temporary file + fsync +
 * rename in the same directory, then fsync of the directory, so a reader sees the old file or the
 * new one, never a torn one, and the rename survives a power cut once the call returns.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StoreError } from "./errors.ts";

/** The temporary file a write of `file` by this process uses (`.<name>.<pid>.tmp`, beside it). */
export function temporaryFileOf(file: string, pid = process.pid): string {
  return join(dirname(file), `.${basename(file)}.${pid}.tmp`);
}

/** Makes a rename in `dir` durable (the directory's entry is written to disk). */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /**
   * Runs after the temporary file is written and synced, right before the rename: throwing stops
   * the write (the temporary file is removed, the file is untouched, the error is thrown as it is).
   * The release store checks there that its lock and the file's sequence number are still its own.
   */
  readonly beforeRename?: () => void;
}

/** Temporary file + fsync + rename in the same directory + fsync of the directory. */
export function writeFileAtomic(file: string, text: string, options: AtomicWriteOptions = {}): void {
  const tmp = temporaryFileOf(file);
  try {
    const fd = openSync(tmp, "w", 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new StoreError(`cannot write ${file}: ${(err as Error).message}; nothing was changed`);
  }
  try {
    options.beforeRename?.();
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new StoreError(`cannot write ${file}: ${(err as Error).message}; nothing was changed`);
  }
  try {
    fsyncDirectory(dirname(file));
  } catch (err) {
    // The file is renamed (readers see it); only its durability across a power cut is in doubt.
    process.emitWarning(
      `wrote ${file} but could not sync its directory (${(err as Error).message}): the change may not survive a power cut`,
    );
  }
}
