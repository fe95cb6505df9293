package store_test

import (
	"cmp"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var ctx = context.Background()

// allRisks pages through every risk matching q.
func allRisks(t *testing.T, st store.Store, q store.RiskQuery) []store.RiskRow {
	t.Helper()
	var out []store.RiskRow
	for {
		page, err := st.Risks(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Risks...)
		if page.Next == "" {
			return out
		}
		q.Cursor = page.Next
	}
}

func ids(rows []store.RiskRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

// unsuppressed are the document's unsuppressed risks in the store's
// order: tier, then score (highest first), then id.
func unsuppressed(doc *result.Document) []string {
	var rs []result.Risk
	for _, r := range doc.Risks {
		if r.Suppressed == nil {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b result.Risk) int {
		return cmp.Or(cmp.Compare(result.TierRank(a.Tier), result.TierRank(b.Tier)), cmp.Compare(b.Score, a.Score), strings.Compare(a.ID, b.ID))
	})
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestIngestStoresTheRankedResult(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		doc := storetest.Document("prod", 40, storetest.DocOptions{})
		at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		stats, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "prod", Source: "push:ci", Document: doc, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Risks != len(doc.Risks) || stats.Appeared != len(doc.Risks) || stats.Disappeared != 0 || stats.Workloads != 40 || stats.NewImages != stats.Images {
			t.Fatalf("stats %+v for %d risks", stats, len(doc.Risks))
		}
		got := allRisks(t, b.Store, store.RiskQuery{Cluster: "prod", Limit: 7})
		if want := unsuppressed(doc); !slices.Equal(ids(got), want) {
			t.Fatalf("risks out of rank order or missing:\n got %v\nwant %v", ids(got), want)
		}
		r := got[0]
		if !r.FirstSeen.Equal(at) || r.Tier == "" || r.Image == "" || r.Facts.FindingFacts == nil || r.Facts.Severity == "" {
			t.Fatalf("first row %+v", r)
		}
		cs, err := b.Store.Clusters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Name != "prod" || cs[0].Workloads != 40 || cs[0].LastScanID != stats.ScanID || !cs[0].LastScanAt.Equal(at) || cs[0].Funnel.Occurrences != len(doc.Risks) {
			t.Fatalf("clusters %+v", cs)
		}
		one, err := b.Store.Risk(ctx, r.ID)
		if err != nil || one.ID != r.ID || one.Vulnerability != r.Vulnerability {
			t.Fatalf("Risk(%s) = %+v, %v", r.ID, one, err)
		}
		if _, err := b.Store.Risk(ctx, "nope"); !errorsIs(err, store.ErrNotFound) {
			t.Fatalf("Risk(nope) err %v", err)
		}
	})
}
