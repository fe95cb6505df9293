#!/usr/bin/env bash
# image-scan.sh benchmarks image scans: on the same image archives, in one
# run, it measures wall time and peak RSS of
#
#   syft v1.57.1          syft scan docker-archive:IMG -o json
#   osv-scanner v2.6.0    osv-scanner scan image --archive IMG   (offline DB)
#   runlens cold          runlens scan image --archive IMG --format json --db-dir D --cache-dir EMPTY
#   runlens warm          the same again with the now populated --cache-dir
#
# and prints the figures, the ratios runlens/peer and pass/fail against the
# targets: cold wall <= 0.5x each peer's, peak RSS <= the lower peer's,
# warm <= 50 ms. osv-scanner and runlens read the same OSV records.
#
# Usage: bench/image-scan.sh [--peers-only] [--images debian,node,go] [--repeat N]
#                            [--runlens BIN | --runlens-rev REV]
#
# runlens is built from the working tree's ./cmd/runlens, or from a commit
# with --runlens-rev (exported with git archive, so a half-edited tree does
# not matter), or taken as given with --runlens.
#
# With --repeat N every measurement is taken N times, interleaved (syft,
# osv-scanner, cold, warm, then again), and the median wall time and median
# peak RSS are reported: on a shared machine one sample can be far off.
# Env:   RUNLENS_BENCH_CACHE  tools, images, DBs and results (default $HOME/.cache/runlens-bench)
#        RUNLENS_BENCH_OSV    OSV record dirs, one per ecosystem (default ../shared/testdata/osv)
#        RUNLENS_BENCH_EXTRA  EPSS CSV and KEV JSON files also imported into runlens
#                             (default: the ones in ../shared/testdata)
# Needs: go, npm, python3, /usr/bin/time (installed with apt-get if missing),
#        debootstrap (installed by hack/fixtures/bench-images.sh), root for debootstrap.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${RUNLENS_BENCH_CACHE:-$HOME/.cache/runlens-bench}
osv=${RUNLENS_BENCH_OSV:-$repo/../shared/testdata/osv}
extra=${RUNLENS_BENCH_EXTRA:-"$repo/../shared/testdata/epss/epss_sample.csv $repo/../shared/testdata/kev/known_exploited_vulnerabilities.json"}
syft_version=v1.57.1
osv_version=v2.6.0
osv_toolchain=go1.27.3
peers_only=0
images=debian,node,go
repeat=1
runlens_bin=""
runlens_rev=""
while [ $# -gt 0 ]; do
  case $1 in
    --peers-only) peers_only=1 ;;
    --images) images=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --runlens) runlens_bin=$2; shift ;;
    --runlens-rev) runlens_rev=$2; shift ;;
    *) echo "usage: $0 [--peers-only] [--images debian,node,go] [--repeat N] [--runlens BIN | --runlens-rev REV]" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "image-scan: $*" >&2; }
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { log "--repeat wants a positive integer, got $repeat"; exit 2; }

[ -d "$osv" ] || { log "no OSV records at $osv (set RUNLENS_BENCH_OSV)"; exit 1; }
[ -x /usr/bin/time ] || { log "installing time"; apt-get install -y -qq time >&2; }
mkdir -p "$cache/tools" "$cache/results"

# --- tools -------------------------------------------------------------------
syft=$cache/tools/syft-$syft_version/syft
if [ ! -x "$syft" ]; then
  log "building syft $syft_version (a few minutes)"
  (cd /tmp && GOBIN=$(dirname "$syft") nice go install "github.com/anchore/syft/cmd/syft@$syft_version")
fi
osvs=$cache/tools/osv-scanner-$osv_version/osv-scanner
if [ ! -x "$osvs" ]; then
  log "building osv-scanner $osv_version with $osv_toolchain (a few minutes)"
  (cd /tmp && GOTOOLCHAIN=$osv_toolchain GOBIN=$(dirname "$osvs") nice go install "github.com/google/osv-scanner/v2/cmd/osv-scanner@$osv_version")
fi
run=$(mktemp -d "$cache/results/run.XXXXXX")
runlens=""
if [ $peers_only = 0 ]; then
  src=$repo
  if [ -n "$runlens_bin" ]; then
    cp "$runlens_bin" "$run/runlens" && runlens=$run/runlens
  else
    if [ -n "$runlens_rev" ]; then
      src=$run/src
      mkdir -p "$src"
      git -C "$repo" archive "$runlens_rev" | tar -x -C "$src"
    fi
    if [ -d "$src/cmd/runlens" ] && (cd "$src" && go build -o "$run/runlens" ./cmd/runlens) 2>"$run/runlens-build.log"; then
      runlens=$run/runlens
    fi
  fi
  [ -n "$runlens" ] || log "runlens does not build (see $run/runlens-build.log); measuring the peers only"
fi

# --- images ------------------------------------------------------------------
declare -A img
while read -r name path; do img[$name]=$path; done < <("$repo/hack/fixtures/bench-images.sh" all)

# --- databases: one set of OSV records for both scanners --------------------
# osv-scanner's offline layout (osv-scalibr enricher vulnmatch/osvlocal, as
# used by v2.6.0): $dir/osv-scalibr/<Ecosystem>/all.zip.
osvdb=$run/osv-scanner-db
declare -A eco=([go]=Go [npm]=npm [pypi]=PyPI [maven]=Maven [debian]=Debian [alpine]=Alpine [ubuntu]=Ubuntu)
zips=()
for d in "$osv"/*/; do
  base=$(basename "$d")
  e=${eco[$base]:-$base}
  mkdir -p "$osvdb/osv-scalibr/$e"
  python3 - "$d" "$osvdb/osv-scalibr/$e/all.zip" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for n in sorted(os.listdir(src)):
        if n.endswith(".json"):
            z.write(os.path.join(src, n), n)
PY
  zips+=("$osvdb/osv-scalibr/$e/all.zip")
done
log "OSV records: $(find "$osv" -name '*.json' | wc -l) in ${#zips[@]} ecosystem zips"
rldb=$run/runlens-db
if [ -n "$runlens" ]; then
  # shellcheck disable=SC2086 # $extra is a list of paths
  if ! "$runlens" db import --db-dir "$rldb" "${zips[@]}" $extra >"$run/runlens-import.log" 2>&1; then
    log "runlens db import failed:"; tail -n 5 "$run/runlens-import.log" >&2; runlens=""
  fi
fi

# --- measurement -------------------------------------------------------------
# measure NAME CMD... runs CMD once, appending "wall_s rss_kb rc" to $run/NAME.m
# (wall from nanosecond clocks: /usr/bin/time's %e has 10 ms steps).
measure() {
  local name=$1; shift
  local t0 t1 rc=0
  t0=$(date +%s%N)
  /usr/bin/time -f '%e %M' -o "$run/$name.time" "$@" >"$run/$name.out" 2>"$run/$name.err" || rc=$?
  t1=$(date +%s%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') $(awk '{ print $2 }' "$run/$name.time" | tail -n1) $rc" >>"$run/$name.m"
}

export SYFT_CHECK_FOR_APP_UPDATE=false
for name in ${images//,/ }; do
  archive=${img[$name]:-}
  [ -f "$archive" ] || { log "no image $name"; continue; }
  cat "$archive" >/dev/null # same page-cache state for every tool
  for rep in $(seq "$repeat"); do
    log "$name ($rep/$repeat): syft"
    measure "$name.syft" "$syft" scan "docker-archive:$archive" -o json -q
    log "$name ($rep/$repeat): osv-scanner"
    measure "$name.osv" env OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="$osvdb" \
      "$osvs" scan image --archive --offline --offline-vulnerabilities --all-packages --format json "$archive"
    if [ -n "$runlens" ]; then
      rm -rf "$run/cache-$name"; mkdir -p "$run/cache-$name"
      log "$name ($rep/$repeat): runlens cold"
      measure "$name.cold" "$runlens" scan image --archive "$archive" --format json --db-dir "$rldb" --cache-dir "$run/cache-$name"
      log "$name ($rep/$repeat): runlens warm"
      measure "$name.warm" "$runlens" scan image --archive "$archive" --format json --db-dir "$rldb" --cache-dir "$run/cache-$name"
    fi
  done
done

# --- report ------------------------------------------------------------------
python3 - "$run" "$images" "${runlens:+yes}" <<'PY' | tee "$run/report.txt"
import json, os, sys
run, images, have_rl = sys.argv[1], sys.argv[2].split(","), sys.argv[3] == "yes"

def m(name):
    p = os.path.join(run, name + ".m")
    if not os.path.exists(p):
        return None
    samples = [l.split() for l in open(p) if l.strip()]
    med = lambda xs: sorted(xs)[len(xs) // 2]
    return (med([float(x[0]) for x in samples]), med([int(x[1]) for x in samples]) / 1024,
            max(int(x[2]) for x in samples), len(samples))

def load(name):
    try:
        return json.load(open(os.path.join(run, name + ".out")))
    except Exception:
        return None

def count(tool, doc):
    """(packages, vulnerability ids) a tool reported, '?' when unknown."""
    if doc is None:
        return "?", "?"
    if tool == "syft":
        return len(doc.get("artifacts", [])), "-"
    if tool == "osv":
        pk = vs = 0
        for r in doc.get("results", []):
            for p in r.get("packages", []):
                pk += 1
                vs += len(p.get("vulnerabilities", []))
        return pk, vs
    # runlens: docs/json-schema.md (images[].package_count, images[].findings).
    pk = fs = 0
    for im in doc.get("images", []) if isinstance(doc, dict) else []:
        pk += im.get("package_count", 0)
        fs += sum(len(f.get("advisories") or [1]) for f in im.get("findings") or [])
    return pk, fs

print()
print("packages: each tool's own count (runlens counts a name@version found at several paths")
print("once); vulns: package x advisory pairs (syft does not match).")
print("wall s and RSS MB are medians of the samples; exit is the highest exit code seen.")
print("%-7s %-13s %9s %9s %6s %9s %6s %7s" % ("image", "tool", "wall s", "RSS MB", "exit", "packages", "vulns", "samples"))
verdicts = []
failed = []
# The exit codes that mean a tool did its job.
ok_exit = {"syft": (0,), "osv": (0, 1), "cold": (0, 1), "warm": (0, 1)}
for img in images:
    rows = {}
    for tool, label in (("syft", "syft"), ("osv", "osv-scanner"), ("cold", "runlens cold"), ("warm", "runlens warm")):
        r = m(img + "." + tool)
        if r is None:
            continue
        rows[tool] = r = r + (tool,)
        pk, vs = count("runlens" if tool in ("cold", "warm") else tool, load(img + "." + tool))
        print("%-7s %-13s %9.3f %9.1f %6d %9s %6s %7d" % (img, label, r[0], r[1], r[2], pk, vs, r[3]))
    if "cold" in rows and "syft" in rows and "osv" in rows:
        c, s, o, w = rows["cold"], rows["syft"], rows["osv"], rows.get("warm")
        low = min(s[1], o[1])
        # A figure only counts when every tool in it succeeded: a scan that
        # failed or was partial (runlens exit 2) is fast for the wrong reason.
        # osv-scanner and runlens exit 1 for "vulnerabilities found".
        clean = lambda *rs: all(r[2] in ok_exit[r[4]] for r in rs)
        checks = [
            ("cold/syft wall", c[0] / s[0], c[0] / s[0] <= 0.5 and clean(c, s), "<= 0.50"),
            ("cold/osv wall", c[0] / o[0], c[0] / o[0] <= 0.5 and clean(c, o), "<= 0.50"),
            ("cold RSS/lower peer", c[1] / low, c[1] <= low and clean(c, s, o), "<= 1.00"),
        ]
        if w:
            checks.append(("warm wall ms", w[0] * 1000, w[0] <= 0.05 and clean(w), "<= 50"))
        for label, value, ok, target in checks:
            verdicts.append("%-7s %-20s %6.2f  %s  %s" % (img, label, value, target, "PASS" if ok else "FAIL"))
        for label, r in (("cold", c), ("warm", w), ("syft", s), ("osv-scanner", o)):
            if r and r[2] not in ok_exit[r[4]]:
                failed.append(img)
                verdicts.append("%-7s %s exited %d (see the .err file in the raw outputs): FAIL" % (img, label, r[2]))
print()
if verdicts:
    print("%-7s %-20s %6s  %-7s  %s" % ("image", "ratio", "value", "target", "result"))
    print("\n".join(verdicts))
elif not have_rl:
    print("runlens was not measured (--peers-only, or ./cmd/runlens did not build): peer figures only.")
print()
print("raw outputs:", run)
if failed or any(v.endswith("FAIL") for v in verdicts):
    print("some targets were missed or a tool failed: exit 1")
    sys.exit(1)
PY
