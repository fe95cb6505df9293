package store_test

import (
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// countsOf counts the unsuppressed risks listed, per cluster, namespace
// and tier, as NamespaceTierCounts does.
func countsOf(t *testing.T, st store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range allRisks(t, st, store.RiskQuery{}) {
		out[r.Cluster+"/"+r.Namespace+"/"+r.Tier]++
	}
	return out
}

// The per-namespace counts follow every ingest (a rescan with fewer
// workloads lowers them), TierCounts sums them, and the every-cluster
// funnel, served from memory between writes, follows too.
func TestCountsFollowIngests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store
		at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		for i, n := range []int{12, 4} {
			for _, c := range []string{"a", "b"} {
				w := n
				if c == "b" {
					w = 3
				}
				if _, err := st.IngestResult(ctx, store.Ingest{Cluster: c, Document: storetest.Document(c, w, storetest.DocOptions{}), At: at.Add(time.Duration(i) * time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			byNS, err := st.NamespaceTierCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for c, nss := range byNS {
				for ns, tiers := range nss {
					for tier, n := range tiers {
						got[c+"/"+ns+"/"+tier] = n
					}
				}
			}
			want := countsOf(t, st)
			if len(want) == 0 || !mapsEqual(got, want) {
				t.Fatalf("after ingest %d: counts %v, want %v", i, got, want)
			}
			tc, err := st.TierCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sum := map[string]int{}
			for k, n := range want {
				sum[k[:1]] += n
			}
			for c, tiers := range tc {
				for _, n := range tiers {
					sum[c] -= n
				}
			}
			for c, n := range sum {
				if n != 0 {
					t.Fatalf("tier counts of %s off by %d: %v", c, n, tc)
				}
			}
			f, err := st.Funnel(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if all := allRisks(t, st, store.RiskQuery{Suppressed: true}); f.Occurrences != len(all) {
				t.Fatalf("after ingest %d: funnel of %d occurrences, %d stored", i, f.Occurrences, len(all))
			}
		}
	})
}
