/**
 * One delivery: an HTTP POST with a timeout per attempt and retries with exponential backoff
 * (network errors, timeouts, 429 and 5xx are retried; any other answer is final), and the HMAC
 * signature of the generic webhook. Errors never carry the URL (it is a credential).
 */
import { createHmac } from "node:crypto";

/** The HTTP client of the notifications (node's fetch by default). */
export type NotifyFetch = (
  url: string,
  init: { method: "POST"; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number }>;

export interface RetryPolicy {
  /** Milliseconds one attempt may take. */
  readonly timeoutMs: number;
  readonly attempts: number;
  /** Wait before the second attempt (doubled before each further one), milliseconds. */
  readonly backoffMs: number;
}

export interface DeliveryDeps {
  readonly fetch: NotifyFetch;
  /** Waits between attempts (a virtual clock in tests). */
  readonly sleep: (ms: number) => Promise<void>;
}

export interface Attempted {
  readonly ok: boolean;
  readonly attempts: number;
  /** The last HTTP status, if any answer came. */
  readonly status?: number;
  readonly error?: string;
}

/** Header names of the generic webhook. */
export const SIGNATURE_HEADER = "X-Envstack-Signature";
export const TIMESTAMP_HEADER = "X-Envstack-Timestamp";
export const EVENT_HEADER = "X-Envstack-Event";
/** One id per delivery, the same on its retries: a receiver deduplicates by it (delivery is at least once). */
export const DELIVERY_HEADER = "X-Envstack-Delivery";

/**
 * `sha256=<hex>`: HMAC-SHA256 with the signing key over `<timestamp>.<body>` (the timestamp is the
 * {@link TIMESTAMP_HEADER}, Unix seconds: a receiver refuses old ones to stop replays).
 */
export function signature(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex")}`;
}

const retryable = (status: number) => status === 429 || status >= 500;

/** Describes a failure without the URL: the error's code or class, and its cause's. */
function describe(err: unknown): string {
  const e = err as
    | { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } }
    | undefined;
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return "timed out";
  const code = e?.cause?.code ?? e?.code;
  return code
    ? `${e?.name ?? "Error"} ${code}`
    : `${e?.name ?? "Error"}: ${(e?.cause?.message ?? e?.message ?? String(err)).replace(/https?:\/\/\S+/g, "<url>").slice(0, 200)}`;
}

/** Runs `fn(signal)` with a timeout that aborts it; rejects with a TimeoutError when it does not settle in time. */
export function withTimeout<T>(timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: "TimeoutError" });
      controller.abort(err);
      reject(err);
    }, timeoutMs);
    timer.unref?.();
  });
  return Promise.race([fn(controller.signal), timeout]).finally(() => clearTimeout(timer));
}

/** POSTs `body` with retries; never throws. */
export async function postWithRetries(
  url: string,
  body: string,
  headers: Record<string, string>,
  policy: RetryPolicy,
  deps: DeliveryDeps,
): Promise<Attempted> {
  let last: Attempted = { ok: false, attempts: 0, error: "not attempted" };
  for (let i = 0; i < policy.attempts; i++) {
    if (i > 0) await deps.sleep(policy.backoffMs * 2 ** (i - 1));
    try {
      const res = await withTimeout(policy.timeoutMs, (signal) =>
        deps.fetch(url, { method: "POST", headers, body, signal }),
      );
      if (res.status >= 200 && res.status < 300) return { ok: true, attempts: i + 1, status: res.status };
      last = { ok: false, attempts: i + 1, status: res.status, error: `HTTP ${res.status}` };
      if (!retryable(res.status)) return last;
    } catch (err) {
      last = { ok: false, attempts: i + 1, error: describe(err) };
    }
  }
  return last;
}

/** Runs a delivery that is not HTTP (SNS) with the same timeout and retries; never throws. */
export async function callWithRetries(
  fn: (signal: AbortSignal) => Promise<void>,
  policy: RetryPolicy,
  deps: Pick<DeliveryDeps, "sleep">,
): Promise<Attempted> {
  let last: Attempted = { ok: false, attempts: 0, error: "not attempted" };
  for (let i = 0; i < policy.attempts; i++) {
    if (i > 0) await deps.sleep(policy.backoffMs * 2 ** (i - 1));
    try {
      await withTimeout(policy.timeoutMs, fn);
      return { ok: true, attempts: i + 1 };
    } catch (err) {
      last = { ok: false, attempts: i + 1, error: describe(err) };
    }
  }
  return last;
}
