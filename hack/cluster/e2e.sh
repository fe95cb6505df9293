#!/usr/bin/env bash
# e2e.sh — the one command that runs runlens's real-Kubernetes tests (CI calls it).
#
# Builds or reuses the cached cluster binaries, runs every test under
# internal/testing/, internal/k8s/, internal/clusterscan/ and cmd/runlens/ with RUNLENS_E2E=1 (each test brings up and tears down the
# clusters it needs through internal/testing/cluster), and tears down whatever is
# left even when a test or the build fails. Needs root (containerd, mounts, cgroups).
#
# Env: RUNLENS_CLUSTER_CACHE (binary cache), RUNLENS_CLUSTER_RUN (cluster state,
#      default /tmp/runlens-e2e), GOTEST_FLAGS (extra `go test` flags).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
[[ $(id -u) == 0 ]] || { echo "e2e.sh: needs root (containerd, mounts, cgroups)" >&2; exit 1; }

export RUNLENS_CLUSTER_RUN="${RUNLENS_CLUSTER_RUN:-/tmp/runlens-e2e}"
export RUNLENS_E2E=1
unset RUNLENS_CLUSTER_REUSE

T0=$SECONDS
cleanup() {
  local rc=$?
  bash "$HERE/cluster.sh" down --all || rc=1
  echo "e2e.sh: total $((SECONDS - T0))s" >&2
  exit $rc
}
trap cleanup EXIT

# Leftovers of a crashed earlier run go first.
bash "$HERE/cluster.sh" down --all
TB=$SECONDS
bash "$HERE/build.sh" >/dev/null
echo "e2e.sh: binaries ready in $((SECONDS - TB))s" >&2

cd "$REPO"
# -p 1: one test package at a time; the machine has 2 cores and a full node is heavy.
# shellcheck disable=SC2086
go test -count=1 -p 1 -timeout 45m ${GOTEST_FLAGS:--v} ./internal/testing/... ./internal/k8s/... ./internal/clusterscan/... ./internal/agent/cri/ ./cmd/runlens/...
