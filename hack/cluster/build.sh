#!/usr/bin/env bash
# build.sh — build (or reuse) the Kubernetes and etcd binaries the test cluster runs.
#
# Binaries come from their Go modules, compiled from wrapper modules generated in the
# cache directory, never from the project's go.mod (which must not pull in
# k8s.io/kubernetes). The cache is keyed by version:
#   ${RUNLENS_CLUSTER_CACHE:-$HOME/.cache/runlens-cluster}/<k8s-version>/bin/
# A stamp file per binary set makes a warm call a no-op.
#
# Usage: hack/cluster/build.sh            # build what is missing, print the bin dir
# Also crictl (sigs.k8s.io/cri-tools), which Debian 12 does not package: the harness
# and the e2e tests reach containerd through CRI with it.
#
# Env:   RUNLENS_K8S_VERSION (default v1.34.4), RUNLENS_ETCD_VERSION (default v3.6.16),
#        RUNLENS_CRICTL_VERSION (default v1.34.0),
#        RUNLENS_BUILD_P (go build -p, default 2), RUNLENS_CLUSTER_CACHE.
set -euo pipefail

K8S_VERSION="${RUNLENS_K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${RUNLENS_ETCD_VERSION:-v3.6.16}"
CACHE_ROOT="${RUNLENS_CLUSTER_CACHE:-$HOME/.cache/runlens-cluster}"
CACHE="$CACHE_ROOT/$K8S_VERSION"
BIN="$CACHE/bin"
P="${RUNLENS_BUILD_P:-2}"
# The staging modules (k8s.io/api, client-go, ...) are tagged v0.<minor>.<patch>.
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
CRICTL_VERSION="${RUNLENS_CRICTL_VERSION:-v1.34.0}"

log() { printf '[build %s] %s\n' "$(date +%T)" "$*" >&2; }

mkdir -p "$BIN"
export GOFLAGS="-p=$P -buildvcs=false"
export CGO_ENABLED=0

build_k8s() {
  local stamp="$BIN/.k8s-$K8S_VERSION.done" missing=0 c
  for c in "${K8S_CMDS[@]}"; do [[ -x "$BIN/$c" ]] || missing=1; done
  if [[ -f "$stamp" && $missing == 0 ]]; then log "kubernetes $K8S_VERSION cached in $BIN"; return; fi
  local src="$CACHE/src/kubernetes"
  mkdir -p "$src"
  log "generating wrapper module for k8s.io/kubernetes $K8S_VERSION in $src"
  # k8s.io/kubernetes replaces every staging module with ./staging/..., which is not in
  # the module zip; the wrapper points each of them at its published version instead.
  local modfile
  modfile="$(cd "$src" && GOFLAGS='' go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$modfile" ]] || { log "cannot find go.mod of k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
  {
    echo "module runlens.local/clusterbins/kubernetes"
    echo
    echo "go 1.24.0"
    echo
    echo "godebug default=go1.24"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9./-]*\) => \./staging/.*#\t\1 => \1 '"$STAGING_VERSION"'#p' "$modfile"
    echo ")"
  } >"$src/go.mod"
  {
    echo "//go:build tools"
    echo
    echo "// Package tools pins the Kubernetes commands this module builds."
    echo "package tools"
    echo
    echo "import ("
    for c in "${K8S_CMDS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
    echo ")"
  } >"$src/tools.go"
  (cd "$src" && nice -n 19 go mod tidy)
  local pkg="k8s.io/component-base/version"
  local ld="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  local t0=$SECONDS
  for c in "${K8S_CMDS[@]}"; do
    [[ -x "$BIN/$c" && -f "$stamp" ]] && continue
    log "building $c (go build -p $P, nice 19)"
    (cd "$src" && nice -n 19 go build -trimpath -ldflags "$ld" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$BIN/$c.tmp" "$BIN/$c"
  done
  log "kubernetes $K8S_VERSION built in $((SECONDS - t0))s"
  touch "$stamp"
}

build_etcd() {
  local stamp="$BIN/.etcd-$ETCD_VERSION.done"
  if [[ -f "$stamp" && -x "$BIN/etcd" ]]; then log "etcd $ETCD_VERSION cached in $BIN"; return; fi
  local src="$CACHE/src/etcd-$ETCD_VERSION"
  mkdir -p "$src"
  log "generating wrapper module for go.etcd.io/etcd/server/v3 $ETCD_VERSION in $src"
  cat >"$src/go.mod" <<MOD
module runlens.local/clusterbins/etcd

go 1.24.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat >"$src/main.go" <<'GO'
// Command etcd runs the etcd server from its Go module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$src" && nice -n 19 go mod tidy)
  local t0=$SECONDS
  (cd "$src" && nice -n 19 go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" .)
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  log "etcd $ETCD_VERSION built in $((SECONDS - t0))s"
  touch "$stamp"
}

build_crictl() {
  local stamp="$BIN/.crictl-$CRICTL_VERSION.done"
  if [[ -f "$stamp" && -x "$BIN/crictl" ]]; then log "crictl $CRICTL_VERSION cached in $BIN"; return; fi
  local src="$CACHE/src/cri-tools-$CRICTL_VERSION"
  mkdir -p "$src"
  log "generating wrapper module for sigs.k8s.io/cri-tools $CRICTL_VERSION in $src"
  cat >"$src/go.mod" <<MOD
module runlens.local/clusterbins/critools

go 1.24.0

require sigs.k8s.io/cri-tools $CRICTL_VERSION
MOD
  printf '//go:build tools\n\n// Package tools pins crictl.\npackage tools\n\nimport _ "sigs.k8s.io/cri-tools/cmd/crictl"\n' >"$src/tools.go"
  (cd "$src" && nice -n 19 go mod tidy)
  local t0=$SECONDS
  (cd "$src" && nice -n 19 go build -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
    -o "$BIN/crictl.tmp" sigs.k8s.io/cri-tools/cmd/crictl)
  mv "$BIN/crictl.tmp" "$BIN/crictl"
  log "crictl $CRICTL_VERSION built in $((SECONDS - t0))s"
  touch "$stamp"
}

T0=$SECONDS
build_etcd
build_k8s
build_crictl
log "all binaries ready in $BIN ($((SECONDS - T0))s)"
echo "$BIN"
