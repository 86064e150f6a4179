/** Bounded retries of a port's call (the ALB, CloudWatch): the rollout gate fails closed after them. */
import type { Clock } from "./ports/index.ts";

/** Bounded retries with exponential backoff (0.5 s, 1 s, 2 s, ...); the last error is rethrown. */
export async function withRetries<T>(
  attempts: number,
  fn: () => Promise<T>,
  clock: Clock,
  signal?: AbortSignal,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await clock.sleep(500 * 2 ** (i - 1), signal);
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
  }
  throw last;
}
