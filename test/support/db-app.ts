/**
 * The stand-in apps of the database tests, one per slot, modelled on `healthStandIn()`
 * (./e2e.ts): an HTTP server that answers a request for slot `X-Release-Slot: <slot>` as the app
 * version that slot runs would, by reading and writing the columns that version needs in the
 * environment's database (through psql, against the real PostgreSQL). 200 when its queries work,
 * 500 with PostgreSQL's error when the schema does not suit it.
 *
 * - 1.4.2 reads and writes `users.email` (schema 1..2);
 * - 1.5.0 reads and writes `users.contact_email` (schema 2..3; test/fixtures/db-app/images).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Slot } from "../../lib/core/primitives.ts";

/** The SQL each app version runs per request (a write, then a read of what it needs). */
export const APP_QUERIES: Record<string, string> = {
  "1.4.2":
    "insert into users(name, email) values ('probe-1.4.2', 'probe-142@example.com'); select count(email) from users",
  "1.5.0":
    "insert into users(name, contact_email) values ('probe-1.5.0', 'probe-150@example.com'); select count(contact_email) from users",
};

export interface AppStandIn {
  readonly url: string;
  /** Every request answered: slot, version, status, PostgreSQL's error when it failed. */
  readonly served: { slot: Slot; version: string; status: number; error?: string }[];
  /** One request as `slot` (what the ALB's test route would send it). */
  probe(slot: Slot): Promise<{ status: number; body: string }>;
  close(): void;
}

/** Apps of the environment `env` of the project at `dir` against `databaseUrl` (the slot's version is read from the release file per request). */
export async function appStandIn(
  dir: string,
  env: string,
  databaseUrl: string,
  psql: string,
  queries: Record<string, string> = APP_QUERIES,
): Promise<AppStandIn> {
  const served: AppStandIn["served"] = [];
  const server: Server = createServer((req, res) => {
    const slot = req.headers["x-release-slot"] as Slot | undefined;
    const release = JSON.parse(readFileSync(join(dir, "environments/releases", `${env}.json`), "utf8"));
    const version: string | null = slot ? (release.slots[slot]?.version ?? null) : null;
    const sql = version ? queries[version] : undefined;
    if (!slot || !sql) {
      res.writeHead(404).end(JSON.stringify({ slot, version }));
      return;
    }
    execFile(
      psql,
      ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", databaseUrl, "-c", sql],
      { timeout: 10_000 },
      (err, _stdout, stderr) => {
        const status = err ? 500 : 200;
        served.push({ slot, version: version!, status, ...(err ? { error: stderr.trim() } : {}) });
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ slot, version, ok: !err, ...(err ? { error: stderr.trim() } : {}) }));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    served,
    probe: async (slot) => {
      const r = await fetch(`${url}/health`, { headers: { "x-release-slot": slot } });
      return { status: r.status, body: await r.text() };
    },
    close: () => server.close(),
  };
}
