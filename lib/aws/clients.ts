/**
 * AWS SDK v3 client configuration shared by envctl's readers and writers: the ambient credentials
 * on AWS, fake ones on the emulator, and timeouts on every request so that an unreachable service
 * fails within seconds (the rollout gate fails closed on it) instead of hanging.
 */

export interface AwsClientOptions {
  readonly region: string;
  /** Emulator endpoint (the `local` target); real AWS otherwise. */
  readonly endpoint?: string;
}

/** Milliseconds to connect, and to wait for a response, per request. */
export const CONNECT_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 10_000;

/** SDK client config: one attempt per call (callers retry with their own backoff and messages). */
export function awsClientConfig(o: AwsClientOptions, attempts = 1) {
  return {
    region: o.region,
    maxAttempts: attempts,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    ...(o.endpoint ? { endpoint: o.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } } : {}),
  };
}

/** A short description of an SDK or network error for messages (no stack): the release's own (lib/release/errors.ts). */
export { describeCause as describeAwsError } from "../release/errors.ts";
