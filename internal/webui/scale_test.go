package webui

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// pageBudget is the server time a page may take on a big store.
const pageBudget = 300 * time.Millisecond

// Page server times on a store of many risks. The store holds
// RUNLENS_WEBUI_SCALE workloads in two clusters, each workload with 20
// risks (10000 is 200,000 risks); the test is skipped without it, as
// seeding takes a minute. Each page is timed five times after one warm
// request and its median must be within pageBudget.
func TestPageTimesAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RUNLENS_WEBUI_SCALE"))
	if n <= 0 {
		t.Skip("set RUNLENS_WEBUI_SCALE=10000 to measure page times over 200,000 risks")
	}
	ctx := context.Background()
	st := storetest.SQLite(t).Store
	start := time.Now()
	for c, name := range []string{"c0", "c1"} {
		doc := storetest.Document(name, n/2, storetest.DocOptions{FindingsPerImage: 20})
		if _, err := st.IngestResult(ctx, store.Ingest{Cluster: name, Source: "push:test", Cause: store.CauseScan, Document: doc,
			At: storetest.SeedTime.Add(time.Duration(c) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetDBVersion(ctx, store.DBVersion{BuiltAt: storetest.SeedTime.Add(30 * time.Second), Advisories: 1000}); err != nil {
		t.Fatal(err)
	}
	f, err := st.Funnel(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d risk occurrences in %s", f.Occurrences, time.Since(start).Round(time.Millisecond))
	h := New(st, Options{Now: func() time.Time { return storetest.SeedTime.Add(time.Hour) }})

	first, err := st.Risks(ctx, store.RiskQuery{Limit: 1})
	if err != nil || len(first.Risks) == 0 {
		t.Fatalf("no risk: %v", err)
	}
	r := first.Risks[0]
	body := mustGet(t, h, "/risks")
	next := regexp.MustCompile(`<a id="next" href="([^"]+)"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no next page")
	}
	pages := []string{
		"/", "/risks", strings.ReplaceAll(next[1], "&amp;", "&"), "/risks?tier=scheduled", "/risks?cluster=c1&ns=ns3&fix=available",
		"/risks?q=app12", "/risks?owner=external&tier=defer", "/risks?new=db", riskURL(r.ID), workloadURL(r.Cluster, r.Namespace, r.Workload),
		imageURL(r.Image), "/actions", "/changes", "/changes?since=7d",
	}
	slow := 0
	for _, p := range pages {
		cold := time.Now()
		rec := record(h, p, nil)
		coldTime := time.Since(cold)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", p, rec.Code)
		}
		var times []time.Duration
		for range 5 {
			s := time.Now()
			record(h, p, nil)
			times = append(times, time.Since(s))
		}
		slices.Sort(times)
		med := times[len(times)/2]
		t.Logf("%-60s first %7s  median %7s  max %7s  %6d bytes", p, coldTime.Round(100*time.Microsecond),
			med.Round(100*time.Microsecond), times[len(times)-1].Round(100*time.Microsecond), rec.Body.Len())
		if med > pageBudget {
			slow++
			t.Errorf("%s: median %s, over %s", p, med, pageBudget)
		}
	}
}
