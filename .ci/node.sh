# Sourced by .ci/run: puts Node 24 (active LTS) first on PATH. When the machine's node is older,
# the npm registry's `node` package provides it, cached under ~/.cache/envstack keyed by version.
NODE_WANT=24.21.0
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 24 ]; then
  NODE_DIR="${ENVSTACK_CACHE:-$HOME/.cache/envstack}/node-$NODE_WANT"
  if [ "$("$NODE_DIR/node_modules/.bin/node" --version 2>/dev/null)" != "v$NODE_WANT" ]; then
    echo "::group::Node $NODE_WANT from the npm registry (the machine has $(node --version 2>/dev/null || echo none))"
    rm -rf "$NODE_DIR"
    npm install --prefix "$NODE_DIR" --no-save --no-audit --no-fund "node@$NODE_WANT"
    echo "::endgroup::"
  fi
  export PATH="$NODE_DIR/node_modules/.bin:$PATH"
  # Native addons compile against this Node's own headers (the package ships them): cdktf-cli's
  # node-pty has no Node 24 prebuild, and node-gyp would otherwise take the system's Node 20
  # headers (or download them) and build a module Node 24 refuses to load.
  export npm_config_nodedir="$NODE_DIR/node_modules/node/node_modules/node-$(node -p 'process.platform + "-" + process.arch')"
  [ -f "$npm_config_nodedir/include/node/node_version.h" ] || { echo "no Node headers at $npm_config_nodedir" >&2; exit 1; }
fi
echo "node $(node --version), npm $(npm --version)"
