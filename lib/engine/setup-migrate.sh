#!/usr/bin/env bash
# setup-migrate.sh: the database parts of the local loop, apart from the Terraform engine:
#   1. PostgreSQL server binaries (initdb, postgres, pg_ctl, psql, pg_dump): found on PATH or under
#      /usr/lib/postgresql/*/bin; `apt-get install -y postgresql` only when missing.
#   2. golang-migrate (the migration tool the stand-in apps' images carry, see README "Database
#      changes"), built from the Go module proxy with `-tags postgres` into
#      ${ENVSTACK_CACHE:-$HOME/.cache/envstack}/migrate-<version>/migrate, keyed by version.
#   3. ${ENVSTACK_CACHE}/migrate-<version>/manifest.json: where both are (test/support/postgres.ts reads it).
# A second run takes well under a second. Run by `npm run setup` (package.json), after setup-engine.sh.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"
[ -n "${MIGRATE_VERSION:-}" ] || { echo "[migrate] ERROR: versions.env does not set MIGRATE_VERSION" >&2; exit 1; }
T0=$(date +%s)
log() { printf '[migrate] %s (t+%ss)\n' "$*" "$(( $(date +%s) - T0 ))" >&2; }

ROOT="${ENVSTACK_CACHE:-$HOME/.cache/envstack}"
DIR="$ROOT/migrate-$MIGRATE_VERSION"
BIN="$DIR/migrate"
MANIFEST="$DIR/manifest.json"
mkdir -p "$DIR"

# ------------------------------------------------------------------ PostgreSQL
find_pg_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}
PG_BIN="$(find_pg_bin || true)"
if [ -z "$PG_BIN" ] || ! command -v psql >/dev/null 2>&1 || ! command -v pg_dump >/dev/null 2>&1; then
  log "PostgreSQL server or client missing: apt-get install -y postgresql"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  PG_BIN="$(find_pg_bin)" || { echo "[migrate] ERROR: initdb/postgres not found after installing postgresql" >&2; exit 1; }
fi
PSQL="$(command -v psql)"
PG_DUMP="$(command -v pg_dump)"
PG_VERSION="$("$PG_BIN/postgres" --version | awk '{print $3}')"

# --------------------------------------------------------------- golang-migrate
if [ ! -x "$BIN" ]; then
  log "building golang-migrate $MIGRATE_VERSION (-tags postgres) into $DIR"
  GOBIN="$DIR" GOFLAGS="-buildvcs=false" CGO_ENABLED=0 go install -tags postgres "github.com/golang-migrate/migrate/v4/cmd/migrate@$MIGRATE_VERSION"
fi
"$BIN" -version >/dev/null 2>&1 || { echo "[migrate] ERROR: $BIN does not run" >&2; exit 1; }

cat > "$MANIFEST.tmp" <<JSON
{
  "migrate": { "version": "$MIGRATE_VERSION", "path": "$BIN", "tags": ["postgres"] },
  "postgres": { "version": "$PG_VERSION", "bin": "$PG_BIN", "psql": "$PSQL", "pgDump": "$PG_DUMP" }
}
JSON
mv "$MANIFEST.tmp" "$MANIFEST"
log "ready: $BIN, PostgreSQL $PG_VERSION in $PG_BIN ($MANIFEST)"
