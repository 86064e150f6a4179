/**
 * SQL through `psql` (the PostgreSQL client of lib/engine/setup-migrate.sh): the same client runs
 * locally against the local PostgreSQL and, on AWS, inside the VPC. Each query returns one JSON
 * value (`select json_agg(...)`), so nothing parses psql's tables.
 */
import { execFile } from "node:child_process";
import { redact } from "./redact.ts";

export { redact } from "./redact.ts";

export class SqlError extends Error {
  constructor(
    readonly database: string,
    message: string,
  ) {
    super(message);
    this.name = "SqlError";
  }
}

/** Where a database is: a PostgreSQL URL without credentials in the text we print. */
export interface SqlTarget {
  /** `postgres://user@host:port/database` */
  readonly url: string;
  /** The psql binary. */
  readonly psql: string;
}

/** Runs SQL (one or more statements) and returns psql's unaligned, tuples-only output, trimmed. */
export function runSql(t: SqlTarget, sql: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      t.psql,
      ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", t.url, "-c", sql],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PGCONNECT_TIMEOUT: "5" } },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new SqlError(
              redact(t.url),
              `${redact(t.url)}: ${redact(
                String(stderr || err.message)
                  .trim()
                  .split("\n")
                  .slice(0, 4)
                  .join(" "),
              )}`,
            ),
          );
        else resolve(stdout.trim());
      },
    );
  });
}

/** Runs a query returning one JSON value (null when the query gives no row). */
export async function queryJson<T>(t: SqlTarget, sql: string, timeoutMs?: number): Promise<T> {
  const out = await runSql(t, sql, timeoutMs);
  return (out === "" ? null : JSON.parse(out)) as T;
}

/** A SQL identifier, quoted. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal. */
export function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
