package scan_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/testing/testimage"
)

// noAdvisories is an empty advisory store: these tests are about what
// reaches the report, not about matching.
type noAdvisories struct{}

func (noAdvisories) Lookup(context.Context, string, string) ([]*osv.Vulnerability, error) {
	return nil, nil
}

func regScanner(t *testing.T) *scan.Scanner {
	return &scan.Scanner{Advisories: noAdvisories{}, TempDir: t.TempDir()}
}

func regOptions(t *testing.T) registry.Options {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	return registry.Options{Insecure: true, Transport: registry.NewTransport(nil, registry.RetryOptions{BaseDelay: time.Millisecond, MaxWait: 20 * time.Millisecond})}
}

// scanRegistry runs a registry scan and returns its results by reference.
func scanRegistry(ctx context.Context, t *testing.T, req scan.RegistryRequest) (map[string]*result.Image, []string, error) {
	t.Helper()
	got := map[string]*result.Image{}
	var order []string
	_, err := regScanner(t).ScanRegistry(ctx, req, func(r *result.Image) {
		got[r.Target.Reference] = r
		order = append(order, r.Target.Reference)
	})
	return got, order, err
}

// fakeRegistry answers the catalog with repos (nil: 404) and every tags
// list with tags after delay, counting the tag listings in flight.
type fakeRegistry struct {
	repos     func(page int, last string) ([]string, bool)
	tags      []string
	delay     time.Duration
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	host      string
}

func newFakeRegistry(t *testing.T, f *fakeRegistry) *fakeRegistry {
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case r.URL.Path == "/v2/_catalog":
			repos, more := f.repos(int(pages.Add(1)), r.URL.Query().Get("last"))
			if repos == nil {
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"no catalog for you"}]}`, http.StatusUnauthorized)
				return
			}
			if more {
				w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?n=%d&last=%s>; rel="next"`, len(repos), repos[len(repos)-1]))
			}
			json.NewEncoder(w).Encode(map[string]any{"repositories": repos})
		case strings.HasSuffix(r.URL.Path, "/tags/list"):
			n := f.inFlight.Add(1)
			defer f.inFlight.Add(-1)
			for m := f.maxFlight.Load(); n > m && !f.maxFlight.CompareAndSwap(m, n); m = f.maxFlight.Load() {
			}
			time.Sleep(f.delay)
			json.NewEncoder(w).Encode(map[string]any{"name": "x", "tags": f.tags})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

func fixedRepos(n int) func(int, string) ([]string, bool) {
	return func(int, string) ([]string, bool) {
		repos := make([]string, n)
		for i := range repos {
			repos[i] = fmt.Sprintf("team/app%03d", i)
		}
		return repos, false
	}
}

// Tags are listed for several repositories at once: against a registry
// answering each tags list in 100ms, 24 repositories take about three
// round trips, not 24.
func TestScanRegistryListsTagsConcurrently(t *testing.T) {
	const repos, delay = 24, 100 * time.Millisecond
	run := func(listConcurrency int) (time.Duration, int32) {
		f := newFakeRegistry(t, &fakeRegistry{repos: fixedRepos(repos), delay: delay})
		start := time.Now()
		got, _, err := scanRegistry(context.Background(), t, scan.RegistryRequest{Target: f.host, Options: regOptions(t), ListConcurrency: listConcurrency})
		if err != nil || len(got) != 0 {
			t.Fatalf("err %v, results %v; want no error and nothing to scan", err, got)
		}
		return time.Since(start), f.maxFlight.Load()
	}
	concurrent, flight := run(0)
	if flight < 4 || flight > 8 {
		t.Errorf("%d tag listings in flight at most; want between 4 and the default limit of 8", flight)
	}
	if concurrent > repos*delay/3 {
		t.Errorf("listing %d repositories took %v; one at a time takes %v", repos, concurrent, repos*delay)
	}
	sequential, flight := run(1)
	if flight != 1 {
		t.Errorf("ListConcurrency 1: %d listings in flight", flight)
	}
	t.Logf("tags of %d repositories at %v each: %v one at a time, %v with the default concurrency (%.1fx)",
		repos, delay, sequential.Round(time.Millisecond), concurrent.Round(time.Millisecond), float64(sequential)/float64(concurrent))
}

// A catalog that cannot be read is a failed result, not a missing report;
// one cut short (a cap, a later page failing) is a partial one, and what it
// listed is still scanned.
func TestScanRegistryCatalogProblemsAreResults(t *testing.T) {
	ctx := context.Background()
	t.Run("unreadable", func(t *testing.T) {
		f := newFakeRegistry(t, &fakeRegistry{repos: func(int, string) ([]string, bool) { return nil, false }})
		got, order, err := scanRegistry(ctx, t, scan.RegistryRequest{Target: f.host, Options: regOptions(t)})
		r := got[f.host]
		if err != nil || len(order) != 1 || r == nil || r.Status != result.StatusFailed || !strings.Contains(r.Error, "no catalog for you") {
			t.Fatalf("err %v, results %v, registry result %+v; want one failed result saying why", err, order, r)
		}
	})
	t.Run("endless", func(t *testing.T) {
		var pages atomic.Int32
		f := newFakeRegistry(t, &fakeRegistry{repos: func(p int, _ string) ([]string, bool) {
			pages.Add(1)
			return []string{fmt.Sprintf("r%d-a", p), fmt.Sprintf("r%d-b", p)}, true
		}})
		o := regOptions(t)
		o.MaxRepositories = 31
		got, order, err := scanRegistry(ctx, t, scan.RegistryRequest{Target: f.host, Options: o})
		r := got[f.host]
		if err != nil || len(order) != 1 || r == nil || r.Status != result.StatusPartial || !strings.Contains(r.Error, "31 repositories") {
			t.Fatalf("err %v, results %v, registry result %+v; want one partial result naming the cap", err, order, r)
		}
		if p := pages.Load(); p != 16 {
			t.Errorf("%d catalog pages read, want 16", p)
		}
	})
	t.Run("tag cap", func(t *testing.T) {
		f := newFakeRegistry(t, &fakeRegistry{repos: fixedRepos(5), tags: []string{"-bad1", "-bad2"}})
		o := regOptions(t)
		o.MaxTags = 5
		got, _, err := scanRegistry(ctx, t, scan.RegistryRequest{Target: f.host, Options: o, ListConcurrency: 1})
		r := got[f.host]
		if err != nil || r == nil || r.Status != result.StatusPartial || !strings.Contains(r.Error, "cap of 5 tags: 1 repositories listed in part, 2 not listed") {
			t.Fatalf("err %v, registry result %+v; want a partial result naming the tag cap", err, r)
		}
		var tags int
		for ref, r := range got {
			if ref != f.host {
				tags++
				if r.Status != result.StatusFailed || !strings.Contains(r.Error, "resolving tag") {
					t.Errorf("%s: %s %s; the fake tags do not resolve", ref, r.Status, r.Error)
				}
			}
		}
		if tags != 5 {
			t.Errorf("%d tags reached the resolver, want the 5 the cap allows", tags)
		}
	})
	t.Run("later page fails", func(t *testing.T) {
		reg := registrytest.New(t, registrytest.Config{PaginateCatalog: true})
		for _, repo := range []string{"a", "b", "c"} {
			reg.Push(t, repo+":1", testimage.Image(t, "linux/amd64", map[string]string{repo: repo}))
		}
		reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/v2/_catalog" && r.URL.Query().Get("last") != "" {
				http.Error(w, "gone", http.StatusForbidden)
				return true
			}
			return false
		})
		o := regOptions(t)
		o.PageSize = 2
		got, order, err := scanRegistry(ctx, t, scan.RegistryRequest{Target: reg.Host, Options: o})
		r := got[reg.Host]
		if err != nil || r == nil || r.Status != result.StatusPartial || !strings.Contains(r.Error, "403") {
			t.Fatalf("err %v, registry result %+v; want a partial result", err, r)
		}
		var scanned []string
		for _, r := range got {
			if r.Status == result.StatusScanned {
				scanned = append(scanned, strings.Join(r.Tags, ","))
			}
		}
		sort.Strings(scanned)
		if want := reg.Ref("a:1") + "," + reg.Ref("b:1"); strings.Join(scanned, ",") != want {
			t.Errorf("scanned %v (all results %v); want the first page's repositories", scanned, order)
		}
	})
	t.Run("invalid target", func(t *testing.T) {
		_, _, err := scanRegistry(ctx, t, scan.RegistryRequest{Target: "u:s3cr3t-t0ken@Not A Registry", Options: regOptions(t)})
		if !errors.Is(err, scan.ErrInvalidTarget) || strings.Contains(err.Error(), "s3cr3t-t0ken") {
			t.Errorf("err = %v; want ErrInvalidTarget without the token", err)
		}
	})
}

// trickle answers with a byte every 50ms until the client goes away.
func trickle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	w.WriteHeader(http.StatusOK)
	for {
		if _, err := w.Write([]byte(" ")); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// A repository that trickles (never idle, never done) next to two fast ones:
// when the deadline ends the scan, the fast images are reported scanned and
// the slow one failed with the reason, at once. The trickle is either in
// the slow tag's manifest (resolving) or in its layer (scanning).
func TestScanRegistryDeadlineKeepsFinishedResults(t *testing.T) {
	for _, where := range []string{"manifests", "blobs"} {
		t.Run(where, func(t *testing.T) {
			reg := registrytest.New(t, registrytest.Config{})
			for _, repo := range []string{"fast/a", "fast/b", "slow/c"} {
				reg.Push(t, repo+":1", testimage.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\n", repo: repo}))
			}
			var mu sync.Mutex
			var blobGets int
			reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, "/v2/slow/c/"+where+"/") || r.Method != http.MethodGet {
					return false
				}
				if where == "blobs" {
					mu.Lock()
					blobGets++
					first := blobGets == 1 // the config; trickle the layer
					mu.Unlock()
					if first {
						return false
					}
				}
				trickle(w, r)
				return true
			})
			const limit = 1500 * time.Millisecond
			ctx, cancel := context.WithTimeoutCause(context.Background(), limit, &scan.TimeoutError{Timeout: limit})
			defer cancel()
			start := time.Now()
			got, _, err := scanRegistry(ctx, t, scan.RegistryRequest{Target: reg.Host, Options: regOptions(t)})
			took := time.Since(start)
			if !errors.Is(err, scan.ErrInterrupted) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want the interruption", err)
			}
			if took > limit+time.Second {
				t.Errorf("results came %v after the deadline", took-limit)
			}
			status := map[string]string{}
			for _, r := range got {
				status[strings.Join(r.Tags, ",")] = r.Status + ": " + r.Error
			}
			want := map[string]string{
				reg.Ref("fast/a:1"): "scanned: ",
				reg.Ref("fast/b:1"): "scanned: ",
			}
			slow := "failed: resolving tag: scan interrupted: deadline exceeded (the scan's time limit of 1.5s ran out)"
			if where == "blobs" {
				slow = "failed: scan interrupted: deadline exceeded (the scan's time limit of 1.5s ran out)"
			}
			want[reg.Ref("slow/c:1")] = slow
			if fmt.Sprint(status) != fmt.Sprint(want) {
				t.Errorf("results:\n%v\nwant:\n%v", status, want)
			}
		})
	}
}

// A signal cause reads as such.
func TestInterruptedReasons(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	if scan.Interrupted(ctx) != nil {
		t.Error("a live context is not interrupted")
	}
	cancel(&scan.SignalError{Signal: fakeSignal("terminated")})
	if got := scan.Interrupted(ctx); got == nil || got.Error() != "scan interrupted by signal terminated" || !errors.Is(got, scan.ErrInterrupted) {
		t.Errorf("Interrupted = %v", got)
	}
	ctx, stop := context.WithTimeout(context.Background(), 0)
	defer stop()
	if got := scan.Interrupted(ctx); got == nil || got.Error() != "scan interrupted: deadline exceeded" {
		t.Errorf("Interrupted = %v", got)
	}
}

type fakeSignal string

func (s fakeSignal) String() string { return string(s) }
func (fakeSignal) Signal()          {}
