// Command vulndb-scale generates the 600k-advisory scale set and measures the
// vulnerability store on it: import time and peak RSS, on-disk size, open
// time and lookup latency. Run each step as its own process so peak RSS
// belongs to that step alone:
//
//	vulndb-scale gen         -out /tmp/scale -n 600000 -epss 250000
//	vulndb-scale gen-metrics -out /tmp/scale -nvd 200000 -cve5 100000
//	vulndb-scale import      -out /tmp/scale -db /tmp/scaledb [-metrics]
//	vulndb-scale lookup      -out /tmp/scale -db /tmp/scaledb
//	vulndb-scale metrics     -out /tmp/scale -db /tmp/scaledb
//	vulndb-scale open        -db /tmp/scaledb -runs 21
//
// Each prints one JSON object on stdout (for the bench/ scripts).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/runlens/runlens/internal/vulndb"
	"github.com/runlens/runlens/internal/vulndb/scaletest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: vulndb-scale gen|gen-metrics|import|lookup|metrics|open [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	out := fs.String("out", "/tmp/runlens-scale", "scale set directory")
	dbDir := fs.String("db", "/tmp/runlens-scale-db", "database directory")
	n := fs.Int("n", 600000, "advisories to generate")
	epss := fs.Int("epss", 250000, "EPSS rows to generate")
	templates := fs.String("templates", "internal/vulndb/testdata/osv", "real OSV records to replicate")
	heapProf := fs.String("heapprofile", "", "write a heap profile at the peak of in-use heap (import step)")
	runs := fs.Int("runs", 21, "opens per mode (open step)")
	kev := fs.String("kev", "internal/vulndb/testdata/kev/known_exploited_vulnerabilities.json.gz", "KEV catalog")
	nvd := fs.Int("nvd", 200000, "NVD records to generate (gen-metrics)")
	cve5 := fs.Int("cve5", 100000, "CVE 5 records to generate (gen-metrics)")
	nvdTemplates := fs.String("nvd-templates", "internal/vulndb/testdata/nvd", "real NVD records to replicate")
	cve5Templates := fs.String("cve5-templates", "internal/vulndb/testdata/cve", "real CVE 5 records to replicate")
	withMetrics := fs.Bool("metrics", false, "import the NVD feeds and CVE 5 zip of the set too (import step)")
	fs.Parse(os.Args[2:])
	ctx := context.Background()
	var res any
	var err error
	switch os.Args[1] {
	case "gen":
		res, err = gen(ctx, *out, *templates, *n, *epss)
	case "gen-metrics":
		res, err = genMetrics(ctx, *out, *nvdTemplates, *cve5Templates, *nvd, *cve5)
	case "import":
		if *heapProf != "" {
			defer watchHeap(*heapProf)()
		}
		res, err = doImport(ctx, *out, *dbDir, *kev, *withMetrics)
	case "lookup":
		res, err = lookup(ctx, *out, *dbDir)
	case "metrics":
		res, err = metricsLookup(ctx, *out, *dbDir)
	case "open":
		res, err = openCost(ctx, *dbDir, *runs)
	default:
		err = fmt.Errorf("unknown step %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulndb-scale:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

func gen(ctx context.Context, out, templates string, n, epss int) (any, error) {
	start := time.Now()
	r, err := scaletest.Generate(ctx, out, scaletest.Options{Templates: templates, Advisories: n, EPSSRows: epss, Seed: 1})
	if err != nil {
		return nil, err
	}
	return map[string]any{"seconds": time.Since(start).Seconds(), "ecosystems": r.Ecosystems, "lookups": len(r.Lookups), "osv_bytes": dirSize(r.OSVDir)}, nil
}

func doImport(ctx context.Context, out, dbDir, kev string, withMetrics bool) (any, error) {
	start := time.Now()
	sources := []vulndb.Source{vulndb.OSVDir(filepath.Join(out, "osv")), vulndb.EPSS(filepath.Join(out, "epss.csv.gz")), vulndb.KEV(kev)}
	if withMetrics {
		sources = append(sources, vulndb.NVD(filepath.Join(out, "nvd")), vulndb.CVE5(filepath.Join(out, "cve5.zip")))
	}
	m, err := (&vulndb.Importer{Force: true}).Import(ctx, dbDir, sources...)
	if err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	st, err := os.Stat(filepath.Join(dbDir, vulndb.FileName))
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"seconds": secs, "peak_rss_mb": ru.Maxrss / 1024, "db_bytes": st.Size(), "db_mb": st.Size() >> 20,
		"advisories": m.Advisories, "packages": m.Packages, "ecosystems": len(m.Ecosystems), "bad": m.Bad,
		"epss_rows": m.EPSS.Rows, "kev": m.KEV.Count, "cpu_user_s": float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6,
	}, nil
}

func lookup(ctx context.Context, out, dbDir string) (any, error) {
	pairs, err := scaletest.ReadLookups(filepath.Join(out, "lookups.tsv"))
	if err != nil {
		return nil, err
	}
	start := time.Now()
	db, err := vulndb.Open(ctx, dbDir)
	openDur := time.Since(start)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	measure := func(pairs [][2]string) (time.Duration, time.Duration, int) {
		d := make([]time.Duration, len(pairs))
		found := 0
		for i, p := range pairs {
			t0 := time.Now()
			vs, err := db.Lookup(ctx, p[0], p[1])
			d[i] = time.Since(t0)
			if err != nil {
				panic(err)
			}
			found += len(vs)
		}
		slices.Sort(d)
		return d[len(d)/2], d[len(d)*99/100], found
	}
	coldMed, coldP99, found := measure(pairs) // first touch: decode from the file
	warmMed, warmP99, _ := measure(pairs)     // warm: page cache and record cache
	misses := make([][2]string, len(pairs))
	for i, p := range pairs {
		misses[i] = [2]string{p[0], p[1] + "-absent"}
	}
	missMed, _, _ := measure(misses)
	// A 2,000-package inventory: 10% have advisories, the rest are misses.
	inv := append(slices.Clone(pairs[:min(200, len(pairs))]), misses[:1800]...)
	t0 := time.Now()
	for _, p := range inv {
		if _, err := db.Lookup(ctx, p[0], p[1]); err != nil {
			return nil, err
		}
	}
	invDur := time.Since(t0)
	return map[string]any{
		"open_ms": openDur.Seconds() * 1000, "lookups": len(pairs), "advisories_returned": found,
		"first_median_us": coldMed.Seconds() * 1e6, "first_p99_us": coldP99.Seconds() * 1e6,
		"warm_median_us": warmMed.Seconds() * 1e6, "warm_p99_us": warmP99.Seconds() * 1e6,
		"miss_median_us": missMed.Seconds() * 1e6, "inventory_2000_ms": invDur.Seconds() * 1000,
	}, nil
}

// watchHeap writes a heap profile whenever in-use heap reaches a new high.
func watchHeap(path string) func() {
	stop := make(chan struct{})
	go func() {
		var peak uint64
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak+peak/20 {
				peak = ms.HeapInuse
				if f, err := os.Create(path); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}
	}()
	return func() { close(stop) }
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
