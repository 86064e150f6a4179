#!/usr/bin/env bash
# setup-chromium.sh: makes sure a headless Chromium is there for the report's browser test
# (test/report.test.ts drives it with playwright-core). Idempotent: nothing to do when one of
# the paths lib/report/browser.ts looks at (or $CHROMIUM_PATH) is executable. Otherwise, as
# root with apt-get: `apt-get install -y chromium` (Debian's package, ~100 MB, about a minute).
set -Eeuo pipefail

for c in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
  if [ -n "$c" ] && [ -x "$c" ]; then
    echo "[chromium] found $c" >&2
    exit 0
  fi
done

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[chromium] not found: installing Debian's chromium (apt-get install -y chromium, about a minute) ..." >&2
  t0=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium >&2
  echo "[chromium] installed /usr/bin/chromium in $(( $(date +%s) - t0 )) s" >&2
  exit 0
fi

cat >&2 <<'MSG'
[chromium] ERROR: no Chromium found, and this script can only install one as root with apt-get.
  Install it yourself (Debian/Ubuntu: sudo apt-get install -y chromium), or point CHROMIUM_PATH
  at a Chromium or Chrome binary, then run the tests again.
MSG
exit 1
