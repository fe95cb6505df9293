#!/usr/bin/env bash
# Re-fetches the web UI's one third-party asset, htmx, from the npm
# registry with `npm pack` (no install, no scripts run), checks the
# package's and the file's SHA-256 against the pinned ones, and copies the
# minified script and its licence into internal/webui/assets/vendor/.
# Bump VERSION and both sums together, after reading the release notes.
set -euo pipefail

VERSION=2.0.11
TGZ_SHA256=165a2655073e9e6e55e307a7c74e8ebcdb76afb7701f9c16cfd106a13add408e
JS_SHA256=d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717

root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$root/internal/webui/assets/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "htmx.org@$VERSION" >/dev/null
tgz=htmx.org-$VERSION.tgz
echo "$TGZ_SHA256  $tgz" | sha256sum -c --quiet -
tar -xzf "$tgz" package/dist/htmx.min.js package/LICENSE
echo "$JS_SHA256  package/dist/htmx.min.js" | sha256sum -c --quiet -

cp package/dist/htmx.min.js "$dest/htmx.min.js"
cp package/LICENSE "$dest/htmx.LICENSE"
echo "htmx $VERSION vendored into $dest"
