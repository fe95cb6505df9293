package discover

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/workload"
)

// fakeAPIServer serves empty lists (and one pod) as JSON; misbehave
// decides, per request, an error status to answer instead.
func fakeAPIServer(t *testing.T, misbehave func(r *http.Request) (status int, retryAfter string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, ra := misbehave(r); code != 0 {
			if ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "message": "busy"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		kind := "List"
		var items []any
		if strings.HasSuffix(r.URL.Path, "/pods") {
			kind = "PodList"
			items = append(items, map[string]any{
				"metadata": map[string]any{"name": "p", "namespace": "n", "uid": "u1"},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "a", "image": "r/a:v1"}}},
				"status": map[string]any{"phase": "Running", "containerStatuses": []any{
					map[string]any{"name": "a", "imageID": "r/a@sha256:" + hexA}}},
			})
		}
		json.NewEncoder(w).Encode(map[string]any{"kind": kind, "apiVersion": "v1", "metadata": map[string]any{}, "items": items})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDiscoverThrottled: 429 with Retry-After is retried by client-go and
// discovery completes; a 503 on an optional kind is a Problem; a 503 on
// pods fails this cluster only.
func TestDiscoverThrottled(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := fakeAPIServer(t, func(r *http.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		seen[r.URL.Path]++
		switch {
		case strings.HasSuffix(r.URL.Path, "/pods") && seen[r.URL.Path] <= 2:
			return http.StatusTooManyRequests, "1"
		case strings.HasSuffix(r.URL.Path, "/jobs"):
			return http.StatusServiceUnavailable, ""
		}
		return 0, ""
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	d, err := Cluster(ctx, k8s.NewClusterClient("throttled", &rest.Config{Host: srv.URL}), Options{NoRegistry: true})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el < 2*time.Second {
		t.Errorf("finished in %s: Retry-After was not honoured", el)
	}
	if d.Funnel != (workload.Funnel{Pods: 1, Containers: 1, Digests: 1}) {
		t.Errorf("funnel = %+v", d.Funnel)
	}
	if len(d.Problems) != 1 || d.Problems[0].Kind != "jobs" {
		t.Errorf("problems = %+v", d.Problems)
	}

	down := fakeAPIServer(t, func(r *http.Request) (int, string) {
		if strings.HasSuffix(r.URL.Path, "/pods") {
			return http.StatusServiceUnavailable, ""
		}
		return 0, ""
	})
	ds, err := All(ctx, []k8s.ClusterClient{
		k8s.NewClusterClient("down", &rest.Config{Host: down.URL}),
		k8s.NewClusterClient("ok", &rest.Config{Host: fakeAPIServer(t, func(*http.Request) (int, string) { return 0, "" }).URL}),
	}, Options{NoRegistry: true}, 0)
	if !errors.Is(err, ErrPodsUnavailable) || ds[0].Problems[0].Kind != ProblemPods {
		t.Errorf("err = %v", err)
	}
	if len(ds[0].Problems) != 1 || ds[1].Funnel.Pods != 1 || len(ds[1].Problems) != 0 {
		t.Errorf("down: %+v\nok: %+v", ds[0].Problems, ds[1])
	}
}
