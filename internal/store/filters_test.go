package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// TestRiskFilters checks every RiskQuery filter against the same filter
// applied to every stored risk.
func TestRiskFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		t1 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		t2 := t1.Add(time.Hour)
		for i, c := range []string{"east", "west"} {
			doc := storetest.Document(c, 30, storetest.DocOptions{Images: 8})
			doc.Risks[3].Suppressed = &result.Suppression{By: "policy", Reason: "accepted"}
			if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: c, Document: doc, At: t1.Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		// west again, one finding per image changed: its new risks are new since t1.
		doc := storetest.Document("west", 30, storetest.DocOptions{Images: 8, Variant: 1})
		if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "west", Document: doc, At: t2}); err != nil {
			t.Fatal(err)
		}
		all := allRisks(t, b.Store, store.RiskQuery{Suppressed: true, Limit: 1000})
		if len(all) < 200 {
			t.Fatalf("only %d risks stored", len(all))
		}
		some := all[len(all)/3]
		cases := []struct {
			name string
			q    store.RiskQuery
			keep func(r *store.RiskRow) bool
		}{
			{"default leaves suppressed out", store.RiskQuery{}, func(r *store.RiskRow) bool { return r.Suppressed == nil }},
			{"suppressed", store.RiskQuery{Suppressed: true}, func(r *store.RiskRow) bool { return true }},
			{"cluster", store.RiskQuery{Cluster: "east"}, func(r *store.RiskRow) bool { return r.Suppressed == nil && r.Cluster == "east" }},
			{"namespace", store.RiskQuery{Cluster: "west", Namespace: "ns2"}, func(r *store.RiskRow) bool {
				return r.Suppressed == nil && r.Cluster == "west" && r.Namespace == "ns2"
			}},
			{"workload", store.RiskQuery{Workload: some.Workload}, func(r *store.RiskRow) bool { return r.Suppressed == nil && r.Workload == some.Workload }},
			{"tier", store.RiskQuery{Tier: some.Tier}, func(r *store.RiskRow) bool { return r.Suppressed == nil && r.Tier == some.Tier }},
			{"min tier", store.RiskQuery{MinTier: result.TierOutOfCycle}, func(r *store.RiskRow) bool {
				return r.Suppressed == nil && result.TierRank(r.Tier) <= 1
			}},
			{"owner", store.RiskQuery{Owner: "external"}, func(r *store.RiskRow) bool { return r.Suppressed == nil && r.Facts.Owner == "external" }},
			{"fix available", store.RiskQuery{Fix: "available"}, func(r *store.RiskRow) bool { return r.Suppressed == nil && len(r.Facts.FixedVersions) > 0 }},
			{"no fix", store.RiskQuery{Fix: "none"}, func(r *store.RiskRow) bool { return r.Suppressed == nil && len(r.Facts.FixedVersions) == 0 }},
			{"image", store.RiskQuery{Image: some.Image}, func(r *store.RiskRow) bool { return r.Suppressed == nil && r.Image == some.Image }},
			{"vulnerability", store.RiskQuery{Vulnerability: some.Vulnerability}, func(r *store.RiskRow) bool {
				return r.Suppressed == nil && r.Vulnerability == some.Vulnerability
			}},
			{"vulnerability by alias", store.RiskQuery{Vulnerability: "DEBIAN-" + some.Vulnerability}, func(r *store.RiskRow) bool {
				return r.Suppressed == nil && r.Vulnerability == some.Vulnerability
			}},
			{"package", store.RiskQuery{Package: "lodash"}, func(r *store.RiskRow) bool { return r.Suppressed == nil && r.Package.Name == "lodash" }},
			{"search", store.RiskQuery{Search: "APP1"}, func(r *store.RiskRow) bool {
				return r.Suppressed == nil && (strings.Contains(strings.ToLower(r.Workload), "app1") || strings.Contains(r.ImageReference, "app1"))
			}},
			{"search escapes LIKE", store.RiskQuery{Search: "%"}, func(r *store.RiskRow) bool { return false }},
			{"new since", store.RiskQuery{NewSince: t1.Add(30 * time.Minute)}, func(r *store.RiskRow) bool { return r.Suppressed == nil && r.FirstSeen.Equal(t2) }},
			{"combined", store.RiskQuery{Cluster: "east", MinTier: result.TierScheduled, Fix: "available", Owner: "internal"}, func(r *store.RiskRow) bool {
				return r.Suppressed == nil && r.Cluster == "east" && result.TierRank(r.Tier) <= 2 && len(r.Facts.FixedVersions) > 0 && r.Facts.Owner == "internal"
			}},
		}
		for _, c := range cases {
			var want []string
			for i := range all {
				if c.keep(&all[i]) {
					want = append(want, all[i].ID)
				}
			}
			c.q.Limit = 13
			got := ids(allRisks(t, b.Store, c.q))
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %d risks, want %d\n got %v\nwant %v", c.name, len(got), len(want), got, want)
			}
			if c.name != "search escapes LIKE" && len(want) == 0 {
				t.Errorf("%s: the test data has no risk for it", c.name)
			}
			if c.name != "suppressed" && c.name != "default leaves suppressed out" && len(want) == len(all) {
				t.Errorf("%s: filters nothing out", c.name)
			}
		}
	})
}

// TestCursorStableUnderInserts pages the list while another cluster's
// result lands between pages: the pages neither repeat nor skip a risk
// that was there from the start.
func TestCursorStableUnderInserts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		storetest.Seed(t, b.Store, 1, 40)
		before := ids(allRisks(t, b.Store, store.RiskQuery{Limit: 1000}))
		q := store.RiskQuery{Limit: 25}
		var got []string
		for n := 0; ; n++ {
			page, err := b.Store.Risks(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(page.Risks)...)
			if n == 1 {
				doc := storetest.Document("late", 40, storetest.DocOptions{Variant: 2})
				if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "late", Document: doc}); err != nil {
					t.Fatal(err)
				}
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("risk %s on two pages", id)
			}
			seen[id] = true
		}
		for _, id := range before {
			if !seen[id] {
				t.Fatalf("risk %s skipped", id)
			}
		}
		if len(got) == len(before) {
			t.Fatalf("the inserted cluster's risks after the cursor never showed")
		}
		if _, err := b.Store.Risks(ctx, store.RiskQuery{Cursor: "!!"}); err == nil {
			t.Fatal("a bad cursor was accepted")
		}
	})
}
