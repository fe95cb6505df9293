package store_test

import (
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// TestIngestTenThousandWorkloads ingests one 10,000-workload cluster
// (40,000 risks) three times — new, with part of the findings changed,
// the same again — and pages the ranked list with filters; it logs the
// times (bench/server holds the targets: a shared machine makes a timed
// test flaky).
func TestIngestTenThousandWorkloads(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timed scale test (not under -short or -race)")
	}
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		doc := storetest.Document("big", 10000, storetest.DocOptions{Images: 1000})
		start := time.Now()
		st1, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "big", Document: doc, At: time.Unix(1000, 0)})
		if err != nil {
			t.Fatal(err)
		}
		first := time.Since(start)
		doc2 := storetest.Document("big", 10000, storetest.DocOptions{Images: 1000, Variant: 1})
		start = time.Now()
		st2, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "big", Document: doc2, At: time.Unix(2000, 0)})
		if err != nil {
			t.Fatal(err)
		}
		second := time.Since(start)
		start = time.Now()
		st3, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "big", Document: doc2, At: time.Unix(3000, 0)})
		if err != nil {
			t.Fatal(err)
		}
		third := time.Since(start)
		t.Logf("%s: ingest of %d risks: %v (new), %v (a quarter changed: %d appeared, %d disappeared), %v (the same again)",
			b.Name, st1.Risks, first, second, st2.Appeared, st2.Disappeared, third)
		if st3.Appeared != 0 || st3.Disappeared != 0 {
			t.Errorf("the same result again: %+v", st3)
		}
		if st2.Appeared == 0 || st2.Disappeared == 0 {
			t.Errorf("second ingest: %+v", st2)
		}
		var worst time.Duration
		for _, q := range []store.RiskQuery{{}, {Cluster: "big"}, {Cluster: "big", Namespace: "ns3"}, {Cluster: "big", Tier: "scheduled"}, {MinTier: "out-of-cycle", Owner: "internal"}, {Search: "app12"}} {
			start := time.Now()
			page, err := b.Store.Risks(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if page.Next != "" {
				q.Cursor = page.Next
				if _, err := b.Store.Risks(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			took := time.Since(start) / 2
			worst = max(worst, took)
			t.Logf("%s: %+v: %v a page", b.Name, q, took)
		}
		t.Logf("%s: worst page of 100: %v", b.Name, worst)
		start = time.Now()
		latest, err := b.Store.LatestDocument(ctx, "big")
		if err != nil || len(latest.Risks) != st3.Risks {
			t.Fatalf("latest document: %v", err)
		}
		t.Logf("%s: latest document (%d risks) rebuilt in %v", b.Name, len(latest.Risks), time.Since(start))
	})
}
