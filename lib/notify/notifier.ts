/**
 * The Notifier port's adapter: each event goes to the environment's targets whose event filter and
 * minimum severity let it through, in the background. `send` returns at once and never throws; a
 * delivery retries with backoff and a timeout per attempt; every delivery (delivered, failed, or
 * abandoned when envctl could not wait any longer) is recorded in the environment's history.
 * Webhook URLs and signing keys are resolved at delivery time from the process environment or
 * Secrets Manager (never from a committed file), so a missing secret fails that delivery only.
 */
import { randomUUID } from "node:crypto";
import type { NotifyConfig, NotifyTarget, SecretRef } from "../config/schema/notify.ts";
import { type ReleaseEventPayload, severityAtLeast } from "../release/model/events.ts";
import type { Notifier } from "../release/ports/index.ts";
import {
  type Attempted,
  callWithRetries,
  DELIVERY_HEADER,
  EVENT_HEADER,
  type NotifyFetch,
  postWithRetries,
  SIGNATURE_HEADER,
  signature,
  TIMESTAMP_HEADER,
} from "./deliver.ts";
import { slackBody, snsMessage, webhookBody } from "./format.ts";

/** Publishes to an SNS topic (lib/aws/sns.ts; a fake in tests). */
export interface SnsPublisher {
  publish(topicArn: string, subject: string, message: string, signal: AbortSignal): Promise<void>;
}

/** One line of the history: a delivery and how it ended. */
export interface DeliveryRecord {
  readonly kind: "notification";
  readonly at: string;
  readonly event: string;
  readonly severity: string;
  readonly target: string;
  readonly targetKind: NotifyTarget["kind"];
  readonly outcome: "delivered" | "failed" | "abandoned";
  readonly attempts: number;
  readonly status?: number;
  readonly error?: string;
  /** Milliseconds from the event to the end of its delivery. */
  readonly ms: number;
  /** The id sent as the webhook's delivery header (receivers deduplicate retries by it). */
  readonly id: string;
}

export interface NotifierDeps {
  /** The environment's notification settings and region; undefined: none. */
  readonly configOf: (env: string) => { readonly notify: NotifyConfig; readonly region: string } | undefined;
  /** The value of a secret reference (environment variable or Secrets Manager); rejects when there is none. */
  readonly resolve: (ref: SecretRef, env: string) => Promise<string>;
  readonly fetch: NotifyFetch;
  /** The publisher for `env`'s topics in `region` (envctl's: under the environment's own role). */
  readonly sns: (region: string, env: string) => SnsPublisher;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
  /** Appends a delivery to the environment's history. */
  readonly record: (env: string, r: DeliveryRecord) => void;
}

/** The notifier, and a bounded wait for the deliveries still running (the CLI calls it before it exits). */
export interface BackgroundNotifier extends Notifier {
  /** Waits for the queued deliveries, at most `boundMs`; those still running are recorded as abandoned. Resolves with their number. */
  settle(boundMs: number): Promise<number>;
}

/** True when `target` takes the event (its filter and its minimum severity). */
export function wants(target: NotifyTarget, p: ReleaseEventPayload): boolean {
  return target.events.includes(p.event) && severityAtLeast(p.severity, target.minSeverity);
}

/** A webhook URL must be HTTPS (plain HTTP only to this machine: a local relay, the tests' receivers); the error never shows it. */
export function checkUrl(url: string, target: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`the URL of ${target} is not a valid URL`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback))
    throw new Error(`the URL of ${target} must be https:// (http:// only to localhost)`);
  return url;
}

export function createNotifier(deps: NotifierDeps): BackgroundNotifier {
  const running = new Map<Promise<void>, () => void>();

  const deliver = async (
    env: string,
    target: NotifyTarget,
    notify: NotifyConfig,
    region: string,
    p: ReleaseEventPayload,
    id: string,
  ): Promise<Attempted> => {
    const policy = { timeoutMs: notify.timeoutMs, attempts: notify.attempts, backoffMs: notify.backoffMs };
    const http = { fetch: deps.fetch, sleep: deps.sleep };
    switch (target.kind) {
      case "slack":
        return postWithRetries(
          checkUrl(await deps.resolve(target.url, env), target.name),
          slackBody(p),
          { "content-type": "application/json" },
          policy,
          http,
        );
      case "webhook": {
        const [raw, key] = await Promise.all([deps.resolve(target.url, env), deps.resolve(target.signingKey, env)]);
        const url = checkUrl(raw, target.name);
        const body = webhookBody(p);
        const timestamp = String(Math.floor(deps.now().getTime() / 1000));
        return postWithRetries(
          url,
          body,
          {
            "content-type": "application/json",
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: signature(key, timestamp, body),
            [EVENT_HEADER]: p.event,
            [DELIVERY_HEADER]: id,
          },
          policy,
          http,
        );
      }
      case "sns": {
        const { subject, message } = snsMessage(p);
        const publisher = deps.sns(region, env);
        return callWithRetries((signal) => publisher.publish(target.topicArn, subject, message, signal), policy, http);
      }
    }
  };

  const send = (p: ReleaseEventPayload): void => {
    let config: ReturnType<NotifierDeps["configOf"]>;
    try {
      config = deps.configOf(p.environment);
    } catch {
      return;
    }
    if (!config) return;
    for (const target of config.notify.targets.filter((t) => wants(t, p))) {
      const t0 = Date.now();
      const id = randomUUID();
      let done = false;
      const base = {
        kind: "notification" as const,
        event: p.event,
        severity: p.severity,
        target: target.name,
        targetKind: target.kind,
        id,
      };
      const write = (r: Omit<DeliveryRecord, keyof typeof base | "at" | "ms">) => {
        if (done) return;
        done = true;
        try {
          deps.record(p.environment, { ...base, at: deps.now().toISOString(), ms: Date.now() - t0, ...r });
        } catch {
          // the history could not be written: the delivery itself is unaffected
        }
      };
      const task = (async () => {
        try {
          const a = await deliver(p.environment, target, config.notify, config.region, p, id);
          write({
            outcome: a.ok ? "delivered" : "failed",
            attempts: a.attempts,
            ...(a.status !== undefined ? { status: a.status } : {}),
            ...(a.error ? { error: a.error } : {}),
          });
        } catch (err) {
          // A secret that could not be resolved: named, never its value.
          write({ outcome: "failed", attempts: 0, error: (err as Error).message.slice(0, 300) });
        }
      })();
      const abandon = () =>
        write({ outcome: "abandoned", attempts: 0, error: "envctl stopped waiting for this delivery" });
      running.set(task, abandon);
      void task.finally(() => running.delete(task));
    }
  };

  const settle = async (boundMs: number): Promise<number> => {
    if (running.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...running.keys()]),
      new Promise<void>((r) => {
        timer = setTimeout(r, boundMs);
      }),
    ]);
    clearTimeout(timer);
    const left = [...running.values()];
    for (const abandon of left) abandon();
    return left.length;
  };

  return { send, settle };
}

/** Slack for a delivery's own work beside its attempts and backoff (resolving a secret, recording). */
export const SETTLE_MARGIN_MS = 500;

/**
 * The longest a CLI waits for its deliveries before it exits: every attempt's timeout and backoff of
 * the slowest setting, and a margin, at most 30 s (0 without targets).
 */
export function settleBound(configs: readonly NotifyConfig[]): number {
  const worst = configs
    .filter((c) => c.targets.length > 0)
    .map((c) => c.timeoutMs * c.attempts + c.backoffMs * (2 ** Math.max(0, c.attempts - 1) - 1) + SETTLE_MARGIN_MS);
  return Math.min(30_000, Math.max(0, ...worst));
}

/** node's fetch, reading no body (an answer's status is all a delivery needs). */
export const nodeFetch: NotifyFetch = async (url, init) => {
  const res = await fetch(url, { ...init, redirect: "manual" });
  await res.body?.cancel().catch(() => undefined);
  return { status: res.status };
};
