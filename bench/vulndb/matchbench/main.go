// Command matchbench measures matching a 2,000-package inventory against a
// vulnerability database: 10% of the packages have advisories (taken from
// the scale set's lookups.tsv), the rest are names the database does not
// hold, as in a typical image. It prints one JSON object. Matching runs
// twice: as a scan does (the store is also a match.MetricsSource, so
// findings are rated with their CVEs' NVD, CNA and CISA ADP scores) and with
// the store seen as a plain match.Source, to show what the metric lookups
// cost.
//
//	matchbench -db /tmp/scaledb -lookups /tmp/scale600k/lookups.tsv
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/vulndb"
	"github.com/runlens/runlens/internal/vulndb/scaletest"
)

func main() {
	dbDir := flag.String("db", "/tmp/runlens-scale-db", "database directory")
	lookups := flag.String("lookups", "/tmp/runlens-scale/lookups.tsv", "lookups.tsv of the scale set")
	n := flag.Int("n", 2000, "packages in the inventory")
	runs := flag.Int("runs", 21, "warm repetitions (median reported)")
	flag.Parse()
	if err := run(context.Background(), *dbDir, *lookups, *n, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "matchbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dbDir, lookups string, n, runs int) error {
	pairs, err := scaletest.ReadLookups(lookups)
	if err != nil {
		return err
	}
	hits := min(n/10, len(pairs))
	inv := &inventory.Inventory{}
	for i := range n {
		p := pairs[i%len(pairs)]
		name := p[1]
		if i >= hits {
			name = fmt.Sprintf("%s-absent-%d", p[1], i)
		}
		// "0.1" is below nearly every fixed version, so the packages with
		// advisories produce findings and matching does its full work.
		inv.Packages = append(inv.Packages, inventory.Package{Name: name, Version: "0.1", Ecosystem: p[0]})
	}
	t0 := time.Now()
	db, err := vulndb.Open(ctx, dbDir)
	if err != nil {
		return err
	}
	defer db.Close()
	open := time.Since(t0)
	measure := func(src match.Source) (time.Duration, int, error) {
		t := time.Now()
		res, err := match.Match(ctx, inv, src)
		return time.Since(t), len(res.Findings), err
	}
	cold, findings, err := measure(db)
	if err != nil {
		return err
	}
	warmMedian := func(src match.Source) (time.Duration, error) {
		warm := make([]time.Duration, runs)
		for i := range warm {
			if warm[i], _, err = measure(src); err != nil {
				return 0, err
			}
		}
		slices.Sort(warm)
		return warm[len(warm)/2], nil
	}
	warm, err := warmMedian(db)
	if err != nil {
		return err
	}
	plain, err := warmMedian(lookupOnly{db})
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"packages": n, "with_advisories": hits, "findings": findings,
		"open_ms": ms(open), "match_first_ms": ms(cold), "match_warm_median_ms": ms(warm),
		"match_warm_without_metrics_median_ms": ms(plain),
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// lookupOnly shows the store as a plain match.Source, without CVE metrics.
type lookupOnly struct{ db *vulndb.DB }

func (l lookupOnly) Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	return l.db.Lookup(ctx, ecosystem, name)
}
