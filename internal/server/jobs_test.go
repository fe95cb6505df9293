package server

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

// twoClusters is one scan of two clusters together, as clusterscan
// returns it: unranked, images shared.
func twoClusters() *result.Document {
	a := storetest.Document("east", 4, storetest.DocOptions{})
	b := storetest.Document("west", 6, storetest.DocOptions{})
	byDigest := map[string]*result.Image{}
	var imgs []*result.Image
	for _, d := range []*result.Document{a, b} {
		for _, img := range d.Images {
			if have := byDigest[img.Target.Digest]; have != nil {
				have.RunningIn = append(have.RunningIn, img.RunningIn...)
				continue
			}
			cp := *img
			byDigest[img.Target.Digest] = &cp
			imgs = append(imgs, &cp)
		}
	}
	clusters := []result.Cluster{a.Summary.Clusters[0], b.Summary.Clusters[0]}
	return result.New(a.Header, imgs, append(a.Workloads, b.Workloads...), clusters)
}

func TestServerSplitClusters(t *testing.T) {
	parts := SplitClusters(twoClusters())
	if len(parts) != 2 {
		t.Fatalf("%d parts", len(parts))
	}
	for _, p := range parts {
		c := p.Summary.Clusters[0].Name
		for _, w := range p.Workloads {
			if w.Cluster != c {
				t.Errorf("part %s holds workload %s", c, w.Ref())
			}
		}
		for _, img := range p.Images {
			for _, ref := range img.RunningIn {
				if !strings.HasPrefix(ref, c+"/") {
					t.Errorf("part %s: image %s runs in %s", c, img.Target.Digest, ref)
				}
			}
		}
	}
	if len(parts[0].Workloads) != 4 || len(parts[1].Workloads) != 6 || len(parts[1].Images) != 4 {
		t.Errorf("parts: %d and %d workloads, west %d images", len(parts[0].Workloads), len(parts[1].Workloads), len(parts[1].Images))
	}
}

// The schedule scans the contexts (one job at a time) and ingests each
// cluster's part; an on-demand scan goes through the same queue.
func TestServerScheduledScan(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		var running, overlap, calls atomic.Int32
		release := make(chan struct{})
		scan := func(ctx context.Context, contexts []string) (*result.Document, error) {
			if running.Add(1) > 1 {
				overlap.Add(1)
			}
			defer running.Add(-1)
			if calls.Add(1) == 1 {
				<-release // hold the first scan until the test looked at the queue
			}
			return twoClusters(), nil
		}
		e := newEnv(t, st, Options{Scan: scan, Contexts: []string{"east", "west"}, Interval: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		done := make(chan error, 1)
		go func() { done <- e.srv.Run(ctx, ln) }()
		waitFor(t, "the first scan to start", func() bool { return calls.Load() == 1 })
		code, b := e.read("POST", "/api/v1/clusters/east/scan", e.admin, nil)
		if code != http.StatusAccepted || !strings.Contains(string(b), `"queued":true`) {
			t.Errorf("on-demand scan: %d %s", code, b)
		}
		code, b = e.read("POST", "/api/v1/clusters/north/scan", e.admin, nil)
		wantError(t, "scan of an unknown context", code, b, http.StatusNotFound)
		if d := e.srv.jobs.Depth(); d != 1 {
			t.Errorf("queue depth %d while a scan runs and one waits, want 1", d)
		}
		if !strings.Contains(scrape(t, e), "runlens_queue_depth 1") {
			t.Errorf("the metric does not show the waiting job")
		}
		close(release)
		waitFor(t, "both scans", func() bool { return calls.Load() == 2 && e.srv.jobs.Depth() == 0 && running.Load() == 0 })
		waitFor(t, "the second ingest", func() bool {
			s, _ := st.Scans(context.Background(), "east", 0)
			return len(s) == 2
		})
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if overlap.Load() != 0 {
			t.Errorf("scans overlapped")
		}
		var clusters items[store.ClusterInfo]
		e.get("/api/v1/clusters", &clusters)
		if len(clusters.Items) != 2 || clusters.Items[0].Name != "east" || clusters.Items[1].Workloads != 6 {
			t.Fatalf("clusters after the schedule: %+v", clusters.Items)
		}
		scans, _ := st.Scans(context.Background(), "west", 0)
		if len(scans) != 2 || scans[0].Source != "schedule" {
			t.Errorf("west's scans: %+v", scans)
		}
		if n := len(e.allRisks("cluster=west", 1000)); n == 0 {
			t.Errorf("the scheduled scan ranked no risk of west")
		}
		if !strings.Contains(scrape(t, e), "runlens_scan_duration_seconds_count 2") {
			t.Errorf("runlens_scan_duration_seconds does not count the 2 scans")
		}
	})
}

// scrape reads /metrics with the admin token.
func scrape(t *testing.T, e *env) string {
	t.Helper()
	e.srv.metrics.invalidate()
	code, b := e.read("GET", "/metrics", e.admin, nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	return string(b)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerMetrics(t *testing.T) {
	seeded(t, 10, func(t *testing.T, e *env) {
		text := scrape(t, e)
		// The seed's results were matched against a database built an
		// hour before SeedTime; the server has none of its own.
		if !strings.Contains(text, "runlens_db_age_seconds 7200\n") {
			t.Errorf("runlens_db_age_seconds is not the seed's database age (2h)")
		}
		for _, want := range []string{`runlens_risks{cluster="c0",`, `runlens_findings{cluster="c1",severity="CRITICAL"}`,
			"runlens_queue_depth 0", "runlens_store_size_bytes ", "runlens_db_age_seconds ",
			"runlens_scan_duration_seconds_count 0", "runlens_rematch_duration_seconds_count 0"} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		if code, _ := e.read("GET", "/metrics", "", nil); code != http.StatusUnauthorized {
			t.Errorf("/metrics without a token: %d", code)
		}
		e.push("c0", e.admin, storetest.Document("c0", 3, storetest.DocOptions{}))
		scrape(t, e) // the push made the gauges stale: this scrape reads the store again
		mfs, err := e.srv.metrics.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, mf := range mfs {
			names[mf.GetName()] = true
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					switch l.GetName() {
					case "vulnerability", "cve", "image", "digest", "package":
						t.Errorf("%s has a per-%s label", mf.GetName(), l.GetName())
					}
				}
			}
		}
		for _, n := range []string{"runlens_risks", "runlens_findings", "runlens_scan_duration_seconds", "runlens_rematch_duration_seconds",
			"runlens_queue_depth", "runlens_db_age_seconds", "runlens_store_size_bytes", "runlens_ingest_total"} {
			if !names[n] {
				t.Errorf("no metric %s", n)
			}
		}
		// The risk gauges sum to the store's unsuppressed count.
		counts, _ := e.st.TierCounts(context.Background())
		want := 0
		for _, byTier := range counts {
			for _, n := range byTier {
				want += n
			}
		}
		var sum float64
		for _, mf := range mfs {
			if mf.GetName() == "runlens_risks" {
				for _, m := range mf.GetMetric() {
					sum += m.GetGauge().GetValue()
				}
			}
		}
		if int(sum) != want || want == 0 {
			t.Errorf("runlens_risks sums to %v, the store counts %d", sum, want)
		}
	})
}

// buildDB imports the sample advisories into dir, built at the given time.
func buildDB(t *testing.T, dir string, at time.Time) {
	t.Helper()
	im := &vulndb.Importer{Now: func() time.Time { return at }}
	if _, err := im.Import(context.Background(), dir, vulndb.OSVDir("../../testdata/sample/advisories/osv")); err != nil {
		t.Fatal(err)
	}
}

// The watcher re-matches when the database directory holds a build the
// store's findings were not matched against, and only then.
func TestServerDBWatcher(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		dir := t.TempDir()
		var mu sync.Mutex
		var calls []string
		rematch := func(ctx context.Context, _ store.Store, old, new *vulndb.DB) error {
			mu.Lock()
			defer mu.Unlock()
			was := "none"
			if old != nil {
				was = old.Metadata().BuiltAt.Format(time.RFC3339)
			}
			calls = append(calls, was+" -> "+new.Metadata().BuiltAt.Format(time.RFC3339))
			return nil
		}
		e := newEnv(t, st, Options{DBDir: dir, Rematch: rematch})
		ctx := context.Background()
		if err := e.srv.checkDB(ctx); err != nil || len(calls) != 0 {
			t.Fatalf("no database yet: %v, %d re-matches", err, len(calls))
		}
		first := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		buildDB(t, dir, first)
		if err := e.srv.checkDB(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.checkDB(ctx); err != nil { // unchanged: nothing to do
			t.Fatal(err)
		}
		v, _ := st.DBVersion(ctx)
		if len(calls) != 1 || calls[0] != "none -> 2026-05-01T00:00:00Z" || !v.BuiltAt.Equal(first) {
			t.Fatalf("after the first build: re-matches %q, stored version %v", calls, v.BuiltAt)
		}
		second := first.Add(24 * time.Hour)
		buildDB(t, dir, second)
		code, b := e.read("POST", "/api/v1/db/reload", e.admin, nil)
		if code != http.StatusAccepted {
			t.Fatalf("reload: %d %s", code, b)
		}
		if err := e.srv.checkDB(ctx); err != nil {
			t.Fatal(err)
		}
		if len(calls) != 2 || calls[1] != "2026-05-01T00:00:00Z -> 2026-05-02T00:00:00Z" {
			t.Errorf("after the second build: %q", calls)
		}
		var db dbInfo
		e.get("/api/v1/db", &db)
		if !db.Stored.BuiltAt.Equal(second) || db.Loaded == nil || !db.Loaded.BuiltAt.Equal(second) {
			t.Errorf("/api/v1/db: %+v", db)
		}
		if !strings.Contains(scrape(t, e), "runlens_rematch_duration_seconds_count 2") {
			t.Errorf("runlens_rematch_duration_seconds does not count 2 re-matches")
		}
		// A server restarted over the same store and database does not
		// re-match again.
		e2 := newEnv(t, st, Options{DBDir: dir, Rematch: rematch})
		if err := e2.srv.checkDB(ctx); err != nil || len(calls) != 2 {
			t.Errorf("restart: %v, %d re-matches", err, len(calls))
		}
		e2.srv.closeDB()
		e.srv.closeDB()
		_ = os.Remove(filepath.Join(dir, vulndb.FileName))
	})
}

// Run stops on ctx: the running job finishes within the grace period,
// in-flight requests are answered, new connections are refused.
func TestServerGracefulShutdown(t *testing.T) {
	st := storetest.SQLite(t).Store
	e := newEnv(t, st, Options{Grace: 5 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx, ln) }()
	started, finished := make(chan struct{}), atomic.Bool{}
	e.srv.jobs.add("slow", func(ctx context.Context) error {
		close(started)
		select {
		case <-time.After(300 * time.Millisecond):
			finished.Store(true)
		case <-ctx.Done():
		}
		return nil
	})
	<-started
	url := "http://" + ln.Addr().String()
	if resp, err := http.Get(url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if !finished.Load() {
		t.Errorf("the running job was cut short within the grace period")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Errorf("the server still answers after Run returned")
	}

	// A job longer than the grace period is abandoned (its context ends).
	e = newEnv(t, st, Options{Grace: 100 * time.Millisecond})
	ln, _ = net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- e.srv.Run(ctx, ln) }()
	cut := make(chan struct{})
	started = make(chan struct{})
	e.srv.jobs.add("stuck", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		close(cut)
		return ctx.Err()
	})
	<-started
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the grace period")
	}
	select {
	case <-cut:
	case <-time.After(time.Second):
		t.Errorf("the stuck job's context never ended")
	}
}
