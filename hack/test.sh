#!/usr/bin/env bash
# Runs runlens's whole test suite: formatting and vet checks, unit and
# integration tests (race detector on for the concurrent packages), then the
# end-to-end tests against real local Kubernetes clusters.
#
#   ./hack/test.sh            everything (e2e included when RUNLENS_E2E != 0)
#   RUNLENS_E2E=0 ./hack/test.sh   skip the cluster e2e tests
set -euo pipefail
cd "$(dirname "$0")/.."

export GOFLAGS="${GOFLAGS:--mod=mod}"
export PATH="$(go env GOPATH)/bin:$PATH"

# Tools the tests use that a fresh machine of this kind lacks.
need=()
command -v dpkg >/dev/null || need+=(dpkg)
command -v npm >/dev/null || need+=(npm)
command -v chromium >/dev/null || need+=(chromium) # the HTML report's browser test
command -v python3 >/dev/null || need+=(python3)   # the agent's /proc test runs python3 -m http.server
command -v debootstrap >/dev/null || need+=(debootstrap) # the agent's e2e test builds a Debian image (cached)
command -v capsh >/dev/null || need+=(libcap2-bin)  # the agent's least-privilege test
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql) # the server's store runs on a throwaway PostgreSQL too
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$bad" ]; then echo "gofmt needed: $bad"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== go test"
go test ./...

# The packages with goroutines again under the race detector. For vulndb
# only the concurrency tests: its import tests are 10x slower under -race
# and exercise no shared state.
echo "== go test -race"
go test -race ./cmd/runlens/ ./internal/scan/ ./internal/clusterscan/ ./internal/registry/... ./internal/image/ ./internal/cache/ ./internal/k8s/... ./internal/fanout/ ./internal/agent/... \
	./internal/store/... ./internal/rematch/ ./internal/server/ ./internal/webui/
go test -race -run 'Parallel|Survives|Concurrent|Killed|Check' ./internal/vulndb/

if [ "${RUNLENS_E2E:-1}" != 0 ] && [ -x hack/cluster/e2e.sh ]; then
	echo "== e2e (real local Kubernetes)"
	hack/cluster/e2e.sh
fi
