// Package registrytest runs a real, in-process OCI registry (ggcr's
// pkg/registry behind httptest) with the authentication schemes runlens
// must handle, and records what reaches it, for tests of internal/registry
// and internal/image.
package registrytest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Auth selects how the registry authenticates clients.
type Auth int

// The authentication schemes.
const (
	NoAuth Auth = iota
	BasicAuth
	BearerAuth
)

// Config configures New.
type Config struct {
	Auth     Auth
	Username string
	Password string
	// Realm overrides the bearer realm the registry advertises; the
	// placeholder "{self}" stands for this registry's own token endpoint.
	// Default "{self}".
	Realm string
	// PaginateCatalog makes /v2/_catalog honour n and last and send Link
	// headers, as distribution does (ggcr's registry does neither).
	PaginateCatalog bool
}

// Server is a running registry.
type Server struct {
	// Host is "127.0.0.1:port", the registry name to use in references.
	Host string
	// Admin is an unauthenticated door to the same storage, for pushing
	// fixtures whatever Auth is.
	Admin string

	cfg       Config
	inner     http.Handler
	token     string
	mu        sync.Mutex
	requests  []string
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

// New starts a registry; it stops when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := &Server{cfg: cfg, inner: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))), token: "tok-" + rand.Text()}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	admin := httptest.NewServer(s.inner)
	t.Cleanup(srv.Close)
	t.Cleanup(admin.Close)
	s.Host = strings.TrimPrefix(srv.URL, "http://")
	s.Admin = strings.TrimPrefix(admin.URL, "http://")
	return s
}

// SetRealm changes the advertised bearer realm.
func (s *Server) SetRealm(realm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Realm = realm
}

// Intercept installs f in front of the registry; when f returns true it has
// answered the request. Authentication is checked before f runs.
func (s *Server) Intercept(f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = f
}

// Requests returns "METHOD path?query" of every request received.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// TokenHandler serves the bearer token endpoint: it requires the basic
// credentials and returns the token the registry accepts. Exposed so a test
// can host it on a second server (a realm on another host).
func (s *Server) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != s.cfg.Username || p != s.cfg.Password {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"token": s.token})
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
	cfg := s.cfg
	intercept := s.intercept
	s.mu.Unlock()

	if r.URL.Path == "/token" {
		s.TokenHandler().ServeHTTP(w, r)
		return
	}
	switch cfg.Auth {
	case BasicAuth:
		if u, p, ok := r.BasicAuth(); !ok || u != cfg.Username || p != cfg.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
			unauthorized(w)
			return
		}
	case BearerAuth:
		if r.Header.Get("Authorization") != "Bearer "+s.token {
			realm := cfg.Realm
			if realm == "" || realm == "{self}" {
				realm = "http://" + s.Host + "/token"
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="registrytest"`, realm))
			unauthorized(w)
			return
		}
	}
	if intercept != nil && intercept(w, r) {
		return
	}
	if cfg.PaginateCatalog && r.URL.Path == "/v2/_catalog" {
		s.catalog(w, r)
		return
	}
	s.inner.ServeHTTP(w, r)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
}

// catalog implements distribution's catalog pagination over ggcr's
// unordered, unpaginated list.
func (s *Server) catalog(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	all, _ := http.NewRequest(http.MethodGet, "/v2/_catalog?n=100000", nil)
	s.inner.ServeHTTP(rec, all)
	var c struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	repos := c.Repositories
	sort.Strings(repos)
	if last := r.URL.Query().Get("last"); last != "" {
		i := sort.SearchStrings(repos, last)
		for i < len(repos) && repos[i] <= last {
			i++
		}
		repos = repos[i:]
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && n > 0 && n < len(repos) {
		repos = repos[:n]
		q := url.Values{"n": {strconv.Itoa(n)}, "last": {repos[len(repos)-1]}}
		w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?%s>; rel="next"`, q.Encode()))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string][]string{"repositories": repos})
}

// Ref returns "host/repo:tag" (or "@digest" when tag starts with "sha256:")
// on the authenticated door.
func (s *Server) Ref(repoTag string) string { return s.Host + "/" + repoTag }

// Push writes img as repo:tag through the admin door and returns its digest.
func (s *Server) Push(t testing.TB, repoTag string, img v1.Image) v1.Hash {
	t.Helper()
	ref, err := name.ParseReference(s.Admin+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// PushIndex writes idx as repo:tag through the admin door.
func (s *Server) PushIndex(t testing.TB, repoTag string, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	ref, err := name.ParseReference(s.Admin+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatalf("push index %s: %v", repoTag, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Recorder is a loopback server standing in for an attacker's host: it
// answers every request with a plausible token and records what it got.
type Recorder struct {
	// Host is "localhost:port": a name, not an IP literal, so ggcr's own
	// realm check (which only inspects IP literals) lets it through and the
	// test exercises runlens' confinement.
	Host string

	mu       sync.Mutex
	requests int
	auths    []string
}

// NewRecorder starts a Recorder; it stops when the test ends.
func NewRecorder(t testing.TB) *Recorder {
	rec := &Recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.requests++
		if a := r.Header.Get("Authorization"); a != "" {
			rec.auths = append(rec.auths, a)
		}
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"token":"stolen"}`)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	rec.Host = "localhost:" + u.Port()
	return rec
}

// Got returns the number of requests and the Authorization headers seen.
func (r *Recorder) Got() (requests int, authorizations []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, append([]string(nil), r.auths...)
}
