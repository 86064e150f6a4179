#!/usr/bin/env bash
# setup-savvi.sh: a Python virtual environment with savvi 0.3.1 from PyPI (Lindon & Malek's
# anytime-valid multinomial test) for the judge's cross-check (test/savvi-crosscheck.test.ts).
# Idempotent: nothing to do when ${ENVSTACK_CACHE:-~/.cache/envstack}/savvi-<version>/.ready exists.
# Otherwise python3 -m venv, then pip install of savvi and its dependencies at pinned versions
# (matplotlib too: savvi imports it without declaring it), about a minute; pip needs PyPI.
set -Eeuo pipefail

VERSION=0.3.1
ROOT="${ENVSTACK_CACHE:-$HOME/.cache/envstack}"
DIR="$ROOT/savvi-$VERSION"
PINNED=("savvi==$VERSION" "numpy==2.4.6" "scipy==1.17.1" "cvxpy==1.9.3" "py-markdown-table==2.0.0" "matplotlib==3.11.2")

if [ -f "$DIR/.ready" ]; then
  echo "[savvi] found $DIR" >&2
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "[savvi] ERROR: python3 is not on PATH; install Python 3.11 or newer (with venv), then run the tests again" >&2
  exit 1
fi
echo "[savvi] installing savvi $VERSION into $DIR (pip, about a minute) ..." >&2
t0=$(date +%s)
rm -rf "$DIR"
mkdir -p "$ROOT"
python3 -m venv "$DIR"
"$DIR/bin/python" -m pip install --quiet --disable-pip-version-check "${PINNED[@]}" >&2
"$DIR/bin/python" -c "from savvi.multinomial import Multinomial" >&2
touch "$DIR/.ready"
echo "[savvi] installed in $(( $(date +%s) - t0 )) s" >&2
