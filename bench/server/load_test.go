package serverbench

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
)

// client sends authenticated requests to the server child and times them
// from the request to the last byte of the body.
type client struct {
	base, token string
	http        *http.Client
}

// get fetches path and returns its body and time; any status but 200
// fails the test.
func (c *client) get(t testing.TB, path string) ([]byte, time.Duration) {
	t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v: %.300s", path, resp.StatusCode, err, body)
	}
	return body, took
}

// p95 is the 95th percentile (nearest rank) of ds.
func p95(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*95+99)/100-1]
}

// filterKinds are the ranked list's filters the mix rotates through.
var filterKinds = []string{"cluster", "namespace", "tier", "min_tier", "owner", "fix", "q", "new_since"}

// filterValue picks a value of filter kind k.
func filterValue(rng *rand.Rand, sc scale, k string) (string, string) {
	switch k {
	case "cluster":
		return k, clusterName(rng.IntN(sc.clusters))
	case "namespace":
		return k, fmt.Sprintf("ns%d", rng.IntN(5))
	case "tier", "min_tier":
		return k, result.Tiers[rng.IntN(len(result.Tiers))]
	case "owner":
		return k, []string{"internal", "external"}[rng.IntN(2)]
	case "fix":
		return k, []string{"available", "none"}[rng.IntN(2)]
	case "q":
		switch rng.IntN(3) {
		case 0:
			return k, sourceName(rng.IntN(vulnSources))
		case 1:
			return k, fmt.Sprintf("CVE-2025-%d", 10000+rng.IntN(vulnSources))
		default:
			return k, fmt.Sprintf("app%d", rng.IntN(sc.workloads))
		}
	default: // new_since: after part of the seeded clusters arrived
		return k, ingestAt(rng.IntN(sc.clusters)).Format(time.RFC3339)
	}
}

// apiMix sends n ranked-list requests (a page of 100): each leads with
// one filter kind in turn and adds up to two others; every fourth then
// fetches the next page through its cursor. It checks that every page
// holds at most 100 risks of the cluster asked for, and returns the
// times and the risks seen (for the UI pages).
func apiMix(t testing.TB, c *client, sc scale, n int) ([]time.Duration, []store.RiskRow) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var times []time.Duration
	var slow []timed
	defer func() { logSlowest(t, slow, 5) }()
	var seen []store.RiskRow
	for i := 0; len(times) < n; i++ {
		v := url.Values{"limit": {"100"}}
		kinds := []string{filterKinds[i%len(filterKinds)]}
		for range rng.IntN(3) {
			kinds = append(kinds, filterKinds[rng.IntN(len(filterKinds))])
		}
		for _, k := range kinds {
			key, val := filterValue(rng, sc, k)
			v.Set(key, val)
		}
		if v.Has("namespace") && !v.Has("cluster") {
			v.Set("cluster", clusterName(rng.IntN(sc.clusters)))
		}
		path := "/api/v1/risks?" + v.Encode()
		for page := 0; page < 1+btoi(i%4 == 3); page++ {
			body, took := c.get(t, path)
			times = append(times, took)
			slow = append(slow, timed{took, path})
			var p store.RiskPage
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if len(p.Risks) > 100 {
				t.Fatalf("%s: %d risks on a page of 100", path, len(p.Risks))
			}
			for _, r := range p.Risks {
				if cl := v.Get("cluster"); cl != "" && r.Cluster != cl {
					t.Fatalf("%s: a risk of cluster %s", path, r.Cluster)
				}
			}
			if len(seen) < 500 && len(p.Risks) > 0 {
				seen = append(seen, p.Risks[len(seen)%len(p.Risks)])
			}
			if p.Next == "" {
				break
			}
			v.Set("cursor", p.Next)
			path = "/api/v1/risks?" + v.Encode()
		}
	}
	return times, seen
}

// timed is one request's time.
type timed struct {
	d    time.Duration
	path string
}

// logSlowest logs the n slowest requests, for the README's "what the
// figures say".
func logSlowest(t testing.TB, ts []timed, n int) {
	slices.SortFunc(ts, func(a, b timed) int { return int(b.d - a.d) })
	for _, x := range ts[:min(n, len(ts))] {
		u, _ := url.QueryUnescape(x.path)
		t.Logf("slow: %v %s", x.d.Round(time.Millisecond), u)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// uiPages are the pages timed, in the table's order.
var uiPages = []string{"/", "/risks (filtered)", "/risks/{id}", "/workloads/…", "/images/…", "/actions", "/changes"}

// uiMix fetches each UI page n times (the filtered list with a filter mix
// like the API's, the detail pages of risks the API returned) and
// returns the times by page.
func uiMix(t testing.TB, c *client, sc scale, seen []store.RiskRow, n int) map[string][]time.Duration {
	t.Helper()
	if len(seen) == 0 {
		t.Fatal("the API returned no risk to open")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	uiKeys := map[string]string{"cluster": "cluster", "namespace": "ns", "tier": "tier", "owner": "owner", "fix": "fix", "q": "q"}
	out := map[string][]time.Duration{}
	for i := range n {
		r := seen[rng.IntN(len(seen))]
		kind, name, _ := strings.Cut(r.Workload, "/")
		v := url.Values{}
		for _, k := range []string{filterKinds[i%len(filterKinds)], filterKinds[rng.IntN(len(filterKinds))]} {
			if uk, ok := uiKeys[k]; ok {
				_, val := filterValue(rng, sc, k)
				v.Set(uk, val)
			}
		}
		switch i % 5 {
		case 2:
			v.Set("new", "db")
		case 4:
			v.Set("new", "24h")
		}
		paths := map[string]string{
			"/":                 "/",
			"/risks (filtered)": "/risks?" + v.Encode(),
			"/risks/{id}":       "/risks/" + url.PathEscape(r.ID),
			"/workloads/…":      webuiWorkloadPath(r.Cluster, r.Namespace, kind, name),
			"/images/…":         "/images/" + url.PathEscape(r.Image),
			"/actions":          "/actions",
			"/changes":          "/changes",
		}
		for _, p := range uiPages {
			body, took := c.get(t, paths[p])
			if !strings.Contains(string(body), "</html>") {
				t.Fatalf("GET %s: not a whole page: %.200s", paths[p], body)
			}
			out[p] = append(out[p], took)
		}
	}
	return out
}

// webuiWorkloadPath is the UI's address of a workload.
func webuiWorkloadPath(cluster, ns, kind, name string) string {
	return "/workloads/" + url.PathEscape(cluster) + "/" + url.PathEscape(ns) + "/" + url.PathEscape(kind) + "/" + url.PathEscape(name)
}
