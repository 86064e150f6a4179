# setup-functions.sh: the build helpers of setup-engine.sh (sourced by it; they read its variables:
# HERE, ROOT, ENGINE, MIRROR, STATS, LOGS, TIME_BIN, GOOS_ARCH and the versions of versions.env).

# Check that a tools module's go.mod requires exactly the version in versions.env.
check_pin() { # <module dir> <module path> <version>
  local got
  got="$(cd "$HERE/go/$1" && go list -m -f '{{.Version}}' "$2" 2>/dev/null)" \
    || die "cannot read the $2 requirement from $HERE/go/$1/go.mod"
  [ "$got" = "$3" ] || die "$HERE/go/$1/go.mod requires $2 $got, but versions.env pins $3; update the go.mod (go get $2@$3 && go mod tidy)"
}

# Build one Go binary and record wall time and peak RSS in $STATS/<key>.json.
# Several packages (space-separated) build into <output>, a directory named with a trailing slash.
go_build() { # <key> <module dir (absolute, or under lib/engine/go)> <package(s)> <output> <ldflags>
  local key="$1" moddir="$2" pkg="$3" out="$4" ldflags="$5"
  case "$moddir" in /*) ;; *) moddir="$HERE/go/$moddir" ;; esac
  local tmp="${out%/}.tmp.$$" tfile="$STATS/$key.time" blog="$LOGS/$key.build.log"
  case "$out" in */) tmp="$tmp/" ;; esac
  mkdir -p "$(dirname "${out%/}")"
  rm -rf "$tmp" "$tfile"
  local s e rc=0 ticker
  s=$(date +%s.%N)
  # a line a minute while the build runs (expected time, elapsed, the log to follow)
  ( n=0; while sleep 60; do n=$((n + 1)); log "  still building $key: $n min (expected $(expected_minutes "$key") min; log: $blog)"; done ) &
  ticker=$!
  if [ -n "$TIME_BIN" ]; then
    ( cd "$moddir" && CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly" \
        "$TIME_BIN" -v -o "$tfile" go build -trimpath -ldflags "$ldflags" -o "$tmp" $pkg ) >"$blog" 2>&1 || rc=$?
  else
    ( cd "$moddir" && CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly" \
        go build -trimpath -ldflags "$ldflags" -o "$tmp" $pkg ) >"$blog" 2>&1 || rc=$?
  fi
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  e=$(date +%s.%N)
  if [ "$rc" != 0 ] || { [ ! -s "$tmp" ] && [ -z "$(ls -A "$tmp" 2>/dev/null)" ]; }; then
    rm -rf "$tmp"
    tail -n 40 "$blog" >&2 || true
    die "go build of $pkg failed (exit $rc); full log: $blog"
  fi
  if [ -d "$tmp" ]; then
    chmod 0755 "$tmp"/*
    rm -rf "${out%/}"
    mv -f "${tmp%/}" "${out%/}"
  else
    chmod 0755 "$tmp"
    mv -f "$tmp" "$out"
  fi
  python3 - "$key" "$s" "$e" "$tfile" "$STATS/$key.json" "$(go version | awk '{print $3}')" "$(nproc 2>/dev/null || echo 0)" <<'PY'
import json, re, sys, datetime
key, s, e, tfile, out, gover, ncpu = sys.argv[1:]
rss = None
try:
    m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", open(tfile).read())
    if m:
        rss = round(int(m.group(1)) / 1024.0, 1)
except OSError:
    pass
json.dump({"seconds": round(float(e) - float(s), 1), "maxRssMb": rss, "go": gover, "cpus": int(ncpu),
           "builtAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
          open(out, "w"), indent=2)
PY
  log "built $out in" \
    "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["seconds"], "s, peak RSS", d["maxRssMb"], "MB")' "$STATS/$key.json")"
}

# Place the binary under registry.opentofu.org too: hard link, or copy if that fails.
mirror_link() { # <src dir> <dst dir> <bin> <pseudo>
  mkdir -p "$2"
  rm -f "$2/$3.tmp"
  ln -f "$1/$3" "$2/$3.tmp" 2>/dev/null || cp -f "$1/$3" "$2/$3.tmp"
  mv -f "$2/$3.tmp" "$2/$3"
  printf '%s\n' "$4" >"$2/.source"
}

build_provider() { # <step> <name> <label version> <module> <pseudo> <source version> <moddir> <ldflags> <dir tf> <dir ot> <bin>
  local step="$1" name="$2" ver="$3" mod="$4" pseudo="$5" srcver="$6" moddir="$7" ldflags="$8" dtf="$9" dot="${10}" bin="${11}"
  if provider_current "$dtf" "$bin" "$pseudo"; then
    log "step $step/7: terraform-provider-$name $ver already built ($dtf/$bin), skipping"
  else
    log "step $step/7: building terraform-provider-$name $ver from $mod@$pseudo (upstream $srcver), expected $(expected_minutes "$name") min ..."
    check_pin "$moddir" "$mod" "$pseudo"
    rm -f "$dtf/.source"
    go_build "$name-$ver" "$moddir" "$mod" "$dtf/$bin" "$ldflags"
    printf '%s\n' "$pseudo" >"$dtf/.source"
  fi
  # The registry.opentofu.org copy must be the same file (hard link) or identical bytes.
  if provider_current "$dot" "$bin" "$pseudo" && { [ "$dtf/$bin" -ef "$dot/$bin" ] || cmp -s "$dtf/$bin" "$dot/$bin"; }; then
    :
  else
    mirror_link "$dtf" "$dot" "$bin" "$pseudo"
  fi
}

# A virtualenv per pinned version, marked complete only after the installed version was checked,
# so an interrupted install is redone.
python_tool() { # <step> <pip package> <version> <venv> <binary> <command printing the installed version>
  local step="$1" pkg="$2" ver="$3" venv="$4" bin="$5" version_cmd="$6"
  local name="${pkg%%[*}" mark="$4/.envstack-complete"
  if [ -f "$mark" ] && [ -x "$bin" ] && [ "$(cat "$mark")" = "$pkg==$ver" ]; then
    log "step $step/7: $name $ver virtualenv already present ($venv), skipping"
    return
  fi
  log "step $step/7: creating $name $ver virtualenv at $venv ..."
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  local plog="$LOGS/$name-$ver.pip.log"
  if ! { python3 -m venv "$venv" \
         && "$venv/bin/python" -m pip install --disable-pip-version-check -q "$pkg==$ver"; } >"$plog" 2>&1; then
    tail -n 30 "$plog" >&2 || true
    rm -rf "$venv"
    die "$name virtualenv setup failed; full log: $plog (python3-venv installed? PyPI reachable?)"
  fi
  [ -x "$bin" ] || die "$name installed but $bin is missing"
  local got
  got="$(bash -c "$version_cmd")"
  [ "$got" = "$ver" ] || die "$name version in venv is $got, expected $ver"
  printf '%s==%s' "$pkg" "$ver" >"$mark"
  log "$name $ver installed"
}
