/**
 * The database tools of the local loop, as lib/engine/setup-migrate.sh recorded them:
 * golang-migrate (built with -tags postgres) and the PostgreSQL binaries (initdb, postgres, pg_ctl,
 * psql, pg_dump). Read from `${ENVSTACK_CACHE:-~/.cache/envstack}/migrate-<MIGRATE_VERSION>/manifest.json`.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface DbTools {
  /** The golang-migrate binary. */
  readonly migrate: string;
  readonly migrateVersion: string;
  /** The directory holding initdb, postgres and pg_ctl. */
  readonly pgBin: string;
  readonly psql: string;
  readonly pgDump: string;
  readonly postgresVersion: string;
}

/** MIGRATE_VERSION of lib/engine/versions.env. */
export function migrateVersion(): string {
  const text = readFileSync(join(import.meta.dirname, "versions.env"), "utf8");
  const m = /^MIGRATE_VERSION=(\S+)$/m.exec(text);
  if (!m) throw new Error("lib/engine/versions.env does not set MIGRATE_VERSION");
  return m[1]!;
}

export class DbToolsMissing extends Error {
  constructor(manifest: string) {
    super(
      `the database tools are not set up ` +
        `(${manifest} is missing): run 'npm run setup' (lib/engine/setup-migrate.sh builds golang-migrate and finds or installs PostgreSQL)`,
    );
    this.name = "DbToolsMissing";
  }
}

/** The tools, or a DbToolsMissing error naming the setup step. */
export function dbTools(env: NodeJS.ProcessEnv = process.env): DbTools {
  const version = migrateVersion();
  const manifest = join(
    env.ENVSTACK_CACHE ?? join(homedir(), ".cache", "envstack"),
    `migrate-${version}`,
    "manifest.json",
  );
  if (!existsSync(manifest)) throw new DbToolsMissing(manifest);
  const m = JSON.parse(readFileSync(manifest, "utf8")) as {
    migrate: { path: string; version: string };
    postgres: { bin: string; psql: string; pgDump: string; version: string };
  };
  return {
    migrate: m.migrate.path,
    migrateVersion: m.migrate.version,
    pgBin: m.postgres.bin,
    psql: m.postgres.psql,
    pgDump: m.postgres.pgDump,
    postgresVersion: m.postgres.version,
  };
}
