package k8stest

import (
	"net/http"
	"sort"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// Requests counts the API requests made through a rest.Config it wrapped.
type Requests struct {
	mu sync.Mutex
	// byPath counts GET requests by URL path; starts counts those that
	// begin a list (no continue token).
	byPath, starts map[string]int
}

// Count returns a copy of cfg whose clients report every request to the
// returned Requests.
func Count(cfg *rest.Config) (*rest.Config, *Requests) {
	r := &Requests{byPath: map[string]int{}, starts: map[string]int{}}
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(req *http.Request) (*http.Response, error) {
			r.record(req)
			return rt.RoundTrip(req)
		})
	})
	return out, r
}

func (r *Requests) record(req *http.Request) {
	if req.Method != http.MethodGet {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byPath[req.URL.Path]++
	if req.URL.Query().Get("continue") == "" {
		r.starts[req.URL.Path]++
	}
}

// ListStarts returns, per URL path, how many requests began a list or a
// get (carried no continue token): each pass over a kind counts once,
// whatever its number of pages.
func (r *Requests) ListStarts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.starts))
	for p, n := range r.starts {
		out[p] = n
	}
	return out
}

// Touched returns the sorted URL paths requested that contain any of
// parts (e.g. "/services", "rbac.authorization.k8s.io").
func (r *Requests) Touched(parts ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for p := range r.byPath {
		for _, part := range parts {
			if strings.Contains(p, part) {
				out = append(out, p)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
