package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// TestRescanKeepsHistory ingests a cluster twice: kept risks keep their
// first_seen, new ones are appeared Changes, gone ones disappeared
// Changes and are no longer listed; the history has both scans.
func TestRescanKeepsHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		t1 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		t2 := t1.Add(24 * time.Hour)
		d1 := storetest.Document("prod", 20, storetest.DocOptions{Images: 5})
		d2 := storetest.Document("prod", 20, storetest.DocOptions{Images: 5, Variant: 1})
		if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: d1, At: t1}); err != nil {
			t.Fatal(err)
		}
		st, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: d2, At: t2})
		if err != nil {
			t.Fatal(err)
		}
		old, cur := riskSet(d1), riskSet(d2)
		var appeared, gone []string
		for id := range cur {
			if !old[id] {
				appeared = append(appeared, id)
			}
		}
		for id := range old {
			if !cur[id] {
				gone = append(gone, id)
			}
		}
		if len(appeared) == 0 || len(gone) == 0 || st.Appeared != len(appeared) || st.Disappeared != len(gone) {
			t.Fatalf("stats %+v, want %d appeared and %d disappeared", st, len(appeared), len(gone))
		}
		for _, r := range allRisks(t, b.Store, store.RiskQuery{Suppressed: true, Limit: 1000}) {
			switch {
			case !cur[r.ID]:
				t.Fatalf("risk %s gone from the result is still listed", r.ID)
			case old[r.ID] && !r.FirstSeen.Equal(t1):
				t.Fatalf("kept risk %s first seen %v, want %v", r.ID, r.FirstSeen, t1)
			case !old[r.ID] && !r.FirstSeen.Equal(t2):
				t.Fatalf("new risk %s first seen %v, want %v", r.ID, r.FirstSeen, t2)
			case !r.LastSeen.Equal(t2):
				t.Fatalf("risk %s last seen %v", r.ID, r.LastSeen)
			}
		}
		feed := allChanges(t, b.Store, store.ChangeQuery{Since: t1.Add(time.Hour), Cluster: "prod", Limit: 17})
		var gotApp, gotGone []string
		for _, c := range feed {
			if c.Cause != store.CauseScan || !c.At.Equal(t2) || c.Image == "" || c.Vulnerability == "" || c.Tier == "" {
				t.Fatalf("change %+v", c)
			}
			if c.Kind == store.ChangeAppeared {
				gotApp = append(gotApp, c.RiskID)
			} else {
				gotGone = append(gotGone, c.RiskID)
			}
		}
		if !sameSet(gotApp, appeared) || !sameSet(gotGone, gone) {
			t.Fatalf("feed: %d appeared, %d disappeared; want %d, %d", len(gotApp), len(gotGone), len(appeared), len(gone))
		}
		for i := 1; i < len(feed); i++ {
			if feed[i].Seq >= feed[i-1].Seq {
				t.Fatal("feed not newest first")
			}
		}
		scans, err := b.Store.Scans(ctx, "prod", 10)
		if err != nil || len(scans) != 2 || scans[0].ID != st.ScanID || scans[0].Appeared != len(appeared) || !scans[1].At.Equal(t1) {
			t.Fatalf("scans %+v, %v", scans, err)
		}
	})
}

func riskSet(doc *result.Document) map[string]bool {
	m := map[string]bool{}
	for _, r := range doc.Risks {
		m[r.ID] = true
	}
	return m
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func allChanges(t *testing.T, st store.Store, q store.ChangeQuery) []store.Change {
	t.Helper()
	var out []store.Change
	for {
		page, err := st.Changes(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Changes...)
		if page.Next == "" {
			return out
		}
		q.Cursor = page.Next
	}
}

// TestFailedScanNeverReadsClean rescans a cluster whose one image now
// fails to scan (no findings in the result): the image keeps its
// findings, its risks stay listed, and nothing of it disappears; its
// status is the latest scan's, in Images too, until a scan succeeds.
func TestFailedScanNeverReadsClean(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		d1 := storetest.Document("prod", 12, storetest.DocOptions{Images: 4})
		if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: d1, At: time.Unix(100, 0)}); err != nil {
			t.Fatal(err)
		}
		victim := storetest.Digest(1)
		before, err := b.Store.Image(ctx, victim)
		if err != nil || len(before.Image.Findings) == 0 {
			t.Fatalf("image before: %+v, %v", before, err)
		}
		wantRisks := ids(allRisks(t, b.Store, store.RiskQuery{Image: victim, Limit: 1000}))
		for _, status := range []string{result.StatusFailed, result.StatusPartial} {
			d2 := storetest.Document("prod", 12, storetest.DocOptions{Images: 4})
			for _, img := range d2.Images {
				if img.Target.Digest == victim {
					img.Status, img.Error, img.Findings, img.Packages = status, "registry said 500", []match.Finding{}, nil
				}
			}
			var kept []result.Risk
			for _, r := range d2.Risks {
				if r.Image != victim {
					kept = append(kept, r)
				}
			}
			d2.Risks = kept
			st, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: d2, At: time.Unix(200, 0)})
			if err != nil {
				t.Fatal(err)
			}
			if st.Disappeared != 0 {
				t.Fatalf("%s: %d risks disappeared", status, st.Disappeared)
			}
			after, err := b.Store.Image(ctx, victim)
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Image.Findings) != len(before.Image.Findings) || after.Status != status || len(after.Image.Packages) == 0 {
				t.Fatalf("%s: image after: status %s, %d findings (was %d), %d packages", status, after.Status, len(after.Image.Findings), len(before.Image.Findings), len(after.Image.Packages))
			}
			if got := ids(allRisks(t, b.Store, store.RiskQuery{Image: victim, Limit: 1000})); !slices.Equal(got, wantRisks) {
				t.Fatalf("%s: risks of the image %v, want %v", status, got, wantRisks)
			}
			doc, err := b.Store.LatestDocument(ctx, "prod")
			if err != nil {
				t.Fatal(err)
			}
			for _, img := range doc.Images {
				if img.Target.Digest == victim && len(img.Findings) == 0 {
					t.Fatalf("%s: latest document reads the image as clean", status)
				}
			}
			if got := imageStatus(t, b.Store, victim); got != status {
				t.Fatalf("%s: Images says %s", status, got)
			}
		}
		// A scan that succeeds again says so.
		if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: d1, At: time.Unix(300, 0)}); err != nil {
			t.Fatal(err)
		}
		if got := imageStatus(t, b.Store, victim); got != result.StatusScanned {
			t.Fatalf("after a good scan Images says %s", got)
		}
		if after, err := b.Store.Image(ctx, victim); err != nil || len(after.Image.Findings) != len(before.Image.Findings) || len(after.Image.Packages) == 0 {
			t.Fatalf("image after a good scan: %+v, %v", after, err)
		}
	})
}

// imageStatus is the status Images gives digest.
func imageStatus(t *testing.T, st store.Store, digest string) string {
	t.Helper()
	imgs, err := st.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imgs {
		if im.Digest == digest {
			return im.Status
		}
	}
	t.Fatalf("no image %s", digest)
	return ""
}

// TestIngestRefusesAnotherCluster: a document whose workloads or risks
// name another cluster is refused and nothing is stored.
func TestIngestRefusesAnotherCluster(t *testing.T) {
	b := storetest.SQLite(t)
	doc := storetest.Document("east", 4, storetest.DocOptions{})
	_, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "west", Document: doc})
	if err == nil || !strings.Contains(err.Error(), `"east"`) {
		t.Fatalf("err %v", err)
	}
	doc.Workloads = nil
	if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: "west", Document: doc}); err == nil {
		t.Fatal("risks of another cluster accepted")
	}
	cs, _ := b.Store.Clusters(ctx)
	if len(cs) != 0 {
		t.Fatalf("clusters %+v", cs)
	}
}
