/**
 * `--watch`: read, show, wait, again, until stopped. On a terminal the view is redrawn in place
 * (like `kubectl argo rollouts get --watch`); off a terminal (CI logs, pipes) `changes` decides
 * what to print: typically the first view whole, then only what changed.
 */

export interface WatchOptions<T> {
  /** One observation; a throw is shown and the watch goes on (the next read may succeed). */
  readonly read: () => Promise<T>;
  /** The full view (terminal). */
  readonly render: (value: T) => string;
  /** Lines to print off a terminal, given the previous observation (undefined the first time). */
  readonly changes: (previous: T | undefined, current: T, at: Date) => string[];
  /** Raw output (no newline added). */
  readonly write: (text: string) => void;
  /** Redraw in place (a terminal) or print changes only. */
  readonly tty: boolean;
  readonly intervalSeconds: number;
  readonly now: () => Date;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops the watch (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Clears the screen and homes the cursor: the whole view is drawn again. */
export const REDRAW = "\x1b[H\x1b[2J";

export const stamp = (d: Date) => `[${d.toISOString().slice(0, 19)}Z]`;

export async function watch<T>(o: WatchOptions<T>): Promise<void> {
  let previous: T | undefined;
  let lastError: string | undefined;
  while (!o.signal?.aborted) {
    let value: T | undefined;
    let error: string | undefined;
    try {
      value = await o.read();
    } catch (err) {
      error = (err as Error).message;
    }
    if (o.signal?.aborted) break;
    const at = o.now();
    if (o.tty) {
      const body = value === undefined ? `could not read: ${error}` : o.render(value);
      o.write(`${REDRAW}${body}\n\n${stamp(at)} every ${o.intervalSeconds} s; Ctrl-C to stop\n`);
    } else if (value === undefined) {
      if (error !== lastError) o.write(`${stamp(at)} could not read: ${error}\n`);
    } else {
      for (const line of o.changes(previous, value, at)) o.write(`${line}\n`);
      previous = value;
    }
    lastError = error;
    try {
      await o.sleep(o.intervalSeconds * 1000, o.signal);
    } catch {
      break; // stopped while waiting
    }
  }
}
