#!/usr/bin/env bash
# Builds runlens and scans the bundled sample image against the bundled
# sample database: no network, no Docker. Extra arguments go to the scan,
# e.g. ./hack/quickstart.sh --format json
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
	echo "quickstart: Go 1.26 or newer is needed (https://go.dev/doc/install)" >&2
	exit 2
fi
mkdir -p bin
go build -trimpath -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/runlens ./cmd/runlens

db=.cache/sample-db
rm -rf "$db"
bin/runlens db import --db-dir "$db" testdata/sample/advisories
bin/runlens scan image --db-dir "$db" --no-cache --archive testdata/sample/image.tar "$@"
