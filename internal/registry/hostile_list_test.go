package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/registry"
)

// endlessCatalog serves a catalog that never ends: every page holds n new
// names and a Link to the next one.
func endlessCatalog(t *testing.T) (host string, pages *atomic.Int64) {
	pages = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
			w.WriteHeader(http.StatusOK)
		case "/v2/_catalog":
			p := pages.Add(1)
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("endless/p%07d-%04d", p, i)
			}
			w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?n=%d&last=%s>; rel="next"`, n, names[n-1]))
			json.NewEncoder(w).Encode(map[string]any{"repositories": names})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), pages
}

func TestCatalogStopsAtTheRepositoryCap(t *testing.T) {
	host, pages := endlessCatalog(t)
	o := opts(t)
	o.PageSize = 100
	o.MaxRepositories = 1050
	repos, err := registry.Catalog(context.Background(), host, o)
	var te *registry.TruncatedError
	if !errors.As(err, &te) || !errors.Is(err, registry.ErrTruncated) {
		t.Fatalf("err = %v, want a TruncatedError", err)
	}
	if len(repos) != 1050 || te.Kept != 1050 || !strings.Contains(err.Error(), "1050 repositories") {
		t.Errorf("kept %d names (error %q), want 1050", len(repos), err)
	}
	if got := pages.Load(); got != 11 {
		t.Errorf("fetched %d pages, want 11 (no page after the cap)", got)
	}
}

// The default cap applies without any option.
func TestCatalogDefaultCap(t *testing.T) {
	host, _ := endlessCatalog(t)
	n, err := registry.WalkCatalog(context.Background(), host, opts(t), func([]string) error { return nil })
	if !errors.Is(err, registry.ErrTruncated) || n != registry.DefaultMaxRepositories {
		t.Fatalf("n = %d, err = %v; want %d and ErrTruncated", n, err, registry.DefaultMaxRepositories)
	}
}

// WalkCatalog hands over each page before asking for the next one.
func TestWalkCatalogStreamsPages(t *testing.T) {
	first := make(chan struct{})
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/_catalog" {
			return
		}
		if pages.Add(1) == 2 {
			select {
			case <-first:
			case <-time.After(5 * time.Second):
				http.Error(w, "page 1 was not handed over before page 2 was asked for", http.StatusTeapot)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"repositories": []string{"c"}})
			return
		}
		w.Header().Set("Link", `</v2/_catalog?n=2&last=b>; rel="next"`)
		json.NewEncoder(w).Encode(map[string]any{"repositories": []string{"a", "b"}})
	}))
	defer srv.Close()
	var got []string
	_, err := registry.WalkCatalog(context.Background(), strings.TrimPrefix(srv.URL, "http://"), opts(t), func(repos []string) error {
		if len(got) == 0 {
			close(first)
		}
		got = append(got, repos...)
		return nil
	})
	if err != nil || strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("got %v, %v; want a,b,c", got, err)
	}
}

func TestListPageCaps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			return
		}
		// Other fields are skipped without being held; an endless array of
		// tags is cut at the page cap, keeping the tags before it.
		fmt.Fprint(w, `{"name":"app","manifest":{"sha256:x":{"tag":["a"],"layers":[1,2,3]}},"tags":[`)
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "%q,", fmt.Sprintf("t%06d", i)); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	o := opts(t)
	o.MaxListPageBytes = 64 << 10
	repo := strings.TrimPrefix(srv.URL, "http://") + "/app"
	tags, err := registry.Tags(context.Background(), repo, o)
	if !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if len(tags) < 1000 || tags[0] != "t000000" {
		t.Errorf("kept %d tags before the cap (first %v); want the ones read", len(tags), tags[:min(1, len(tags))])
	}

	// The tag cap stops inside a page.
	o = opts(t)
	o.MaxTags = 10
	tags, err = registry.Tags(context.Background(), repo, o)
	if !errors.Is(err, registry.ErrTruncated) || len(tags) != 10 {
		t.Errorf("MaxTags 10: %d tags, err %v; want 10 and ErrTruncated", len(tags), err)
	}
}

func TestListDecoding(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string
		bad  bool
	}{
		{`{"name":"a","tags":null}`, "", false},
		{`{"tags":["v1","v1","","v2"],"child":[]}`, "v1,v2", false},
		{`{"tags":"v1"}`, "", true},
		{`{"tags":[1]}`, "", true},
		{`["v1"]`, "", true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, tc.body)
		}))
		tags, err := registry.Tags(context.Background(), strings.TrimPrefix(srv.URL, "http://")+"/app", opts(t))
		srv.Close()
		if (err != nil) != tc.bad || strings.Join(tags, ",") != tc.want {
			t.Errorf("%s: tags %v, err %v; want %q (error %v)", tc.body, tags, err, tc.want, tc.bad)
		}
	}
}
