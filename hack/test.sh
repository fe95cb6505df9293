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
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$bad" ]; then echo "gofmt needed: $bad"; exit 1; fi

echo "== go vet"
go vet ./...

# Packages with goroutines run under the race detector; the rest run plain
# (the race build of the extractor tree is slow and gains nothing there).
race_pkgs="internal/scan|internal/registry|internal/vulndb|internal/cache|internal/image|cmd/runlens"
all=$(go list ./...)
race=$(echo "$all" | grep -E "/($race_pkgs)(/|$)" || true)
plain=$(echo "$all" | grep -vE "/($race_pkgs)(/|$)" || true)

echo "== go test -race"
go test -race $race
echo "== go test"
go test $plain

if [ "${RUNLENS_E2E:-1}" != 0 ] && [ -x hack/cluster/e2e.sh ]; then
	echo "== e2e (real local Kubernetes)"
	hack/cluster/e2e.sh
fi
