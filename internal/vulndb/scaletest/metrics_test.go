package scaletest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/runlens/runlens/internal/vulndb"
)

// TestGenerateMetrics builds a small set and imports it: the synthetic NVD
// feeds and CVE 5 zip are recognised by content and every sampled CVE id
// has metrics.
func TestGenerateMetrics(t *testing.T) {
	ctx := context.Background()
	out := t.TempDir()
	if _, err := Generate(ctx, out, Options{Templates: "../testdata/osv", Advisories: 2000, EPSSRows: 3000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	res, err := GenerateMetrics(ctx, out, MetricsOptions{NVDTemplates: "../testdata/nvd", CVE5Templates: "../testdata/cve", NVDRecords: 1000, CVE5Records: 400})
	if err != nil {
		t.Fatal(err)
	}
	if res.CVEs != 1200 {
		t.Errorf("%d CVEs, want 1000 NVD + 200 CVE 5 only", res.CVEs)
	}
	in, err := vulndb.ClassifyInputs([]string{filepath.Join(out, "osv"), res.NVDDir, res.CVE5Zip})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Sources) != 3 || in.Sources[1].Kind != vulndb.KindNVD || in.Sources[2].Kind != vulndb.KindCVE5 {
		t.Fatalf("sources %+v", in.Sources)
	}
	dir := t.TempDir()
	m, err := vulndb.Import(ctx, dir, in.Sources...)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Metrics.Sources; s[0].NVDRecords != 1000 || s[1].CVE5Records != 400 {
		t.Errorf("metrics sources %+v", s)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	missing := 0
	for _, id := range res.Lookups {
		if _, ok := db.Metrics(ctx, id); !ok {
			missing++
		}
	}
	// Some templates are rejected or unanalysed records, which keep nothing.
	if missing > len(res.Lookups)/5 {
		t.Errorf("%d of %d sampled CVEs have no metrics", missing, len(res.Lookups))
	}
}
