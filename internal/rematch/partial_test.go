package rematch_test

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/rematch"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

// leftPadAdvisory is an npm advisory for left-pad, which only image 0
// of seedClusters holds.
const leftPadAdvisory = `{"schema_version":"1.6.0","id":"GHSA-0000-left-pad0","modified":"2026-06-01T00:00:00Z","published":"2026-06-01T00:00:00Z",
	"aliases":["CVE-2026-7000"],"summary":"left-pad: prototype pollution",
	"affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"9.0.0"}]}]}],
	"database_specific":{"severity":"HIGH"}}`

// seedClusters stores three clusters' results: two sharing their
// images, one with images of its own. In the first two, images 0 and 2
// are of one repository (their actions group both) and image 0 alone
// holds left-pad.
func seedClusters(t *testing.T, st store.Store, at time.Time) {
	t.Helper()
	for _, c := range []struct {
		name string
		o    storetest.DocOptions
		w    int
	}{{"alpha", storetest.DocOptions{Images: 6}, 12}, {"beta", storetest.DocOptions{Images: 6}, 7}, {"gamma", storetest.DocOptions{Images: 5, FirstImage: 20}, 9}} {
		doc := storetest.Document(c.name, c.w, c.o)
		if c.o.FirstImage == 0 {
			repo := ""
			for _, w := range doc.Workloads {
				for i := range w.Containers {
					if w.Containers[i].Digest == storetest.Digest(0) {
						repo = w.Containers[i].Repository
					}
				}
			}
			for _, w := range doc.Workloads {
				for i := range w.Containers {
					if w.Containers[i].Digest == storetest.Digest(2) {
						w.Containers[i].Repository = repo
					}
				}
			}
			for _, img := range doc.Images {
				if img.Target.Digest == storetest.Digest(0) {
					img.Packages = append(img.Packages, inventory.Package{Name: "left-pad", Version: "1.0.0", Ecosystem: "npm", Type: "npm",
						PURL: "pkg:npm/left-pad@1.0.0", Locations: []string{"/app/node_modules/left-pad/package.json"}})
				}
			}
		}
		if _, err := st.IngestResult(context.Background(), store.Ingest{Cluster: c.name, Document: doc, At: at}); err != nil {
			t.Fatal(err)
		}
	}
}

// riskState is what must agree between two rankings of one risk.
type riskState struct {
	tier       string
	score      float64
	suppressed bool
	firstSeen  time.Time
}

// allRisks reads every current risk of a cluster, suppressed included.
func allRisks(t *testing.T, st store.Store, cluster string) map[string]riskState {
	t.Helper()
	out := map[string]riskState{}
	q := store.RiskQuery{Cluster: cluster, Suppressed: true, Limit: 1000}
	for {
		p, err := st.Risks(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Risks {
			out[r.ID] = riskState{r.Tier, r.Score, r.Suppressed != nil, r.FirstSeen}
		}
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

// TestPartialRerankEqualsFull runs the same two database updates over
// two stores seeded alike, one ranking each affected cluster whole and
// one ranking only the images whose findings changed (v2 adds an
// advisory for requests and drops lodash's: risks appear and go; v3 one
// for left-pad, of one image whose repository holds another): every
// cluster ends with the same risks (ids, tiers, scores, first sight),
// funnel and remediation actions, and the feed counts the same changes.
func TestPartialRerankEqualsFull(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	v1 := buildDB(t, at, opensslAdvisory, lodashAdvisory)
	v2 := buildDB(t, at.Add(24*time.Hour), opensslAdvisory, requestsAdvisory)
	v3 := buildDB(t, at.Add(48*time.Hour), opensslAdvisory, requestsAdvisory, leftPadAdvisory)
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		full := b.Store
		var partial store.Store
		if b.Name == "sqlite" {
			partial = storetest.SQLite(t).Store
		} else {
			pb, ok := storetest.Postgres(t)
			if !ok {
				t.Skip("no PostgreSQL server")
			}
			partial = pb.Store
		}
		var reps [2][]rematch.Report
		for i, st := range []store.Store{full, partial} {
			seedClusters(t, st, at)
			now := at.Add(time.Hour)
			opts := rematch.Options{Rank: risk.Options{Now: at}, FullRerank: i == 0, Now: func() time.Time { return now }}
			for _, step := range []struct{ old, new *vulndb.DB }{{nil, v1}, {v1, v2}, {v2, v3}} {
				rep, err := rematch.Run(ctx, st, step.old, step.new, opts)
				if err != nil {
					t.Fatal(err)
				}
				reps[i] = append(reps[i], rep)
				now = now.Add(time.Hour)
			}
		}
		for i := range reps[0] {
			f, p := reps[0][i], reps[1][i]
			if !slices.Equal(f.Clusters, p.Clusters) || f.RisksAppeared != p.RisksAppeared || f.RisksDisappeared != p.RisksDisappeared {
				t.Fatalf("run %d: full %+v, partial %+v", i, f, p)
			}
		}
		if last := reps[1][1]; last.RisksAppeared == 0 || last.RisksDisappeared == 0 {
			t.Fatalf("the second update changed no risk both ways: %+v", last)
		}
		if third := reps[1][2]; third.Changed != 1 || third.RisksAppeared == 0 {
			t.Fatalf("the third update (left-pad, image 0 alone): %+v", third)
		}
		for _, c := range []string{"alpha", "beta", "gamma"} {
			fr, pr := allRisks(t, full, c), allRisks(t, partial, c)
			if len(fr) == 0 || len(fr) != len(pr) {
				t.Fatalf("%s: %d risks ranked whole, %d in part", c, len(fr), len(pr))
			}
			for id, want := range fr {
				if got, ok := pr[id]; !ok || got.tier != want.tier || got.score != want.score || got.suppressed != want.suppressed || !got.firstSeen.Equal(want.firstSeen) {
					t.Fatalf("%s: risk %s ranked in part %+v, whole %+v", c, id, got, want)
				}
			}
			ff, err := full.Funnel(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			pf, err := partial.Funnel(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if jsonOf(t, ff) != jsonOf(t, pf) {
				t.Fatalf("%s: funnel in part %s, whole %s", c, jsonOf(t, pf), jsonOf(t, ff))
			}
			fa, err := full.Remediation(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			pa, err := partial.Remediation(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			sameActions(t, c, fa, pa)
			doc, err := partial.LatestDocument(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			sameActions(t, c+" (document)", fa, doc.Remediation)
			whole, err := full.LatestDocument(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Risks) != len(pr) || doc.Database == nil || whole.Database == nil || !doc.Database.BuiltAt.Equal(whole.Database.BuiltAt) {
				t.Fatalf("%s: latest document has %d risks, database %+v", c, len(doc.Risks), doc.Database)
			}
		}
		// Every change, of a finding or a risk, is dated by the run's clock.
		q := store.ChangeQuery{Cause: store.CauseDBUpdate, Limit: 1000}
		findingChanges := 0
		for {
			p, err := partial.Changes(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Changes {
				if h := c.At.Sub(at); h != time.Hour && h != 2*time.Hour && h != 3*time.Hour {
					t.Fatalf("change dated %v, not by the run's clock: %+v", c.At, c)
				}
				if c.RiskID == "" {
					findingChanges++
				}
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if findingChanges == 0 {
			t.Fatal("no finding change in the feed")
		}
		fc, err := full.Clusters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := partial.Clusters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range fc {
			if jsonOf(t, fc[i].Funnel) != jsonOf(t, pc[i].Funnel) {
				t.Fatalf("%s: cluster funnel in part %s, whole %s", fc[i].Name, jsonOf(t, pc[i].Funnel), jsonOf(t, fc[i].Funnel))
			}
		}
	})
}

// sameActions fails unless two remediations name the same actions in
// the same order with the same figures (risk sums to within rounding).
func sameActions(t *testing.T, where string, want, got []result.Action) {
	t.Helper()
	if len(want) == 0 || len(want) != len(got) {
		t.Fatalf("%s: %d actions in part, %d whole", where, len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if math.Abs(w.Risk-g.Risk) > 0.11 {
			t.Fatalf("%s: action %d risk %v, want %v", where, i, g.Risk, w.Risk)
		}
		w.Risk, g.Risk = 0, 0
		if jsonOf(t, w) != jsonOf(t, g) {
			t.Fatalf("%s: action %d\n got %s\nwant %s", where, i, jsonOf(t, g), jsonOf(t, w))
		}
	}
}

// jsonOf is v as JSON text.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
