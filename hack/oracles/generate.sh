#!/usr/bin/env bash
# Re-derives internal/match/testdata/oracle/*.txt: boundary-heavy version
# pairs with the order each ecosystem's own implementation gives them. The
# Go tests compare runlens's order against these files, so `go test` needs
# none of the tools below; this script does. It installs them from
# Debian's packages (as root), builds the crates.io oracle offline against
# Debian's Rust sources, and runs generate.py.
#
#   hack/oracles/generate.sh            every scheme
#   hack/oracles/generate.sh rpm pypi   only these
set -euo pipefail
cd "$(dirname "$0")"

pkgs=(dpkg rpm python3-rpm python3-packaging ruby php-cli php-composer-semver
	node-semver librust-semver-dev libmaven3-core-java)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Tools any installation will do for: the command, else Debian's package.
command -v cargo >/dev/null || missing+=(cargo)
command -v java >/dev/null || missing+=(default-jdk-headless)
command -v node >/dev/null || missing+=(nodejs)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "generate.sh: needs ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The crates.io oracle: built offline against /usr/share/cargo/registry.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_HOME="$work/cargo-home"
mkdir -p "$CARGO_HOME"
cat >"$CARGO_HOME/config.toml" <<'TOML'
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
TOML
cp -r cargo-semver "$work/src"
cargo build --quiet --release --manifest-path "$work/src/Cargo.toml" --target-dir "$work/target"
export ORACLE_CARGO_SEMVER="$work/target/release/oracle-cargo-semver"

/usr/bin/python3 generate.py "$@"
