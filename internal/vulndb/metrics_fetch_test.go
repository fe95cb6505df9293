package vulndb

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// nvdServer is a loopback NVD CVE API 2.0 serving real records in pages,
// answering the first requests with the refusals NVD gives under load.
type nvdServer struct {
	t       *testing.T
	recs    [][]byte
	refuse  []int // status codes to answer the first requests with
	mu      sync.Mutex
	reqs    []*http.Request
	times   []time.Time
	changed [][]byte // what an incremental query returns
}

func (s *nvdServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.times = append(s.times, time.Now())
	n := len(s.reqs)
	s.mu.Unlock()
	if n <= len(s.refuse) {
		if s.refuse[n-1] == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(s.refuse[n-1])
		return
	}
	q := r.URL.Query()
	recs := s.recs
	if q.Get("lastModStartDate") != "" {
		recs = s.changed
	}
	start, _ := strconv.Atoi(q.Get("startIndex"))
	size, _ := strconv.Atoi(q.Get("resultsPerPage"))
	end := min(start+size, len(recs))
	page := nvdPage(s.t, recs[min(start, end):end], len(recs))
	w.Write(page)
}

// TestNVDAPISource fetches the real NVD records from a loopback NVD API in
// pages, within a rate window, through a 403 and a 503 with Retry-After,
// with the API key in its header only; then an update a day later asks
// only for the changes since and carries the rest over.
func TestNVDAPISource(t *testing.T) {
	recs := sortedValues(readFixtures(t, nvdDir))
	srv := &nvdServer{t: t, recs: recs, refuse: []int{http.StatusForbidden, http.StatusServiceUnavailable}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	const key = "nvd-key-0123456789"
	opt := NVDAPIOptions{APIKey: key, Requests: 2, Window: 400 * time.Millisecond, PageSize: 40}
	dir := t.TempDir()
	m, err := fixedImporter().Import(context.Background(), dir, OSVDir(filepath.Join(osvDir, "npm")), NVDAPI(ts.URL+"/rest/json/cves/2.0", opt))
	if err != nil {
		t.Fatal(err)
	}
	// 2 refusals, then 3 pages of 40.
	if len(srv.reqs) != 5 {
		t.Fatalf("%d requests, want 5", len(srv.reqs))
	}
	for i, r := range srv.reqs {
		if r.Header.Get("apiKey") != key {
			t.Errorf("request %d without the API key header", i)
		}
		if strings.Contains(r.URL.RawQuery, key) || r.URL.Query().Get("lastModStartDate") != "" {
			t.Errorf("request %d query %q", i, r.URL.RawQuery)
		}
		// No more than 2 requests in any 400 ms. The server stamps arrival
		// times, which trail the client's send times by a jitter of their
		// own, so a few milliseconds of slack; unpaced requests would be
		// microseconds apart.
		if i >= 2 && srv.times[i].Sub(srv.times[i-2]) < 400*time.Millisecond-15*time.Millisecond {
			t.Errorf("requests %d and %d only %v apart", i-2, i, srv.times[i].Sub(srv.times[i-2]))
		}
	}
	if d := srv.times[2].Sub(srv.times[1]); d < time.Second {
		t.Errorf("retried %v after a 503 with Retry-After: 1", d)
	}
	src := m.Metrics.Sources[0]
	if src.NVDRecords != len(recs) || !src.SyncedThrough.Equal(builtAt) || src.Incremental {
		t.Errorf("source %+v", src)
	}
	if file, _ := os.ReadFile(filepath.Join(dir, FileName)); bytes.Contains(file, []byte(key)) {
		t.Error("the API key is in the database file")
	}
	first := allMetrics(t, openDB(t, dir))

	// A day later: only CVE-2022-1292 changed (NVD scored it again).
	changed := bytes.Replace(readFixtures(t, nvdDir)["CVE-2022-1292.json"], []byte(`"lastModified": "2025-08-11T17:19:56.250"`), []byte(`"lastModified": "2026-10-01T00:00:00.000"`), 1)
	changed = bytes.Replace(changed, []byte("CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H"), []byte("CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:N"), 1)
	srv.mu.Lock()
	srv.reqs, srv.times, srv.refuse, srv.changed = nil, nil, nil, [][]byte{changed}
	srv.mu.Unlock()
	later := builtAt.Add(24 * time.Hour)
	im := &Importer{Now: func() time.Time { return later }}
	m, err = im.Import(context.Background(), dir, OSVDir(filepath.Join(osvDir, "npm")), NVDAPI(ts.URL+"/rest/json/cves/2.0", opt))
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.reqs) != 1 {
		t.Fatalf("incremental update sent %d requests, want 1", len(srv.reqs))
	}
	q := srv.reqs[0].URL.Query()
	if q.Get("lastModStartDate") != nvdTime(builtAt) || q.Get("lastModEndDate") != nvdTime(later) {
		t.Errorf("incremental query %q", srv.reqs[0].URL.RawQuery)
	}
	src = m.Metrics.Sources[0]
	if !src.Incremental || src.NVDRecords != 1 || src.Carried != len(first) || !src.SyncedThrough.Equal(later) {
		t.Errorf("incremental source %+v (want %d carried)", src, len(first))
	}
	lines := m.Metrics.StatusLines(later.Add(time.Hour))
	if len(lines) != 2 || !strings.Contains(lines[1], "1 NVD records, "+strconv.Itoa(len(first))+" carried from the previous database; newest modified 2026-10-08") ||
		!strings.Contains(lines[1], "synced through 2026-10-01T08:00:00Z (1h0m0s ago, incremental)") {
		t.Errorf("status lines %q", lines)
	}
	second := allMetrics(t, openDB(t, dir))
	if len(second) != len(first) {
		t.Errorf("%d CVEs after the incremental update, %d before", len(second), len(first))
	}
	for cve, m := range first {
		if cve != "CVE-2022-1292" && !equalMetrics(m, second[cve]) {
			t.Errorf("%s changed by an update that did not touch it", cve)
		}
	}
	if got := second["CVE-2022-1292"].CVSS[0]; got.Vector != "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:N" {
		t.Errorf("CVE-2022-1292 after the update: %+v", got)
	}
}

func equalMetrics(a, b Metrics) bool {
	return a.CVE == b.CVE && a.Modified.Equal(b.Modified) && len(a.CVSS) == len(b.CVSS) && len(a.CWEs) == len(b.CWEs) && (a.SSVC == nil) == (b.SSVC == nil)
}

// TestNVDAPIFailures: an answer that is not an API page, a page cut
// mid-body and an endpoint that keeps refusing fail the import and keep
// the current database.
func TestNVDAPIFailures(t *testing.T) {
	dir := t.TempDir()
	importTestdata(t, dir)
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	recs := sortedValues(readFixtures(t, nvdDir))
	page := nvdPage(t, recs[:10], 10)
	for name, h := range map[string]http.HandlerFunc{
		"not a page": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"message":"hello"}`)) },
		"cut":        func(w http.ResponseWriter, r *http.Request) { w.Write(page[:len(page)/2]) },
		"refusing":   func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) },
		"not found":  func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
	} {
		ts := httptest.NewServer(h)
		opt := NVDAPIOptions{Requests: 50, Window: 50 * time.Millisecond}
		_, err := fixedImporter().Import(context.Background(), dir, OSVDir(osvDir), NVDAPI(ts.URL, opt))
		ts.Close()
		if err == nil {
			t.Errorf("%s: import succeeded", name)
		}
		if after, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(before, after) {
			t.Errorf("%s: the current database changed", name)
		}
	}
}

// TestCVE5ExportSource downloads the CVE List bulk export — a zip inside a
// zip, named by a GitHub releases API answer — from a loopback server, and
// a mirror's direct zip URL.
func TestCVE5ExportSource(t *testing.T) {
	files := map[string][]byte{}
	for k, v := range readFixtures(t, cve5Dir) {
		files["cves/"+k] = v
	}
	export := zipOf(t, map[string][]byte{"cves.zip": zipOf(t, files)})
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("/repos/CVEProject/cvelistV5/releases/latest", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"tag_name":"cve_2026-10-09_0000Z","assets":[{"name":"2026-10-09_delta_CVEs_at_0000Z.zip","browser_download_url":"` + base + `/delta.zip"},` +
			`{"name":"2026-10-09_all_CVEs_at_midnight.zip.zip","browser_download_url":"` + base + `/dl/all.zip.zip"}]}`))
	})
	mux.HandleFunc("/dl/all.zip.zip", func(w http.ResponseWriter, r *http.Request) { w.Write(export) })
	mux.HandleFunc("/cut.zip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(export)))
		w.Write(export[:len(export)/2])
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	base = ts.URL
	want := allMetrics(t, metricsDB(t, CVE5(cve5Dir)))
	for _, u := range []string{ts.URL + "/repos/CVEProject/cvelistV5/releases/latest", ts.URL + "/dl/all.zip.zip"} {
		got := allMetrics(t, metricsDB(t, CVE5(u)))
		if len(got) != len(want) || len(got) == 0 {
			t.Errorf("%s: %d CVEs, want %d", u, len(got), len(want))
		}
		for cve, m := range want {
			if !equalMetrics(m, got[cve]) {
				t.Errorf("%s: %s differs", u, cve)
			}
		}
	}
	dir := t.TempDir()
	importTestdata(t, dir)
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	if _, err := fixedImporter().Import(context.Background(), dir, OSVDir(osvDir), CVE5(ts.URL+"/cut.zip")); err == nil {
		t.Error("an export cut mid-body was imported")
	}
	if after, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(before, after) {
		t.Error("a failed export download changed the current database")
	}
}
