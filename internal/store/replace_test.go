package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// TestReplaceRisks replaces the risks of one image of a cluster (one
// gone, one ranked again with another score, one new): the cluster's
// other risks and the other cluster stay as they were, the kept risk
// keeps its first sight, the feed has one appeared and one disappeared
// change of cause db-update, the cluster's history gains an entry and
// its funnel, counts and remediation follow the stored risks. A risk on
// an image not replaced is refused and changes nothing.
func TestReplaceRisks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store
		t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		t1 := t0.Add(time.Hour)
		doc := storetest.Document("prod", 6, storetest.DocOptions{Images: 3})
		for _, c := range []string{"prod", "other"} {
			d := doc
			if c == "other" {
				d = storetest.Document("other", 4, storetest.DocOptions{Images: 3})
			}
			if _, err := st.IngestResult(ctx, store.Ingest{Cluster: c, Document: d, At: t0}); err != nil {
				t.Fatal(err)
			}
		}
		digest := storetest.Digest(0)
		var on, off []result.Risk
		for _, r := range doc.Risks {
			if r.Image == digest {
				on = append(on, r)
			} else {
				off = append(off, r)
			}
		}
		if len(on) < 3 || len(off) == 0 {
			t.Fatalf("%d risks on the image, %d off", len(on), len(off))
		}
		gone, kept := on[0], on[1]
		kept.Score += 1.5
		added := on[2]
		added.Vulnerability, added.ID, added.Tier = "CVE-2026-4242", "r-000000004242", result.TierImmediate
		newRisks := append([]result.Risk{kept, added}, on[2:]...)
		otherBefore := allRisks(t, st, store.RiskQuery{Cluster: "other", Suppressed: true})
		beforeScans, _ := st.Scans(ctx, "prod", 10)

		bad := append(slices.Clone(newRisks), off[0])
		if _, err := st.ReplaceRisks(ctx, store.RiskUpdate{Cluster: "prod", Digests: []string{digest}, Risks: bad, At: t1}); err == nil {
			t.Fatal("a risk on an image not replaced was accepted")
		}

		db := &result.Database{BuiltAt: t1, Advisories: 42}
		changes, err := st.ReplaceRisks(ctx, store.RiskUpdate{Cluster: "prod", Digests: []string{digest}, Risks: newRisks, Database: db, At: t1})
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 2 {
			t.Fatalf("changes %+v", changes)
		}
		feed := allChanges(t, st, store.ChangeQuery{Since: t0, Cause: store.CauseDBUpdate})
		var kinds []string
		for _, c := range feed {
			kinds = append(kinds, c.Kind+" "+c.RiskID)
			if !c.At.Equal(t1) || c.Cluster != "prod" {
				t.Fatalf("change %+v", c)
			}
		}
		slices.Sort(kinds)
		if want := []string{"appeared " + added.ID, "disappeared " + gone.ID}; !slices.Equal(kinds, want) {
			t.Fatalf("feed %v, want %v", kinds, want)
		}
		rows := allRisks(t, st, store.RiskQuery{Cluster: "prod", Suppressed: true})
		byID := map[string]store.RiskRow{}
		for _, r := range rows {
			byID[r.ID] = r
		}
		if len(rows) != len(doc.Risks) {
			t.Fatalf("%d risks after, want %d", len(rows), len(doc.Risks))
		}
		if _, ok := byID[gone.ID]; ok {
			t.Fatal("the risk gone is still listed")
		}
		if r := byID[kept.ID]; r.Score != kept.Score || !r.FirstSeen.Equal(t0) || !r.LastSeen.Equal(t1) {
			t.Fatalf("kept risk %+v", r)
		}
		if r := byID[added.ID]; !r.FirstSeen.Equal(t1) || r.Tier != result.TierImmediate {
			t.Fatalf("added risk %+v", r)
		}
		for _, o := range off {
			if r := byID[o.ID]; r.ID == "" || !r.LastSeen.Equal(t0) || r.Score != o.Score {
				t.Fatalf("risk %s of another image now %+v", o.ID, r)
			}
		}
		if after := allRisks(t, st, store.RiskQuery{Cluster: "other", Suppressed: true}); !slices.Equal(ids(after), ids(otherBefore)) {
			t.Fatal("the other cluster's risks changed")
		}

		scans, err := st.Scans(ctx, "prod", 10)
		if err != nil || len(scans) != len(beforeScans)+1 {
			t.Fatalf("scans %+v, %v", scans, err)
		}
		if s := scans[0]; s.Source != "db-update" || s.Appeared != 1 || s.Disappeared != 1 || !s.DBBuiltAt.Equal(t1) {
			t.Fatalf("newest scan %+v", s)
		}
		funnel, err := st.Funnel(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := st.Clusters(ctx)
		if cs[1].Name != "prod" || cs[1].LastScanID != scans[0].ID || cs[1].Funnel.Immediate != funnel.Immediate || cs[1].Funnel.Occurrences != funnel.Occurrences {
			t.Fatalf("cluster %+v, funnel %+v", cs[1], funnel)
		}
		if scans[0].Funnel.Immediate != funnel.Immediate || funnel.Immediate == 0 {
			t.Fatalf("scan funnel %+v, stored risks' %+v", scans[0].Funnel, funnel)
		}
		counts, err := st.NamespaceTierCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		unsup := map[string]int{}
		for _, r := range rows {
			if r.Suppressed == nil {
				unsup[r.Namespace+"/"+r.Tier]++
			}
		}
		got := map[string]int{}
		for ns, tiers := range counts["prod"] {
			for tier, n := range tiers {
				got[ns+"/"+tier] = n
			}
		}
		if !mapsEqual(got, unsup) {
			t.Fatalf("namespace counts %v, want %v", got, unsup)
		}

		acts, err := st.Remediation(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		latest, err := st.LatestDocument(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		occurrences, unsuppressed := 0, 0
		for _, a := range acts {
			for _, n := range a.ByTier {
				occurrences += n
			}
		}
		for _, n := range unsup {
			unsuppressed += n
		}
		if len(acts) == 0 || len(acts) != len(latest.Remediation) || acts[0].Tier != result.TierImmediate ||
			!slices.Contains(acts[0].Vulnerabilities, added.Vulnerability) || occurrences != unsuppressed {
			t.Fatalf("remediation (%d occurrences, %d risks) %+v", occurrences, unsuppressed, acts)
		}
		if latest.Database == nil || latest.Database.Advisories != 42 || len(latest.Risks) != len(rows) {
			t.Fatalf("latest document database %+v, %d risks", latest.Database, len(latest.Risks))
		}
		// A new scan stores its own actions again.
		if _, err := st.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: doc, At: t1.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if acts, err := st.Remediation(ctx, "prod"); err != nil || len(acts) != len(doc.Remediation) || acts[0].Text != doc.Remediation[0].Text {
			t.Fatalf("remediation after a new scan %+v, %v", acts, err)
		}
	})
}
