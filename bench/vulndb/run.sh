#!/usr/bin/env bash
# Benchmark of the database-at-scale targets. One run measures, on the
# >= 600k-advisory scale set with 300k CVE metric records (200k NVD, 100k
# CVE 5, built from the real ones): `runlens db import` wall time and peak
# RSS with and without the metrics, on-disk size and what the metrics add,
# warm lookup medians (advisories, CVE metrics), matching a 2,000-package
# inventory, a small scan's wall time (with the metrics DB, the same DB
# without metrics, and a tiny DB), and the air-gapped bundle export/import;
# then prints pass/fail per target and exits 1 when one is missed.
#
#   bench/vulndb/run.sh                     # cache in $SCALE_DIR (default /tmp/scale600k)
#   SCALE_DIR=~/.cache/runlens-scale RUNS=15 bench/vulndb/run.sh
#
# Environment: SCALE_DIR (scale-set cache, generated when missing), WORK
# (scratch dir, default a new temp dir, removed at the end unless KEEP=1),
# N (advisories, 600000), EPSS_ROWS (250000), NVD_RECORDS (200000),
# CVE5_RECORDS (100000), RUNS (scan repetitions, 15).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SCALE_DIR=${SCALE_DIR:-/tmp/scale600k}
N=${N:-600000}
EPSS_ROWS=${EPSS_ROWS:-250000}
NVD_RECORDS=${NVD_RECORDS:-200000}
CVE5_RECORDS=${CVE5_RECORDS:-100000}
RUNS=${RUNS:-15}
KEV=internal/vulndb/testdata/kev/known_exploited_vulnerabilities.json.gz
IMAGE=testdata/sample/image.tar
WORK=${WORK:-$(mktemp -d /tmp/runlens-vulndb-bench.XXXXXX)}
mkdir -p "$WORK/bin"
if [[ "${KEEP:-0}" != 1 ]]; then trap 'rm -rf "$WORK"' EXIT; fi
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

say() { printf '== %s\n' "$*" >&2; }

say "building runlens, vulndb-scale, matchbench"
nice go build -o "$WORK/bin/runlens" ./cmd/runlens
nice go build -o "$WORK/bin/vulndb-scale" ./internal/vulndb/cmd/vulndb-scale
nice go build -o "$WORK/bin/matchbench" ./bench/vulndb/matchbench
RL="$WORK/bin/runlens"

# The scale set is reused when complete: generating it takes minutes.
if [[ -s "$SCALE_DIR/osv/ecosystems.txt" && -s "$SCALE_DIR/epss.csv.gz" && -s "$SCALE_DIR/lookups.tsv" ]]; then
	say "reusing the scale set in $SCALE_DIR"
else
	say "generating $N advisories and $EPSS_ROWS EPSS rows into $SCALE_DIR"
	rm -rf "$SCALE_DIR"
	nice "$WORK/bin/vulndb-scale" gen -out "$SCALE_DIR" -n "$N" -epss "$EPSS_ROWS" >"$WORK/gen.json"
fi
if [[ -s "$SCALE_DIR/cve5.zip" && -s "$SCALE_DIR/metrics_lookups.txt" && -d "$SCALE_DIR/nvd" ]]; then
	say "reusing the CVE metrics of the scale set"
else
	say "generating $NVD_RECORDS NVD and $CVE5_RECORDS CVE 5 records into $SCALE_DIR"
	nice "$WORK/bin/vulndb-scale" gen-metrics -out "$SCALE_DIR" -nvd "$NVD_RECORDS" -cve5 "$CVE5_RECORDS" >"$WORK/gen-metrics.json"
fi

say "db import of the scale set with its CVE metrics (wall time and peak RSS)"
DB="$WORK/dbmetrics"
/usr/bin/time -f '%e %M' -o "$WORK/import.time" \
	"$RL" --db-dir "$DB" -q --no-progress db import "$SCALE_DIR/osv" "$SCALE_DIR/nvd" "$SCALE_DIR/cve5.zip" --epss "$SCALE_DIR/epss.csv.gz" --kev "$KEV"
"$RL" --db-dir "$DB" db status --format json >"$WORK/status.json"
stat -c %s "$DB/runlens.db" >"$WORK/size"
say "db import of the same set without the metrics"
PLAIN="$WORK/db600k"
/usr/bin/time -f '%e %M' -o "$WORK/import-plain.time" \
	"$RL" --db-dir "$PLAIN" -q --no-progress db import "$SCALE_DIR/osv" --epss "$SCALE_DIR/epss.csv.gz" --kev "$KEV"
stat -c %s "$PLAIN/runlens.db" >"$WORK/size-plain"

say "lookup latency: advisories, CVE metrics"
"$WORK/bin/vulndb-scale" lookup -out "$SCALE_DIR" -db "$DB" >"$WORK/lookup.json"
"$WORK/bin/vulndb-scale" metrics -out "$SCALE_DIR" -db "$DB" >"$WORK/metrics.json"
say "matching a 2,000-package inventory"
"$WORK/bin/matchbench" -db "$DB" -lookups "$SCALE_DIR/lookups.tsv" >"$WORK/match.json"

say "small scan: sample image with the metrics DB, the same DB without metrics, a tiny DB ($RUNS runs each, interleaved)"
TINY="$WORK/dbtiny"
"$RL" --db-dir "$TINY" -q --no-progress db import testdata/sample/advisories
scan_ms() { # db-dir cache-dir extra-args...
	local db=$1 cache=$2
	shift 2
	local t0 t1
	t0=$(date +%s%N)
	"$RL" --db-dir "$db" --cache-dir "$cache" -q --no-progress scan image --archive "$IMAGE" --format json "$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
for db in "$DB" "$PLAIN" "$TINY"; do scan_ms "$db" "$WORK/cache-$(basename "$db")" >/dev/null; done # fill the inventory caches, page cache
: >"$WORK/scan.tsv"
for _ in $(seq "$RUNS"); do
	for db in "$DB" "$PLAIN" "$TINY"; do
		printf '%s\twarm\t%s\n' "$(basename "$db")" "$(scan_ms "$db" "$WORK/cache-$(basename "$db")")" >>"$WORK/scan.tsv"
		printf '%s\tnocache\t%s\n' "$(basename "$db")" "$(scan_ms "$db" "$WORK/cache-none" --no-cache)" >>"$WORK/scan.tsv"
	done
done

say "air-gapped bundle: export and import at scale"
/usr/bin/time -f '%e %M' -o "$WORK/export.time" "$RL" --db-dir "$DB" -q db export "$WORK/db.tar.zst"
stat -c %s "$WORK/db.tar.zst" >"$WORK/bundle.size"
/usr/bin/time -f '%e %M' -o "$WORK/bimport.time" "$RL" --db-dir "$WORK/dbbundle" -q --no-progress db import "$WORK/db.tar.zst"
cmp -s "$DB/runlens.db" "$WORK/dbbundle/runlens.db" && echo same >"$WORK/bundle.same" || echo differ >"$WORK/bundle.same"

python3 - "$WORK" <<'EOF'
import json, statistics, sys, os
w = sys.argv[1]
rd = lambda p: open(os.path.join(w, p)).read().strip()
wall, rss_kb = rd("import.time").split()[-2:]
pwall, prss_kb = rd("import-plain.time").split()[-2:]
st = json.loads(rd("status.json"))
size, psize = int(rd("size")), int(rd("size-plain"))
lk = json.loads(rd("lookup.json"))
mx = json.loads(rd("metrics.json"))
mt = json.loads(rd("match.json"))
scan = {}
for line in rd("scan.tsv").splitlines():
    db, mode, us = line.split("\t")
    scan.setdefault((db, mode), []).append(int(us) / 1000)
med = {k: statistics.median(v) for k, v in scan.items()}
iqr = {k: statistics.quantiles(v, n=4)[2] - statistics.quantiles(v, n=4)[0] for k, v in scan.items()}
ex_wall, ex_rss = rd("export.time").split()[-2:]
bi_wall, bi_rss = rd("bimport.time").split()[-2:]
eps = (st.get("epss") or {}).get("rows", 0)
kev = (st.get("kev") or {}).get("count", 0)
mi = st.get("metrics") or {}
recs = sum(s.get("nvd_records", 0) + s.get("cve5_records", 0) for s in mi.get("sources", []))
print(f"scale set: {st['advisories']:,} advisories, {st['packages']:,} packages, {len(st['ecosystems'])} ecosystems, {eps:,} EPSS rows, {kev:,} KEV entries, "
      f"{recs:,} CVE metric records for {mi.get('cves', 0):,} CVEs ({mi.get('with_cvss', 0):,} with CVSS, {mi.get('with_ssvc', 0):,} with a CISA decision)")
growth = size - psize
rows = [
    ("scale set >= 600,000 advisories", f"{st['advisories']:,}", st["advisories"] >= 600000),
    ("scale set >= 10 ecosystems", f"{len(st['ecosystems'])}", len(st["ecosystems"]) >= 10),
    ("scale set >= 250,000 EPSS rows", f"{eps:,}", eps >= 250000),
    ("scale set >= 300,000 metric records", f"{recs:,}", recs >= 300000),
    ("db import with metrics <= 150 s", f"{float(wall):.1f} s (without metrics {float(pwall):.1f} s)", float(wall) <= 150),
    ("db import peak RSS <= 1 GB", f"{int(rss_kb)/1024:.0f} MB (without metrics {int(prss_kb)/1024:.0f} MB)", int(rss_kb) <= 1 << 20),
    ("on disk <= 450 MB", f"{size/2**20:.0f} MB ({size:,} B)", size <= 450 * 2**20),
    ("metrics on disk <= 60 MB", f"{growth/2**20:.1f} MB ({growth:,} B; the two sections {mx['metrics_sections_bytes']:,} B)", growth <= 60 * 2**20),
    ("lookup median warm <= 10 us", f"{lk['warm_median_us']:.1f} us (first decode {lk['first_median_us']:.1f} us, miss {lk['miss_median_us']:.1f} us)", lk["warm_median_us"] <= 10),
    ("metric lookup median warm <= 5 us", f"{mx['warm_median_us']:.2f} us (first {mx['first_median_us']:.2f}, p99 {mx['warm_p99_us']:.2f}, candidates {mx['candidates_warm_median_us']:.2f}, miss {mx['miss_median_us']:.2f} us)", mx["warm_median_us"] <= 5),
    ("match 2,000 packages <= 100 ms", f"{mt['match_warm_median_ms']:.1f} ms warm ({mt['match_warm_without_metrics_median_ms']:.1f} without metrics), {mt['match_first_ms']:.1f} ms first ({mt['findings']} findings)", mt["match_first_ms"] <= 100),
]
ov = med[("dbmetrics", "warm")] - med[("dbtiny", "warm")]
ovn = med[("dbmetrics", "nocache")] - med[("dbtiny", "nocache")]
rows.append(("small-scan DB overhead <= 30 ms", f"{ov:+.1f} ms (median {med[('dbmetrics','warm')]:.0f} vs {med[('dbtiny','warm')]:.0f} ms, cached inventory); {ovn:+.1f} ms without cache ({med[('dbmetrics','nocache')]:.0f} vs {med[('dbtiny','nocache')]:.0f} ms)", ov <= 30))
for mode, what in (("warm", "cached inventory"), ("nocache", "no cache")):
    d = med[("dbmetrics", mode)] - med[("db600k", mode)]
    rows.append((f"small scan, metrics vs none: |d| <= 5 ms ({mode})", f"{d:+.1f} ms ({med[('dbmetrics',mode)]:.1f} vs {med[('db600k',mode)]:.1f} ms, {what}; IQR {iqr[('dbmetrics',mode)]:.1f} / {iqr[('db600k',mode)]:.1f} ms)", abs(d) <= 5))
print()
print(f"{'target':52} {'measured':100} result")
fails = 0
for name, val, ok in rows:
    fails += not ok
    print(f"{name:52} {val:100} {'PASS' if ok else 'FAIL'}")
print()
print(f"open (in-process): {lk['open_ms']:.2f} ms; lookup p99 warm {lk['warm_p99_us']:.1f} us; 2,000 lookups only {lk['inventory_2000_ms']:.1f} ms")
print(f"metrics: {mx['found']:,} of {mx['lookups']:,} sampled CVEs have metrics, {mx['with_cvss']:,} with CVSS; integrity check {'ok' if mx['integrity_ok'] else 'FAILED'}")
print(f"bundle: export {float(ex_wall):.1f} s ({int(ex_rss)/1024:.0f} MB RSS), {int(rd('bundle.size'))/2**20:.0f} MB; import {float(bi_wall):.1f} s ({int(bi_rss)/1024:.0f} MB RSS); imported file {rd('bundle.same')} from the source")
print(f"load average at the end: {open('/proc/loadavg').read().split()[0:3]}")
sys.exit(1 if fails else 0)
EOF
