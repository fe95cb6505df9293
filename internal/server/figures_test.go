package server

import (
	"bytes"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// TestServerFigures measures the API on a seeded store: the p95 of
// ranked-risk pages with filters and of the other views, and the time of
// one big push. It runs with RUNLENS_SERVER_FIGURES=1 only (minutes of
// seeding); docs/server.md quotes its output.
func TestServerFigures(t *testing.T) {
	if os.Getenv("RUNLENS_SERVER_FIGURES") != "1" {
		t.Skip("set RUNLENS_SERVER_FIGURES=1 to measure")
	}
	eachBackend(t, func(t *testing.T, st store.Store) {
		start := time.Now()
		storetest.Seed(t, st, 5, 2000)
		t.Logf("seeded 5 clusters x 2000 workloads in %s", time.Since(start).Round(time.Millisecond))
		e := newEnv(t, st, Options{})
		doc := storetest.Document("big", 10000, storetest.DocOptions{Images: 1000})
		body := gzipJSON(t, doc)
		start = time.Now()
		code, b := e.read("POST", "/api/v1/clusters/big/results", e.admin, bytes.NewReader(body), "Content-Encoding", "gzip")
		if code != http.StatusOK {
			t.Fatalf("push: %d %s", code, b)
		}
		t.Logf("push of 10000 workloads, %d risks (%d KiB gzip): %s", len(doc.Risks), len(body)>>10, time.Since(start).Round(time.Millisecond))
		if m := regexp.MustCompile(`"push: ingesting".*?"ranked_ms":(\d+)`).FindStringSubmatch(e.logs.String()); m != nil {
			t.Logf("  of which reading and ranking: %s ms", m[1])
		}

		queries := []string{
			"/api/v1/risks?limit=100",
			"/api/v1/risks?limit=100&cluster=c2",
			"/api/v1/risks?limit=100&cluster=big&namespace=ns3&min_tier=scheduled",
			"/api/v1/risks?limit=100&fix=available&owner=internal",
			"/api/v1/risks?limit=100&vulnerability=CVE-2024-1100",
			"/api/v1/risks?limit=100&q=lodash",
			"/api/v1/risks?limit=100&package=openssl&suppressed=true",
			"/api/v1/clusters",
			"/api/v1/funnel?cluster=big",
			"/api/v1/changes?since=30d&limit=100",
			"/api/v1/workloads?cluster=big&limit=100",
			"/api/v1/images?limit=100",
			"/api/v1/packages?name=lodash&ecosystem=npm&limit=100",
			"/api/v1/packages?name=lodash&limit=100",
			"/api/v1/findings?vulnerability=CVE-2024-1100&limit=100",
			"/api/v1/remediation?cluster=big&limit=100",
		}
		var first store.RiskPage
		e.get("/api/v1/risks?limit=1&cluster=big", &first)
		t0 := time.Now()
		e.read("GET", "/api/v1/risks/"+first.Risks[0].ID+"/explain", e.admin, nil)
		t.Logf("explain of a risk of the 10000-workload cluster: %s", time.Since(t0).Round(time.Millisecond))
		t0 = time.Now()
		e.read("GET", "/api/v1/export?cluster=big&format=json", e.admin, nil)
		t.Logf("export json of the 10000-workload cluster: %s", time.Since(t0).Round(time.Millisecond))
		lat := map[string][]time.Duration{}
		for range 10 {
			for _, q := range queries {
				t0 := time.Now()
				if code, b := e.read("GET", q, e.admin, nil); code != http.StatusOK {
					t.Fatalf("%s: %d %s", q, code, b)
				}
				lat[q] = append(lat[q], time.Since(t0))
			}
		}
		var all []time.Duration
		for _, q := range queries {
			l := lat[q]
			all = append(all, l...)
			t.Logf("%-75s p95 %s", q, p95(l))
		}
		t.Logf("all requests: p95 %s", p95(all))
	})
}

func p95(l []time.Duration) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[len(s)*95/100].Round(100 * time.Microsecond)
}
