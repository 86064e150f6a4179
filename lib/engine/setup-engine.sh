#!/usr/bin/env bash
# setup-engine.sh: builds and caches the offline Terraform engine:
#   1. the OpenTofu CLI, built from source (Go tools module lib/engine/go/opentofu)
#   2. terraform-provider-aws, built from source and put in a filesystem mirror: by default only the
#      service packages the project's stacks use (lib/engine/aws-provider-types.txt, trimmed by
#      lib/engine/go/aws-trim), ENVSTACK_AWS_PROVIDER=full for the whole provider
#   3. terraform-provider-kubernetes, built from source and put in the same mirror
#   4. the local Kubernetes control plane the EKS workloads stacks are applied to: etcd,
#      kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes built as a library,
#      lib/engine/go/kubernetes) and kwok (simulated nodes; lib/engine/control-plane.ts runs them)
#   5. the moto server, in its own virtualenv
#   6. checkov (the IaC scanner npm test runs over the synthesized stacks), in its own virtualenv
#   7. an offline OpenTofu CLI config (tofurc) and manifest.json
#
# Versions come from lib/engine/versions.env. The cache root is
# ${ENVSTACK_CACHE:-$HOME/.cache/envstack}. Every artefact path includes its
# version, and anything already present is reused. A second run takes seconds.
#
# Needs: go (the version in the go.mod files, or GOTOOLCHAIN=auto so go can
# fetch it), python3 with venv, and network access to the Go module proxy and
# PyPI for the first build only.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
T0=$(date +%s)

log()  { printf '[engine] %s (t+%ss)\n' "$*" "$(( $(date +%s) - T0 ))" >&2; }
die()  { printf '[engine] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "[engine] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

[ -f "$HERE/versions.env" ] || die "missing $HERE/versions.env"
# shellcheck source=versions.env
source "$HERE/versions.env"
for v in OPENTOFU_VERSION OPENTOFU_MODULE AWS_PROVIDER_VERSION AWS_PROVIDER_MODULE AWS_PROVIDER_PSEUDO \
         AWS_PROVIDER_SOURCE_VERSION K8S_PROVIDER_VERSION K8S_PROVIDER_MODULE K8S_PROVIDER_PSEUDO \
         K8S_PROVIDER_SOURCE_VERSION KUBERNETES_VERSION ETCD_VERSION KWOK_VERSION MOTO_VERSION CHECKOV_VERSION; do
  [ -n "${!v:-}" ] || die "versions.env does not set $v"
done

ROOT="${ENVSTACK_CACHE:-$HOME/.cache/envstack}"
ENGINE="$ROOT/engine"
MIRROR="$ENGINE/mirror"
STATS="$ENGINE/build-stats"
LOGS="$ENGINE/logs"
TOFU_DIR="$ENGINE/opentofu-$OPENTOFU_VERSION"
TOFU="$TOFU_DIR/tofu"
CLI_CONFIG="$ENGINE/tofurc"
MANIFEST="$ENGINE/manifest.json"
MOTO_VENV="$ROOT/moto-$MOTO_VERSION/venv"
MOTO_SERVER="$MOTO_VENV/bin/moto_server"
CHECKOV_VENV="$ROOT/checkov-$CHECKOV_VERSION/venv"
CHECKOV_BIN="$CHECKOV_VENV/bin/checkov"
KUBE_DIR="$ENGINE/kubernetes-$KUBERNETES_VERSION"
ETCD_BIN="$ENGINE/etcd-$ETCD_VERSION/etcd"
KWOK_BIN="$ENGINE/kwok-$KWOK_VERSION/kwok"
KUBE_COMPONENTS="kube-apiserver kube-controller-manager kube-scheduler"
mkdir -p "$ENGINE" "$MIRROR" "$STATS" "$LOGS"

# Only one setup run at a time per cache root.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$ENGINE/.lock"
  flock -w 3600 9 || die "another setup-engine.sh run holds $ENGINE/.lock"
fi

log "cache root: $ROOT"

# ---------------------------------------------------------------- prerequisites
need_go=0
[ -x "$TOFU" ] || need_go=1
command -v python3 >/dev/null 2>&1 || die "python3 not found (needed for manifest.json and moto)"

GOOS_ARCH="$(uname -s | tr '[:upper:]' '[:lower:]')_$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')"
if command -v go >/dev/null 2>&1; then
  GOOS_ARCH="$(go env GOOS)_$(go env GOARCH)"
fi

# The AWS provider: "trimmed" (default) compiles only the service packages serving the types listed
# in aws-provider-types.txt; "full" compiles all of them. Each has its own mirror, keyed by what
# decides its bytes (for the trimmed one, the type list and the trimming generator), so both can
# be cached side by side and switching is a re-run of this script.
AWS_FLAVOUR="${ENVSTACK_AWS_PROVIDER:-trimmed}"
AWS_TYPES="$HERE/aws-provider-types.txt"
case "$AWS_FLAVOUR" in
  full) AWS_KEY=full ;;
  trimmed)
    [ -f "$AWS_TYPES" ] || die "missing $AWS_TYPES (the resource and data source types the trimmed AWS provider serves)"
    AWS_KEY="trimmed-$(cat "$AWS_TYPES" "$HERE/go/aws-trim/main.go" | sha256sum | cut -c1-12)" ;;
  *) die "ENVSTACK_AWS_PROVIDER must be 'trimmed' (default) or 'full', not '$AWS_FLAVOUR'" ;;
esac
AWS_MIRROR="$ENGINE/mirror-aws-$AWS_KEY"
AWS_DIR_TF="$AWS_MIRROR/registry.terraform.io/hashicorp/aws/$AWS_PROVIDER_VERSION/$GOOS_ARCH"
AWS_DIR_OT="$AWS_MIRROR/registry.opentofu.org/hashicorp/aws/$AWS_PROVIDER_VERSION/$GOOS_ARCH"
AWS_SERVED="$AWS_MIRROR/served-types.json"
AWS_BIN_NAME="terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5"
K8S_DIR_TF="$MIRROR/registry.terraform.io/hashicorp/kubernetes/$K8S_PROVIDER_VERSION/$GOOS_ARCH"
K8S_DIR_OT="$MIRROR/registry.opentofu.org/hashicorp/kubernetes/$K8S_PROVIDER_VERSION/$GOOS_ARCH"
K8S_BIN_NAME="terraform-provider-kubernetes_v${K8S_PROVIDER_VERSION}_x5"

# A provider binary is reused only if its .source stamp names the pinned commit.
provider_current() { # <dir> <bin> <pseudo>
  [ -x "$1/$2" ] && [ "$(cat "$1/.source" 2>/dev/null || true)" = "$3" ]
}
provider_current "$AWS_DIR_TF" "$AWS_BIN_NAME" "$AWS_PROVIDER_PSEUDO" || need_go=1
provider_current "$K8S_DIR_TF" "$K8S_BIN_NAME" "$K8S_PROVIDER_PSEUDO" || need_go=1
for c in $KUBE_COMPONENTS; do [ -x "$KUBE_DIR/$c" ] || need_go=1; done
[ -x "$ETCD_BIN" ] && [ -x "$KWOK_BIN" ] || need_go=1

# What a first build costs, measured on 2 cores (docs/engine-and-emulator.md): said up front, and
# repeated while a build runs, so nobody takes the silence for a hang.
expected_minutes() { # <key prefix>
  case "$1" in
    opentofu*) echo 4-6 ;; aws-*-full) echo 30-40 ;; aws*) echo 5-8 ;; kubernetes-v*) echo 2-4 ;; control-plane*) echo 5-8 ;;
    etcd*) echo 1-2 ;; kwok*) echo 2-3 ;; *) echo "?" ;;
  esac
}
if [ "$need_go" = 1 ]; then
  if [ "$AWS_FLAVOUR" = full ]; then
    log "first build of the engine: about 40-55 min on 2 cores (OpenTofu 4-6 min, the full AWS provider 30-40 min" \
      "at up to 9 GB, Kubernetes provider 2-4 min, the Kubernetes control plane 9-11 min, moto 1 min);" \
      "cached under $ROOT, later runs take seconds"
  else
    log "first build of the engine: about 25-30 min on 2 cores (OpenTofu 4-6 min, the trimmed AWS provider 5-8 min" \
      "at up to 4 GB, Kubernetes provider 2-4 min, the Kubernetes control plane 9-11 min at up to 2 GB, moto 1 min);" \
      "cached under $ROOT, later runs take seconds"
  fi
fi

TIME_BIN=""
if [ "$need_go" = 1 ]; then
  command -v go >/dev/null 2>&1 || die "go not found on PATH (needed to build missing binaries)"
  log "using $(go version)"
  if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
    TIME_BIN=/usr/bin/time
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing GNU time (apt-get install -y time) to measure peak memory"
    if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; } >"$LOGS/apt-time.log" 2>&1; then
      TIME_BIN=/usr/bin/time
    else
      log "warning: could not install GNU time (see $LOGS/apt-time.log); peak RSS will not be recorded"
    fi
  else
    log "warning: /usr/bin/time not available; peak RSS will not be recorded"
  fi
fi

# The build helpers (check_pin, go_build, mirror_link, build_provider, python_tool).
# shellcheck source=setup-functions.sh
source "$HERE/setup-functions.sh"

# ------------------------------------------------------------------ 1. OpenTofu
if [ -x "$TOFU" ]; then
  log "step 1/7: OpenTofu $OPENTOFU_VERSION already built ($TOFU), skipping"
else
  log "step 1/7: building OpenTofu $OPENTOFU_VERSION (cmd/tofu), expected $(expected_minutes opentofu) min ..."
  check_pin opentofu "$OPENTOFU_MODULE" "$OPENTOFU_VERSION"
  go_build "opentofu-$OPENTOFU_VERSION" opentofu "$OPENTOFU_MODULE/cmd/tofu" "$TOFU" \
    "-s -w -X '$OPENTOFU_MODULE/version.dev=no'"
fi
"$TOFU" version >/dev/null 2>&1 || die "$TOFU does not run ('tofu version' failed)"

# ------------------------------------------------------------- 2./3. providers
# The trimmed AWS provider: a writable copy of the pinned module's source, rewritten by aws-trim to
# register only the service packages serving aws-provider-types.txt (and those their code asks
# clients of), built as its own main module (upstream's go.mod and go.sum, so the same dependency
# versions as the full build). aws-trim's report, the types the build serves, goes beside the
# binary: envctl and the tests refuse a stack with a type outside it before the engine starts.
build_aws_trimmed() {
  local src="$ROOT/src/terraform-provider-aws-$AWS_KEY" upstream
  upstream="$(cd "$HERE/go/provider-aws" && go mod download -json "$AWS_PROVIDER_MODULE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  [ -d "$upstream" ] || die "go mod download of $AWS_PROVIDER_MODULE gave no source directory"
  rm -rf "$src" && mkdir -p "$(dirname "$src")"
  cp -R "$upstream" "$src" && chmod -R u+w "$src"
  ( cd "$HERE/go/aws-trim" && CGO_ENABLED=0 go run . -src "$src" -types "$AWS_TYPES" -report "$src/served-types.json" ) >"$LOGS/aws-trim.log" 2>&1 \
    || { tail -n 20 "$LOGS/aws-trim.log" >&2; die "trimming the AWS provider failed; full log: $LOGS/aws-trim.log"; }
  log "  $(tail -n 1 "$LOGS/aws-trim.log")"
  go_build "aws-$AWS_PROVIDER_VERSION-$AWS_KEY" "$src" . "$AWS_DIR_TF/$AWS_BIN_NAME" "$AWS_LDFLAGS"
  cp "$src/served-types.json" "$AWS_SERVED.tmp" && mv -f "$AWS_SERVED.tmp" "$AWS_SERVED"
  rm -rf "$src" # the Go build cache keeps what a rebuild needs
}
AWS_LDFLAGS="-s -w -X '$AWS_PROVIDER_MODULE/version.ProviderVersion=${AWS_PROVIDER_SOURCE_VERSION}+${AWS_PROVIDER_COMMIT:-unknown}'"
if provider_current "$AWS_DIR_TF" "$AWS_BIN_NAME" "$AWS_PROVIDER_PSEUDO" && { [ "$AWS_FLAVOUR" = full ] || [ -s "$AWS_SERVED" ]; }; then
  log "step 2/7: terraform-provider-aws $AWS_PROVIDER_VERSION ($AWS_FLAVOUR) already built ($AWS_DIR_TF/$AWS_BIN_NAME), skipping"
else
  log "step 2/7: building terraform-provider-aws $AWS_PROVIDER_VERSION ($AWS_FLAVOUR) from" \
    "$AWS_PROVIDER_MODULE@$AWS_PROVIDER_PSEUDO (upstream $AWS_PROVIDER_SOURCE_VERSION)," \
    "expected $(expected_minutes "aws-$AWS_KEY") min ..."
  check_pin provider-aws "$AWS_PROVIDER_MODULE" "$AWS_PROVIDER_PSEUDO"
  rm -f "$AWS_DIR_TF/.source" "$AWS_SERVED"
  if [ "$AWS_FLAVOUR" = full ]; then
    go_build "aws-$AWS_PROVIDER_VERSION-full" provider-aws "$AWS_PROVIDER_MODULE" "$AWS_DIR_TF/$AWS_BIN_NAME" "$AWS_LDFLAGS"
  else
    build_aws_trimmed
  fi
  printf '%s\n' "$AWS_PROVIDER_PSEUDO" >"$AWS_DIR_TF/.source"
fi
if ! { provider_current "$AWS_DIR_OT" "$AWS_BIN_NAME" "$AWS_PROVIDER_PSEUDO" &&
  { [ "$AWS_DIR_TF/$AWS_BIN_NAME" -ef "$AWS_DIR_OT/$AWS_BIN_NAME" ] ||
    cmp -s "$AWS_DIR_TF/$AWS_BIN_NAME" "$AWS_DIR_OT/$AWS_BIN_NAME"; }; }; then
  mirror_link "$AWS_DIR_TF" "$AWS_DIR_OT" "$AWS_BIN_NAME" "$AWS_PROVIDER_PSEUDO"
fi
build_provider 3 kubernetes "$K8S_PROVIDER_VERSION" "$K8S_PROVIDER_MODULE" "$K8S_PROVIDER_PSEUDO" \
  "$K8S_PROVIDER_SOURCE_VERSION" provider-kubernetes \
  "-s -w -X 'main.Version=${K8S_PROVIDER_SOURCE_VERSION}+${K8S_PROVIDER_COMMIT:-unknown}'" \
  "$K8S_DIR_TF" "$K8S_DIR_OT" "$K8S_BIN_NAME"

# ------------------------------------------------------- 4. Kubernetes control plane
# etcd, kwok and the three control-plane components, each from its own tools module (go.mod pins the
# version in versions.env; k8s.io/kubernetes's staging modules are replaced by their releases).
# The three Kubernetes components share one `go build` (one compile of the packages they share).
if [ -x "$ETCD_BIN" ]; then
  log "step 4/7: etcd $ETCD_VERSION already built ($ETCD_BIN), skipping"
else
  log "step 4/7: building etcd $ETCD_VERSION, expected $(expected_minutes etcd) min ..."
  check_pin etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  go_build "etcd-$ETCD_VERSION" etcd go.etcd.io/etcd/server/v3 "$ETCD_BIN" "-s -w"
fi
if [ -x "$KWOK_BIN" ]; then
  log "step 4/7: kwok $KWOK_VERSION already built ($KWOK_BIN), skipping"
else
  log "step 4/7: building kwok $KWOK_VERSION, expected $(expected_minutes kwok) min ..."
  check_pin kwok sigs.k8s.io/kwok "$KWOK_VERSION"
  go_build "kwok-$KWOK_VERSION" kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_BIN" "-s -w"
fi
kube_current=1
for c in $KUBE_COMPONENTS; do [ -x "$KUBE_DIR/$c" ] || kube_current=0; done
if [ "$kube_current" = 1 ]; then
  log "step 4/7: Kubernetes $KUBERNETES_VERSION control plane already built ($KUBE_DIR), skipping"
else
  log "step 4/7: building the Kubernetes $KUBERNETES_VERSION control plane ($KUBE_COMPONENTS), expected $(expected_minutes control-plane) min ..."
  check_pin kubernetes k8s.io/kubernetes "$KUBERNETES_VERSION"
  kminor="${KUBERNETES_VERSION#v1.}"; kminor="${kminor%%.*}"
  KV=k8s.io/component-base/version
  KUBE_LDFLAGS="-s -w -X '$KV.gitVersion=$KUBERNETES_VERSION' -X '$KV.gitMajor=1' -X '$KV.gitMinor=$kminor'"
  KUBE_LDFLAGS="$KUBE_LDFLAGS -X '$KV.gitTreeState=clean'"
  KUBE_PKGS=""
  for c in $KUBE_COMPONENTS; do KUBE_PKGS="$KUBE_PKGS k8s.io/kubernetes/cmd/$c"; done
  # go_build takes one output path: a directory (trailing slash) holds one binary per package.
  go_build "control-plane-$KUBERNETES_VERSION" kubernetes "$KUBE_PKGS" "$KUBE_DIR/" "$KUBE_LDFLAGS"
fi

# ------------------------------------------------------------- 5. moto, 6. checkov
python_tool 5 "moto[server]" "$MOTO_VERSION" "$MOTO_VENV" "$MOTO_SERVER" "'$MOTO_VENV/bin/python' -c 'import moto; print(moto.__version__)'"
python_tool 6 checkov "$CHECKOV_VERSION" "$CHECKOV_VENV" "$CHECKOV_BIN" "'$CHECKOV_BIN' --version 2>/dev/null | tail -n 1"

# ------------------------------------------------------- 7. CLI config + manifest
log "step 7/7: writing $CLI_CONFIG and $MANIFEST ..."
tmpcfg="$CLI_CONFIG.tmp.$$"
cat >"$tmpcfg" <<EOF
# Generated by lib/engine/setup-engine.sh. Do not edit; re-run the script instead.
# Offline provider installation: only the local filesystem mirror is used. There
# is no direct {} block, so OpenTofu never contacts a registry.
# The AWS provider comes from its flavour's mirror ($AWS_FLAVOUR), every other one from the shared mirror.
provider_installation {
  filesystem_mirror {
    path    = "$AWS_MIRROR"
    include = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]
  }
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/*", "registry.opentofu.org/hashicorp/*"]
    exclude = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]
  }
}
EOF
mv -f "$tmpcfg" "$CLI_CONFIG"

python3 - "$MANIFEST" "$TOFU" "$CLI_CONFIG" "$MIRROR" "$MOTO_SERVER" "$STATS" "$GOOS_ARCH" "$CHECKOV_BIN" \
  "$AWS_MIRROR" "$AWS_SERVED" "$KUBE_DIR" "$ETCD_BIN" "$KWOK_BIN" <<PY
import json, os, sys
manifest, tofu, cfg, mirror, moto, stats, plat, checkov, aws_mirror, aws_served, kube_dir, etcd, kwok = sys.argv[1:]
served = json.load(open(aws_served)) if "$AWS_FLAVOUR" == "trimmed" else None
def stat(key):
    p = os.path.join(stats, key + ".json")
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return {"seconds": None, "maxRssMb": None, "note": "binary predates build-stats recording"}
doc = {
    "tofu": tofu,
    "cliConfig": cfg,
    "mirror": mirror,
    "motoServer": moto,
    "checkov": checkov,
    "platform": plat,
    "providers": {
        "aws": os.path.join(
            aws_mirror, "registry.terraform.io/hashicorp/aws/$AWS_PROVIDER_VERSION", plat,
            "terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5",
        ),
        "kubernetes": os.path.join(
            mirror, "registry.terraform.io/hashicorp/kubernetes/$K8S_PROVIDER_VERSION", plat,
            "terraform-provider-kubernetes_v${K8S_PROVIDER_VERSION}_x5",
        ),
    },
    # "full": every service package; "trimmed": only those listed (servedTypes is what the build serves).
    # The local Kubernetes control plane (lib/engine/control-plane.ts starts it).
    "controlPlane": {
        "etcd": etcd, "kwok": kwok,
        "kubeApiserver": os.path.join(kube_dir, "kube-apiserver"),
        "kubeControllerManager": os.path.join(kube_dir, "kube-controller-manager"),
        "kubeScheduler": os.path.join(kube_dir, "kube-scheduler"),
        "versions": {"kubernetes": "$KUBERNETES_VERSION", "etcd": "$ETCD_VERSION", "kwok": "$KWOK_VERSION"},
    },
    "awsProvider": {"build": "$AWS_FLAVOUR", "key": "$AWS_KEY",
                    "servicePackages": served["packages"] if served else None,
                    "servedTypes": served["types"] if served else None},
    "versions": {
        "opentofu": "$OPENTOFU_VERSION",
        "aws": "$AWS_PROVIDER_VERSION",
        "awsSource": {"module": "$AWS_PROVIDER_MODULE", "pseudoVersion": "$AWS_PROVIDER_PSEUDO",
                      "commit": "${AWS_PROVIDER_COMMIT:-}", "upstreamVersion": "$AWS_PROVIDER_SOURCE_VERSION"},
        "kubernetes": "$K8S_PROVIDER_VERSION",
        "kubernetesSource": {"module": "$K8S_PROVIDER_MODULE", "pseudoVersion": "$K8S_PROVIDER_PSEUDO",
                             "commit": "${K8S_PROVIDER_COMMIT:-}", "upstreamVersion": "$K8S_PROVIDER_SOURCE_VERSION"},
        "moto": "$MOTO_VERSION",
        "checkov": "$CHECKOV_VERSION",
    },
    "build": {
        "opentofu": stat("opentofu-$OPENTOFU_VERSION"),
        "aws": stat("aws-$AWS_PROVIDER_VERSION-$AWS_KEY"),
        "kubernetes": stat("kubernetes-$K8S_PROVIDER_VERSION"),
        "controlPlane": stat("control-plane-$KUBERNETES_VERSION"),
        "etcd": stat("etcd-$ETCD_VERSION"),
        "kwok": stat("kwok-$KWOK_VERSION"),
    },
}
tmp = manifest + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, manifest)
PY

log "done: tofu=$TOFU cliConfig=$CLI_CONFIG manifest=$MANIFEST"
