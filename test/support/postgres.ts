/**
 * A throwaway PostgreSQL server for the database tests: `initdb` in a temporary
 * directory, `postgres` on a free local port (trust authentication, local only), stopped by
 * `stop()`. The binaries come from lib/engine/setup-migrate.sh's manifest (Debian's postgresql).
 * As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DbTools, dbTools } from "../../lib/engine/db-tools.ts";

export interface Postgres {
  /** `postgres://postgres@127.0.0.1:<port>` (no database): the local target's ENVSTACK_LOCAL_POSTGRES. */
  readonly url: string;
  readonly port: number;
  readonly tools: DbTools;
  /** Runs SQL in `db`, returns psql's unaligned, tuples-only output (trimmed). */
  sql(db: string, sql: string): string;
  stop(): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<Postgres> {
  const tools = dbTools();
  const dir = mkdtempSync(join(tmpdir(), "envstack-pg-"));
  chmodSync(dir, 0o755);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const run = (bin: string, args: string[]) => {
    const cmd = asRoot
      ? ([
          "setpriv",
          ["--reuid=postgres", "--regid=postgres", "--init-groups", join(tools.pgBin, bin), ...args],
        ] as const)
      : ([join(tools.pgBin, bin), args] as const);
    const r = spawnSync(cmd[0], cmd[1] as string[], { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`${bin} ${args.join(" ")} failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  };
  const data = join(dir, "data");
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  run("pg_ctl", [
    "-D",
    data,
    "-l",
    join(dir, "server.log"),
    "-w",
    "-t",
    "60",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    "start",
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}`;
  return {
    url,
    port,
    tools,
    sql: (db, sql) =>
      execFileSync(tools.psql, ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", `${url}/${db}`, "-c", sql], {
        encoding: "utf8",
      }).trim(),
    stop: () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
