package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/vulndb"
	"github.com/runlens/runlens/internal/vulndb/scaletest"
)

// genMetrics writes the CVE metrics part of the scale set (NVD feeds and a
// CVE 5 zip built from the real records) beside an existing one.
func genMetrics(ctx context.Context, out, nvdTemplates, cve5Templates string, nvd, cve5 int) (any, error) {
	start := time.Now()
	r, err := scaletest.GenerateMetrics(ctx, out, scaletest.MetricsOptions{
		NVDTemplates: nvdTemplates, CVE5Templates: cve5Templates, NVDRecords: nvd, CVE5Records: cve5,
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"seconds": time.Since(start).Seconds(), "cves": r.CVEs, "nvd_records": nvd, "cve5_records": cve5,
		"nvd_bytes": dirSize(r.NVDDir), "cve5_zip_bytes": dirSize(r.CVE5Zip), "lookups": len(r.Lookups)}, nil
}

// metricsLookup measures DB.Metrics and DB.SeverityCandidates (what
// matching asks per CVE of a finding) on the sampled CVE ids: first touch
// and warm medians, and misses; and the size of the two metrics sections
// (the on-disk growth they bring), read from the integrity check.
func metricsLookup(ctx context.Context, out, dbDir string) (any, error) {
	b, err := os.ReadFile(filepath.Join(out, "metrics_lookups.txt"))
	if err != nil {
		return nil, err
	}
	ids := strings.Fields(string(b))
	db, err := vulndb.Open(ctx, dbDir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	measure := func(f func(string) bool, ids []string) (time.Duration, time.Duration, int) {
		d := make([]time.Duration, len(ids))
		found := 0
		for i, id := range ids {
			t0 := time.Now()
			if f(id) {
				found++
			}
			d[i] = time.Since(t0)
		}
		slices.Sort(d)
		return d[len(d)/2], d[len(d)*99/100], found
	}
	metrics := func(id string) bool { _, ok := db.Metrics(ctx, id); return ok }
	cands := func(id string) bool { return len(db.SeverityCandidates(ctx, id)) > 0 }
	firstMed, _, found := measure(metrics, ids)
	warmMed, warmP99, _ := measure(metrics, ids)
	candMed, _, withCVSS := measure(cands, ids)
	misses := make([]string, len(ids))
	for i, id := range ids {
		misses[i] = id + "0"
	}
	missMed, _, _ := measure(metrics, misses)
	in, err := vulndb.Check(ctx, dbDir)
	if err != nil {
		return nil, err
	}
	var sections int64
	for _, s := range in.Sections {
		if s.Name == "CVSS strings" || s.Name == "CVE metrics" {
			sections += s.Length
		}
	}
	mi := db.Metadata().Metrics
	res := map[string]any{
		"lookups": len(ids), "found": found, "with_cvss": withCVSS,
		"first_median_us": us(firstMed), "warm_median_us": us(warmMed), "warm_p99_us": us(warmP99),
		"candidates_warm_median_us": us(candMed), "miss_median_us": us(missMed),
		"metrics_sections_bytes": sections, "integrity_ok": in.OK(),
	}
	if mi != nil {
		res["cves"], res["with_ssvc"] = mi.CVEs, mi.WithSSVC
	}
	return res, nil
}

func us(d time.Duration) float64 { return d.Seconds() * 1e6 }
