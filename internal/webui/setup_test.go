package webui

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// testDB is the database version the seeded store records: built after
// the first cluster's scan, before the second's, so the second's risks
// are "new since the last database update".
// logOut receives the UI's log in tests.
var logOut io.Writer = io.Discard

var testDB = store.DBVersion{BuiltAt: testNow.Add(-90 * time.Minute), Advisories: 412387,
	Digest: "sha256:5f1e0c2b9a7d4e3f8c6b1a0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f"}

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// seeded is a store holding two clusters' hand-made results (prod-eu
// with hostile text when asked) and the UI over it.
type seeded struct {
	st  store.Store
	ui  http.Handler
	eu  *result.Document
	us  *result.Document
	srv *httptest.Server
}

// seed seeds a SQLite store.
func seed(t testing.TB, hostileText bool) *seeded {
	t.Helper()
	return seedStore(t, storetest.SQLite(t).Store, hostileText)
}

// seedStore seeds st: prod-eu scanned before the database update,
// prod-us after it.
func seedStore(t testing.TB, st store.Store, hostileText bool) *seeded {
	t.Helper()
	ctx := context.Background()
	s := &seeded{st: st, eu: clusterDocument(t, "prod-eu", hostileText), us: clusterDocument(t, "prod-us", false)}
	if err := st.SetDBVersion(ctx, testDB); err != nil {
		t.Fatal(err)
	}
	for _, in := range []store.Ingest{
		{Cluster: "prod-eu", Source: "push:ci", Cause: store.CauseScan, Document: s.eu, At: testNow.Add(-2 * time.Hour)},
		{Cluster: "prod-us", Source: "push:ci", Cause: store.CauseScan, Document: s.us, At: testNow.Add(-time.Hour)},
	} {
		if _, err := st.IngestResult(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	s.ui = newTestUI(st)
	return s
}

func newTestUI(st store.Store) http.Handler {
	return New(st, Options{Version: "test", Now: func() time.Time { return testNow }, Logger: slog.New(slog.NewTextHandler(logOut, nil))})
}

// server serves the UI on loopback for the browser.
func (s *seeded) server(t testing.TB) string {
	t.Helper()
	if s.srv == nil {
		s.srv = httptest.NewServer(s.ui)
		t.Cleanup(s.srv.Close)
	}
	return s.srv.URL
}

// get requests path from h and returns the status and body.
func get(t testing.TB, h http.Handler, path string, header ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// mustGet is get expecting 200.
func mustGet(t testing.TB, h http.Handler, path string, header ...string) string {
	t.Helper()
	code, body := get(t, h, path, header...)
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d\n%s", path, code, body)
	}
	return body
}

// contains fails unless body holds every one of want.
func contains(t testing.TB, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
}

// riskOf finds a ranked risk of doc by vulnerability and namespace.
func riskOf(t testing.TB, doc *result.Document, vuln, ns string) *result.Risk {
	t.Helper()
	for i := range doc.Risks {
		if doc.Risks[i].Vulnerability == vuln && doc.Risks[i].Namespace == ns {
			return &doc.Risks[i]
		}
	}
	t.Fatalf("no risk %s in %s", vuln, ns)
	return nil
}

// record serves one GET of path with the given headers.
func record(h http.Handler, path string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
