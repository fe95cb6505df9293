package rematch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/rematch"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// Advisories of the test databases, in OSV form: OpenSSL in Debian 12
// and lodash in v1; v2 adds one for PyPI's requests.
const (
	opensslAdvisory = `{"schema_version":"1.6.0","id":"DSA-9001-1","modified":"2026-05-01T00:00:00Z","published":"2026-05-01T00:00:00Z",
		"aliases":["CVE-2026-1001"],"summary":"openssl: buffer over-read",
		"affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.15-1~deb12u1"}]}]}]}`
	lodashAdvisory = `{"schema_version":"1.6.0","id":"GHSA-35jh-r3h4-6jhm","modified":"2026-05-01T00:00:00Z","published":"2021-02-15T00:00:00Z",
		"aliases":["CVE-2021-23337"],"summary":"Command Injection in lodash",
		"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}],
		"database_specific":{"severity":"HIGH"}}`
	requestsAdvisory = `{"schema_version":"1.6.0","id":"GHSA-9wx4-h78v-vm56","modified":"2026-06-01T00:00:00Z","published":"2024-05-20T00:00:00Z",
		"aliases":["CVE-2024-35195"],"summary":"Requests Session object does not verify requests after making first request with verify=False",
		"affected":[{"package":{"ecosystem":"PyPI","name":"Requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.32.0"}]}]}],
		"database_specific":{"severity":"MEDIUM"}}`
)

// buildDB imports the given advisories into a new database.
func buildDB(t *testing.T, builtAt time.Time, advisories ...string) *vulndb.DB {
	t.Helper()
	src := t.TempDir()
	for i, a := range advisories {
		if err := os.WriteFile(filepath.Join(src, "a"+string(rune('0'+i))+".json"), []byte(a), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	im := &vulndb.Importer{Now: func() time.Time { return builtAt }}
	if _, err := im.Import(context.Background(), dir, vulndb.OSVDir(src)); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRunRematchesOnlyWhatChanged stores two clusters' results, matches
// them against DB v1, then moves to v2, which adds one advisory for
// PyPI's requests: exactly the images holding requests gain the
// finding, the feed lists them and their risks, the cluster running
// none of them is not ranked again, and no registry is asked anything.
func TestRunRematchesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	var requests atomic.Int64
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no pulls in a re-match", http.StatusTeapot)
	}))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")

	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store
		at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			name         string
			workloads, n int
		}{{"mixed", 10, 5}, {"even", 3, 1}} {
			doc := storetest.Document(c.name, c.workloads, storetest.DocOptions{Images: c.n})
			for _, img := range doc.Images {
				img.Target.Reference = host + "/" + strings.SplitN(img.Target.Reference, "/", 2)[1]
			}
			if _, err := st.IngestResult(ctx, store.Ingest{Cluster: c.name, Document: doc, At: at}); err != nil {
				t.Fatal(err)
			}
		}
		v1 := buildDB(t, at, opensslAdvisory, lodashAdvisory)
		v2 := buildDB(t, at.Add(24*time.Hour), opensslAdvisory, lodashAdvisory, requestsAdvisory)
		now := time.Now().UTC()
		clock := func() time.Time { return now }

		rep, err := rematch.Run(ctx, st, nil, v1, rematch.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Inventories != 5 || rep.Changed != 5 || !slices.Equal(rep.Clusters, []string{"even", "mixed"}) {
			t.Fatalf("first run %+v", rep)
		}
		before := snapshot(t, st)
		for d, fs := range before.findings {
			want := []string{"CVE-2026-1001"} // every image has OpenSSL
			if isEven(d) {
				want = []string{"CVE-2021-23337", "CVE-2026-1001"}
			}
			if got := findingIDs(fs); !slices.Equal(got, want) {
				t.Fatalf("image %s matched against v1: %v, want %v", d[:15], got, want)
			}
		}
		if v, _ := st.DBVersion(ctx); !v.BuiltAt.Equal(at) {
			t.Fatalf("db version %+v", v)
		}
		feedStart := latestSeq(t, st)

		time.Sleep(time.Millisecond)
		now = time.Now().UTC()
		rep, err = rematch.Run(ctx, st, v1, v2, rematch.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		odd := 0
		for d := range before.findings {
			if !isEven(d) {
				odd++
			}
		}
		if rep.Keys != 1 || rep.Inventories != odd || rep.Changed != odd || rep.FindingsAppeared != odd || rep.FindingsDisappeared != 0 ||
			!slices.Equal(rep.Clusters, []string{"mixed"}) || rep.RisksAppeared == 0 || rep.RisksDisappeared != 0 {
			t.Fatalf("report %+v (%d odd images)", rep, odd)
		}
		after := snapshot(t, st)
		for d, fs := range after.findings {
			want := findingIDs(before.findings[d])
			if !isEven(d) {
				want = append(want, "CVE-2024-35195")
				slices.Sort(want)
			}
			if got := findingIDs(fs); !slices.Equal(got, want) {
				t.Fatalf("image %s after v2: %v, want %v", d[:15], got, want)
			}
		}
		// Every risk kept is unchanged in its first sight; the new ones
		// are on odd images and first seen now.
		for id, r := range after.risks {
			if old, ok := before.risks[id]; ok {
				if !r.FirstSeen.Equal(old.FirstSeen) {
					t.Fatalf("risk %s first seen moved", id)
				}
				continue
			}
			if r.Vulnerability != "CVE-2024-35195" || isEven(r.Image) || r.Cluster != "mixed" || !r.FirstSeen.Equal(now) {
				t.Fatalf("new risk %+v", r.Risk)
			}
		}
		for id := range before.risks {
			if _, ok := after.risks[id]; !ok {
				t.Fatalf("risk %s disappeared", id)
			}
		}
		page, err := st.Changes(ctx, store.ChangeQuery{Since: now.Add(-time.Nanosecond), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var findingsFed, risksFed int
		for _, c := range page.Changes {
			if c.Seq <= feedStart {
				t.Fatalf("feed since the update lists an older change %+v", c)
			}
			if c.Kind != store.ChangeAppeared || c.Cause != store.CauseDBUpdate || c.Vulnerability != "CVE-2024-35195" || isEven(c.Image) {
				t.Fatalf("change %+v", c)
			}
			if c.RiskID == "" {
				findingsFed++
			} else {
				risksFed++
			}
		}
		if findingsFed != odd || risksFed != rep.RisksAppeared {
			t.Fatalf("feed: %d finding and %d risk changes, want %d and %d", findingsFed, risksFed, odd, rep.RisksAppeared)
		}
		if v, _ := st.DBVersion(ctx); !v.BuiltAt.Equal(at.Add(24 * time.Hour)) {
			t.Fatalf("db version after v2 %+v", v)
		}
		// The same database again changes nothing.
		rep, err = rematch.Run(ctx, st, v2, v2, rematch.Options{Now: clock})
		if err != nil || rep.Keys != 0 || rep.Changed != 0 || len(rep.Clusters) != 0 {
			t.Fatalf("no-op run %+v, %v", rep, err)
		}
	})
	if n := requests.Load(); n != 0 {
		t.Fatalf("the registry got %d requests during re-matching", n)
	}
}

type state struct {
	findings map[string][]match.Finding
	risks    map[string]store.RiskRow
}

func snapshot(t *testing.T, st store.Store) state {
	t.Helper()
	ctx := context.Background()
	s := state{findings: map[string][]match.Finding{}, risks: map[string]store.RiskRow{}}
	imgs, err := st.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imgs {
		fs, err := st.Findings(ctx, im.Digest)
		if err != nil {
			t.Fatal(err)
		}
		s.findings[im.Digest] = fs
	}
	q := store.RiskQuery{Suppressed: true, Limit: 1000}
	for {
		page, err := st.Risks(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Risks {
			s.risks[r.ID] = r
		}
		if page.Next == "" {
			return s
		}
		q.Cursor = page.Next
	}
}

func latestSeq(t *testing.T, st store.Store) int64 {
	page, err := st.Changes(context.Background(), store.ChangeQuery{Limit: 1})
	if err != nil || len(page.Changes) == 0 {
		t.Fatalf("feed %+v, %v", page, err)
	}
	return page.Changes[0].Seq
}

func findingIDs(fs []match.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

// isEven says whether digest is one of the even test images (lodash,
// not requests).
func isEven(digest string) bool {
	for i := 0; i < 10; i += 2 {
		if storetest.Digest(i) == digest {
			return true
		}
	}
	return false
}
