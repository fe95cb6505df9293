#!/usr/bin/env bash
# cluster.sh — runlens's real-Kubernetes test cluster on this machine.
#
#   hack/cluster/cluster.sh up     [--mode api|full] [--name NAME]
#   hack/cluster/cluster.sh down   [--name NAME | --all]
#   hack/cluster/cluster.sh env    [--name NAME]     # shell exports: KUBECONFIG, ...
#   hack/cluster/cluster.sh status [--name NAME]     # exit 0 when every part is up
#
# api:  etcd, kube-apiserver, kube-controller-manager, a loopback OCI registry.
# full: api + kube-scheduler, containerd (own config/root/state/socket), runc, CNI
#       bridge, pause image, kubelet — real pods with real imageIDs.
# Each cluster lives in $RUNLENS_CLUSTER_RUN/NAME (default /tmp/runlens-cluster/NAME)
# on its own block of loopback ports; see hack/cluster/README.md.
set -euo pipefail
# shellcheck disable=SC2034  # variables below are read by the sourced lib/*.sh

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=lib/certs.sh
source "$HERE/lib/certs.sh"
# shellcheck source=lib/controlplane.sh
source "$HERE/lib/controlplane.sh"
# shellcheck source=lib/node.sh
source "$HERE/lib/node.sh"

CMD="${1:-}"
[[ $# -gt 0 ]] && shift
MODE=api NAME=default ALL=0
while [[ $# -gt 0 ]]; do
  case "$1" in
  --mode) MODE="$2"; shift 2 ;;
  --mode=*) MODE="${1#*=}"; shift ;;
  --name) NAME="$2"; shift 2 ;;
  --name=*) NAME="${1#*=}"; shift ;;
  --all) ALL=1; shift ;;
  *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ $MODE == api || $MODE == full ]] || { echo "--mode must be api or full" >&2; exit 2; }
[[ $NAME =~ ^[a-z0-9][a-z0-9-]{0,19}$ ]] || { echo "--name must match [a-z0-9][a-z0-9-]{0,19}" >&2; exit 2; }

RUN_ROOT="${RUNLENS_CLUSTER_RUN:-/tmp/runlens-cluster}"

set_paths() {
  DIR="$RUN_ROOT/$NAME"
  LOGS="$DIR/logs" PIDS="$DIR/pids" PKI="$DIR/pki" KUBECONFIGS="$DIR/kubeconfig"
  CONTAINERD_SOCK="$DIR/containerd/containerd.sock"
  CLUSTER_NAME="runlens-$NAME"
  CGROUP_ROOT_NAME="runlens-$NAME"
  BRIDGE="rl$(printf '%s' "$NAME" | sha256sum | cut -c1-8)"
  # The kubelet registers as "localhost" so that the apiserver, which prefers the
  # Hostname address, reaches it on loopback and never on the machine's own IP.
  NODE_NAME=localhost
}

# load_env — read the ports and settings that up recorded.
load_env() {
  [[ -f $DIR/cluster.env ]] || return 1
  local k v
  while IFS='=' read -r k v; do [[ -n $k ]] && printf -v "$k" '%s' "$v"; done <"$DIR/cluster.env"
  ADMIN_TOKEN="$(sed -n 's/^ *token: //p' "$KUBECONFIGS/admin.kubeconfig" 2>/dev/null || true)"
}

write_env() {
  cat >"$DIR/cluster.env" <<ENV
NAME=$NAME
MODE=$MODE
DIR=$DIR
BASE_PORT=$BASE_PORT
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
API_PORT=$API_PORT
REGISTRY_PORT=$REGISTRY_PORT
KUBELET_PORT=$KUBELET_PORT
KUBELET_HEALTHZ_PORT=$KUBELET_HEALTHZ_PORT
KCM_PORT=$KCM_PORT
SCHED_PORT=$SCHED_PORT
SERVER=https://127.0.0.1:$API_PORT
KUBECONFIG=$KUBECONFIGS/admin.kubeconfig
SCANNER_KUBECONFIG=$KUBECONFIGS/scanner.kubeconfig
REGISTRY=localhost:$REGISTRY_PORT
REGISTRY_USER=$REGISTRY_USER
REGISTRY_PASS=$REGISTRY_PASS
REGISTRY_PRIVATE_PREFIX=$REGISTRY_PRIVATE_PREFIX
CONTAINERD_SOCK=$CONTAINERD_SOCK
CGROUP_ROOT_NAME=$CGROUP_ROOT_NAME
POD_CIDR=$POD_CIDR
BRIDGE=$BRIDGE
NODE_NAME=$NODE_NAME
BIN=$BIN
LOGS=$LOGS
ENV
}

components() {
  if [[ $MODE == full ]]; then
    echo etcd kube-apiserver kube-controller-manager registry kube-scheduler containerd kubelet
  else
    echo etcd kube-apiserver kube-controller-manager registry
  fi
}

do_status() {
  set_paths
  load_env || { echo "cluster $NAME: not up"; return 1; }
  local ok=0 c
  for c in $(components); do
    if proc_alive "$c"; then echo "$c: running"; else echo "$c: NOT running"; ok=1; fi
  done
  if api_ready >/dev/null 2>&1; then echo "kube-apiserver: ready"; else echo "kube-apiserver: NOT ready"; ok=1; fi
  echo "mode: $MODE, dir: $DIR, apiserver: https://127.0.0.1:$API_PORT, registry: localhost:$REGISTRY_PORT"
  return $ok
}

do_down() {
  set_paths
  if [[ ! -d $DIR ]]; then log "nothing to tear down"; return 0; fi
  load_env || true
  log "tearing down $DIR"
  teardown_node
  local c
  for c in kube-scheduler kube-controller-manager kube-apiserver etcd registry; do stop_proc "$c" 10; done
  # Anything still recorded (an older layout, a crash) goes the same way.
  for c in "$PIDS"/*.pid; do [[ -f $c ]] && stop_proc "$(basename "$c" .pid)" 5; done
  kill_leftovers
  cleanup_host
  rm -rf "$DIR"
  log "down"
}

do_up() {
  set_paths
  if [[ -d $DIR ]]; then
    if (do_status >/dev/null 2>&1) && load_env && [[ $MODE == "${REQ_MODE}" ]]; then
      log "already up in $MODE mode ($DIR)"
      return 0
    fi
    MODE="$REQ_MODE"
    log "cleaning a previous run in $DIR"
    do_down
  fi
  MODE="$REQ_MODE"
  UP_IN_PROGRESS=1
  local t0=$SECONDS
  mkdir -p "$RUN_ROOT"
  ensure_packages
  BIN="$("$HERE/build.sh")" || die "building the cluster binaries failed"
  mkdir -p "$DIR" "$LOGS" "$PIDS" "$DIR/registry"
  pick_ports
  ETCD_PORT=$BASE_PORT ETCD_PEER_PORT=$((BASE_PORT + 1)) API_PORT=$((BASE_PORT + 2))
  REGISTRY_PORT=$((BASE_PORT + 3)) KUBELET_PORT=$((BASE_PORT + 4)) KUBELET_HEALTHZ_PORT=$((BASE_PORT + 5))
  KCM_PORT=$((BASE_PORT + 6)) SCHED_PORT=$((BASE_PORT + 7))
  POD_CIDR="10.$((200 + SLOT / 250)).$((SLOT % 250)).0/24"
  REGISTRY_USER=runlens REGISTRY_PASS="$(token)" REGISTRY_PRIVATE_PREFIX=private/
  write_env
  log "bringing up $MODE cluster in $DIR (ports $BASE_PORT-$((BASE_PORT + 9)))"
  make_pki
  build_tools
  start_etcd
  start_apiserver
  start_controller_manager
  start_registry
  apply_rbac
  if [[ $MODE == full ]]; then
    start_scheduler
    start_containerd
    start_kubelet
  fi
  UP_IN_PROGRESS=0
  log "$MODE cluster up in $((SECONDS - t0))s; KUBECONFIG=$KUBECONFIGS/admin.kubeconfig"
}

on_up_failure() {
  log "bring-up FAILED; component logs follow"
  print_log_tails
  if [[ ${RUNLENS_CLUSTER_KEEP_FAILED:-0} == 1 ]]; then
    log "keeping $DIR for inspection (RUNLENS_CLUSTER_KEEP_FAILED=1)"
  else
    do_down
  fi
}

do_env() {
  set_paths
  load_env || die "cluster $NAME is not up"
  echo "export KUBECONFIG=$KUBECONFIG"
  echo "export PATH=$BIN:\$PATH"
  local k v
  while IFS='=' read -r k v; do [[ -n $k ]] && echo "export RUNLENS_CLUSTER_$k=$v"; done <"$DIR/cluster.env"
}

REQ_MODE="$MODE" BIN="" UP_IN_PROGRESS=0
# Any failure during up (a command under set -e, die, a timeout) prints the component
# logs and removes the half-built cluster.
trap 'rc=$?; if [[ $UP_IN_PROGRESS == 1 && $rc != 0 ]]; then UP_IN_PROGRESS=0; on_up_failure; fi; exit $rc' EXIT
case "$CMD" in
up) do_up ;;
down)
  if ((ALL)); then
    for d in "$RUN_ROOT"/*/; do
      [[ -d $d ]] || continue
      NAME="$(basename "$d")"
      do_down
    done
  else
    do_down
  fi
  ;;
env) do_env ;;
status) do_status ;;
*) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
