package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/report"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// testNow is the servers' clock in tests: after storetest.SeedTime.
var testNow = storetest.SeedTime.Add(time.Hour)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a server over a store, behind a loopback test listener, with an
// admin token.
type env struct {
	t     *testing.T
	st    store.Store
	srv   *Server
	ts    *httptest.Server
	admin string
	logs  *syncBuffer
}

// newEnv starts a server over st; opts' Log and Now are set when empty.
func newEnv(t *testing.T, st store.Store, opts Options) *env {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	e := &env{t: t, st: st, logs: logs}
	e.srv = New(st, opts)
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	_, e.admin = e.mint("admin", store.ScopeAdmin, "")
	return e
}

// mint creates a token in the store directly.
func (e *env) mint(name, scope, cluster string) (store.Token, string) {
	e.t.Helper()
	tok, secret, err := CreateToken(context.Background(), e.st, name, scope, cluster, testNow)
	if err != nil {
		e.t.Fatalf("token %s: %v", name, err)
	}
	return tok, secret
}

// do sends a request with a bearer token (none when token is "").
func (e *env) do(method, path, token string, body io.Reader, header ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// read sends a request and returns its status and body.
func (e *env) read(method, path, token string, body io.Reader, header ...string) (int, []byte) {
	e.t.Helper()
	resp := e.do(method, path, token, body, header...)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// get GETs path with the admin token, wants 200 and decodes JSON into v.
func (e *env) get(path string, v any) {
	e.t.Helper()
	code, b := e.read("GET", path, e.admin, nil)
	if code != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			e.t.Fatalf("GET %s: %v\n%s", path, err, b)
		}
	}
}

// wantError checks an answer is status code with a JSON error.
func wantError(t *testing.T, what string, code int, b []byte, want int) {
	t.Helper()
	var eb errorBody
	if len(b) > 300 {
		b = append(b[:300:300], "…"...)
	}
	if code != want {
		t.Errorf("%s: status %d, want %d (%s)", what, code, want, b)
		return
	}
	if err := json.Unmarshal(b, &eb); err != nil || eb.Error == "" {
		t.Errorf("%s: body is not {\"error\": …}: %s", what, b)
	}
}

// gzipJSON is doc's JSON, gzip-compressed.
func gzipJSON(t testing.TB, doc *result.Document) []byte {
	t.Helper()
	f, err := report.Lookup("json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := f.Write(zw, doc, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// push POSTs doc (gzip) for cluster c with token and returns the answer.
func (e *env) push(c, token string, doc *result.Document) (int, []byte) {
	e.t.Helper()
	return e.read("POST", "/api/v1/clusters/"+c+"/results", token, bytes.NewReader(gzipJSON(e.t, doc)),
		"Content-Type", "application/json", "Content-Encoding", "gzip")
}

// allRisks pages through /api/v1/risks with the query and returns every row.
func (e *env) allRisks(query string, limit int) []store.RiskRow {
	e.t.Helper()
	var out []store.RiskRow
	cursor := ""
	for range 10000 {
		var p store.RiskPage
		q := query + "&limit=" + itoa(limit)
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		e.get("/api/v1/risks?"+strings.TrimPrefix(q, "&"), &p)
		out = append(out, p.Risks...)
		if p.Next == "" {
			return out
		}
		cursor = p.Next
	}
	e.t.Fatal("risk pages never end")
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// eachBackend runs fn on every store backend (SQLite and PostgreSQL).
func eachBackend(t *testing.T, fn func(t *testing.T, st store.Store)) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) { fn(t, b.Store) })
}

// seeded runs fn on every backend with a store seeded with clusters c0,
// c1 of n workloads each, behind a server.
func seeded(t *testing.T, n int, fn func(t *testing.T, e *env)) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		storetest.Seed(t, st, 2, n)
		fn(t, newEnv(t, st, Options{}))
	})
}
