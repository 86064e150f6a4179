/**
 * Pre-traffic smoke checks (CodeDeploy's test listener, Flagger's pre-rollout webhooks): HTTP
 * requests to the idle slot through its header-routed test rule (`X-Release-Slot: <slot>`, see
 * lib/constructs/load-balancer.ts) before the first canary step. A failure refuses the rollout.
 * HTTP and the header's name come through the SmokeClient port (lib/release/ports/index.ts).
 */
import type { Slot } from "../../core/primitives.ts";
import type { Smoke, SmokeCheck } from "../model/policy.ts";
import type { ReleaseEnvironment, SmokeClient } from "../ports/index.ts";

export interface SmokeResult {
  readonly url: string;
  readonly ok: boolean;
  /** Status of the last attempt; absent when no response came back. */
  readonly status?: number;
  /** Why the last attempt failed (status, body mismatch, timeout, connection error). */
  readonly problem?: string;
  /** The first 200 characters of the last response body. */
  readonly body?: string;
  readonly attempts: number;
  readonly ms: number;
}

/** `https://<domain>` (`http://` without a certificate), unless the environment names a base URL. */
export function smokeBaseUrl(
  env: Pick<ReleaseEnvironment, "domain" | "certificateArn"> & { release: { smoke: Pick<Smoke, "baseUrl"> } },
): string {
  return (env.release.smoke.baseUrl ?? `${env.certificateArn ? "https" : "http"}://${env.domain}`).replace(/\/+$/, "");
}

async function check(base: string, slot: Slot, c: SmokeCheck, d: SmokeClient): Promise<SmokeResult> {
  const url = `${base}${c.path}`;
  const started = Date.now();
  let last: Omit<SmokeResult, "attempts" | "ms"> = { url, ok: false, problem: "not attempted" };
  let attempts = 0;
  for (let i = 0; i <= c.retries; i++) {
    if (i > 0) await d.sleep(2000);
    attempts++;
    try {
      const res = await d.fetch(url, {
        headers: { [d.slotHeader]: slot },
        signal: AbortSignal.timeout(c.timeoutSeconds * 1000),
        redirect: "manual",
      });
      const body = await res.text();
      const snippet = body.slice(0, 200);
      if (res.status !== c.expectStatus)
        last = {
          url,
          ok: false,
          status: res.status,
          body: snippet,
          problem: `status ${res.status}, expected ${c.expectStatus}`,
        };
      else if (c.bodyMatch && !new RegExp(c.bodyMatch).test(body))
        last = { url, ok: false, status: res.status, body: snippet, problem: `body does not match /${c.bodyMatch}/` };
      else return { url, ok: true, status: res.status, attempts, ms: Date.now() - started };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      last = {
        url,
        ok: false,
        problem:
          e.name === "TimeoutError"
            ? `no response within ${c.timeoutSeconds} s`
            : `${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message}`,
      };
    }
  }
  return { ...last, attempts, ms: Date.now() - started };
}

/** Runs every check against `slot` (sequentially: they are few, and a broken slot should not be hammered). */
export async function runSmokeChecks(
  base: string,
  slot: Slot,
  checks: readonly SmokeCheck[],
  d: SmokeClient,
): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const c of checks) results.push(await check(base, slot, c, d));
  return results;
}

export function describeSmoke(r: SmokeResult): string {
  return (
    `${r.ok ? "✔" : "✖"} ${r.url} → ` +
    `${r.ok ? `${r.status}` : r.problem}${
      !r.ok && r.body ? ` — body: ${JSON.stringify(r.body)}` : ""
    } (${r.attempts} attempt${r.attempts === 1 ? "" : "s"}, ${r.ms} ms)`
  );
}
