/**
 * The local target's database (the emulator profile, README "Database changes"): RDS in moto has
 * no SQL engine, so the environment's database `<env>-postgres` (or the instance its release file
 * names) is a database of that name on a local PostgreSQL server (`ENVSTACK_LOCAL_POSTGRES`,
 * `postgres://user@host:port`). The app image's migration command runs as a local process:
 * the image is a directory `ENVSTACK_LOCAL_IMAGES/<version>/` holding `image.json` (the image's
 * labels, as `docker inspect` shows them) and the files of the image's working directory.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type {
  Database,
  MigrationRequest,
  MigrationResult,
  ReleaseEnvironment,
  SchemaState,
} from "../release/ports/index.ts";
import { CATALOG_SQL, parseCatalog } from "./catalog.ts";
import type { DataPlane } from "./copy.ts";
import { type ImageContract, imageContract } from "./image.ts";
import { migrationEnvironment } from "./migration-env.ts";
import { ident, literal, queryJson, runSql, type SqlTarget } from "./psql.ts";
import { redact } from "./redact.ts";

export interface LocalDatabaseOptions {
  /** `postgres://user@host:port` of the local server (no database). */
  readonly server: string;
  /** Directory of the image stand-ins: `<version>/image.json` and the image's working directory. */
  readonly images: string;
  readonly psql: string;
  /** golang-migrate (put first on the command's PATH, as the image carries it). */
  readonly migrate: string;
  /** Seconds between SIGTERM and SIGKILL when a command is stopped. @default 5 */
  readonly killGraceSeconds?: number;
}

/** The database named `name` on the local server. */
export function localTarget(o: Pick<LocalDatabaseOptions, "server" | "psql">, name: string): SqlTarget {
  return { url: `${o.server.replace(/\/+$/, "")}/${name}?sslmode=disable`, psql: o.psql };
}

/** Creates the database on the local server when it does not exist (the local stand-in of the deployed RDS instance). */
export async function ensureLocalDatabase(
  o: Pick<LocalDatabaseOptions, "server" | "psql">,
  name: string,
): Promise<void> {
  const admin = localTarget(o, "postgres");
  const exists = await queryJson<boolean>(
    admin,
    `select to_json(exists(select 1 from pg_database where datname = ${literal(name)}))`,
  );
  if (!exists) await runSql(admin, `create database ${ident(name)}`);
}

/** golang-migrate's version table: `schema_migrations (version bigint, dirty boolean)`; absent: no migration ran. */
export async function readSchemaOf(t: SqlTarget): Promise<SchemaState> {
  const table = await queryJson<string | null>(t, "select to_json(to_regclass('public.schema_migrations')::text)");
  if (table === null) return { schema: null, dirty: false };
  const row = await queryJson<{ version: number; dirty: boolean } | null>(
    t,
    "select row_to_json(m) from (select version, dirty from public.schema_migrations limit 1) m",
  );
  return row === null ? { schema: null, dirty: false } : { schema: Number(row.version), dirty: row.dirty };
}

/** The image stand-in of `version`: its contract (labels) and its working directory. */
export function localImage(images: string, version: string): { dir: string; contract: ImageContract } {
  const dir = join(images, version);
  const file = join(dir, "image.json");
  if (!existsSync(file))
    throw new Error(
      `no image ${version}: ${file} is missing (the local loop's image stand-in: image.json with the image's labels)`,
    );
  const labels = (JSON.parse(readFileSync(file, "utf8")) as { labels?: Record<string, string> }).labels ?? {};
  return { dir, contract: imageContract(labels, `image ${version}`) };
}

/** The local target's databases for data copies: the local server, `pg_dump` standing in for RDS's latest snapshot. */
export function localDataPlane(
  o: Pick<LocalDatabaseOptions, "server" | "psql"> & { readonly pgDump: string },
): DataPlane {
  const t = (name: string) => localTarget(o, name);
  return {
    async restoreLatest(source, as, log) {
      const admin = localTarget(o, "postgres");
      await runSql(admin, `create database ${ident(as)}`);
      log(`pg_dump ${source} | psql ${as} (the local stand-in of restoring ${source}'s latest snapshot)`);
      await new Promise<void>((resolve, reject) => {
        const dump = spawn(o.pgDump, ["--no-owner", "--no-privileges", "-d", t(source).url], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        const load = spawn(o.psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", t(as).url], {
          stdio: ["pipe", "ignore", "pipe"],
        });
        let err = "";
        dump.stderr.on("data", (d) => (err += d));
        load.stderr.on("data", (d) => (err += d));
        dump.stdout.pipe(load.stdin);
        let codes = 0;
        const done = () => {
          if (++codes < 2) return;
          if (dump.exitCode === 0 && load.exitCode === 0) resolve();
          else
            reject(
              new Error(
                `restore of ${source} into ${as} failed (pg_dump exit ${dump.exitCode}, psql exit ${load.exitCode}): ` +
                  redact(err.trim().split("\n").slice(0, 4).join(" ")),
              ),
            );
        };
        dump.on("close", done);
        load.on("close", done);
      });
    },
    exists: async (name) =>
      (await queryJson<boolean>(
        localTarget(o, "postgres"),
        `select to_json(exists(select 1 from pg_database where datname = ${literal(name)}))`,
      )) === true,
    catalog: async (name) => parseCatalog(await queryJson<unknown>(t(name), CATALOG_SQL)),
    run: (name, sql) => runSql(t(name), sql, 30 * 60_000),
    readSchema: (name) => readSchemaOf(t(name)),
    drop: async (name) => {
      await runSql(localTarget(o, "postgres"), `drop database if exists ${ident(name)} with (force)`);
    },
  };
}

export function localDatabase(
  o: LocalDatabaseOptions,
  env: ReleaseEnvironment,
  instance = `${env.name}-postgres`,
): Database {
  const target = localTarget(o, instance);
  return {
    async readSchema() {
      await ensureLocalDatabase(o, instance);
      return readSchemaOf(target);
    },
    async migrate(req: MigrationRequest): Promise<MigrationResult> {
      await ensureLocalDatabase(o, instance);
      const { dir, contract } = localImage(o.images, req.version);
      const vars: Record<string, string> = { DATABASE_URL: target.url, ENVSTACK_SCHEMA_TO: String(req.to) };
      const argv = contract.migrate.map((a) =>
        a.replace(/\$\{(DATABASE_URL|ENVSTACK_SCHEMA_TO)\}/g, (_, k: string) => vars[k]!),
      );
      const settings = Object.fromEntries(Object.entries(req.settings?.values ?? {}).map(([k, v]) => [k, String(v)]));
      const where = `local process in ${dir}`;
      req.log(`$ ${argv.map((a) => redact(a)).join(" ")}`);
      return new Promise((resolve) => {
        const child = spawn(argv[0]!, argv.slice(1), {
          cwd: dir,
          // What the command needs, never envctl's whole environment (cloud credentials, CI tokens).
          env: migrationEnvironment(process.env, { settings, vars, toolDir: dirname(o.migrate) }),
          stdio: ["ignore", "pipe", "pipe"],
          // Its own process group: a stop ends the whole command (a shell and what it started), not just its first process.
          detached: true,
        });
        const kill = (sig: NodeJS.Signals) => {
          try {
            process.kill(-child.pid!, sig);
          } catch {
            child.kill(sig);
          }
        };
        let stopped = false;
        let timedOut = false;
        const stop = () => {
          if (stopped) return;
          stopped = true;
          kill("SIGTERM");
          setTimeout(() => kill("SIGKILL"), (o.killGraceSeconds ?? 5) * 1000).unref();
        };
        const timer = setTimeout(() => {
          timedOut = true;
          req.log(`timeout: ${req.timeoutSeconds} s passed, stopping the migration command`);
          stop();
        }, req.timeoutSeconds * 1000);
        const onAbort = () => {
          req.log("interrupted: stopping the migration command");
          stop();
        };
        req.signal?.addEventListener("abort", onAbort, { once: true });
        for (const stream of [child.stdout, child.stderr])
          createInterface({ input: stream }).on("line", (l) => req.log(redact(l)));
        const done = (exitCode: number | null, error?: string) => {
          clearTimeout(timer);
          req.signal?.removeEventListener("abort", onAbort);
          if (error) req.log(error);
          resolve({ exitCode: stopped ? null : exitCode, timedOut, where });
        };
        child.on("error", (err) => done(null, `could not start ${argv[0]}: ${err.message}`));
        child.on("close", (code) => done(code));
      });
    },
  };
}
