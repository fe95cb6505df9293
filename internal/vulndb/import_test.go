package vulndb

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/runlens/runlens/internal/vulndb/vulndbtest"
)

// makeExport lays the fixtures out as the OSV export does, one
// <Ecosystem>/all.zip per base ecosystem plus ecosystems.txt, and returns
// the ecosystems.
func makeExport(t testing.TB, root string) []string {
	t.Helper()
	var ecos []string
	for rel, b := range vulndbtest.ExportLayout(t, osvDir) {
		writeFile(t, filepath.Join(root, rel), b)
		if eco, ok := strings.CutSuffix(rel, "/all.zip"); ok {
			ecos = append(ecos, eco)
		}
	}
	slices.Sort(ecos)
	return ecos
}

func writeZip(t testing.TB, path string, files map[string][]byte) {
	t.Helper()
	writeFile(t, path, vulndbtest.Zip(t, files))
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// snapshot is what two equivalent DBs must agree on.
func snapshot(t testing.TB, db *DB) map[string][]string {
	t.Helper()
	o := loadOracle(t)
	out := map[string][]string{}
	for k := range o.pkgs {
		vs, err := db.Lookup(context.Background(), k[0], k[1])
		if err != nil {
			t.Fatal(err)
		}
		out[k[0]+"/"+k[1]] = ids(vs)
	}
	return out
}

func TestImportZipsAndHTTP(t *testing.T) {
	export := t.TempDir()
	ecos := makeExport(t, export)
	ref := t.TempDir()
	importTestdata(t, ref)
	want := snapshot(t, openDB(t, ref))

	var requests atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/osv/", http.StripPrefix("/osv/", http.FileServer(http.Dir(export))))
	mux.HandleFunc("/epss.csv.gz", func(w http.ResponseWriter, r *http.Request) {
		b, _ := os.ReadFile(epssFile)
		zw := gzip.NewWriter(w)
		zw.Write(b)
		zw.Close()
	})
	mux.HandleFunc("/kev.json", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		http.ServeFile(w, r, kevFile) // gzip on the wire, detected by its magic
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	zips := make([]Source, 0, len(ecos))
	for _, e := range ecos {
		zips = append(zips, OSVZip(filepath.Join(export, e, "all.zip")))
	}
	tests := []struct {
		name    string
		sources []Source
	}{
		{"zips", append(zips, EPSS(epssFile), KEV(kevFile))},
		{"dir of zips", []Source{OSVDir(export), EPSS(epssFile), KEV(kevFile)}},
		{"http discovered", []Source{OSVExport(srv.URL + "/osv"), EPSS(srv.URL + "/epss.csv.gz"), KEV(srv.URL + "/kev.json")}},
		{"http listed", []Source{OSVExport(srv.URL+"/osv/", ecos...), EPSS(srv.URL + "/epss.csv.gz"), KEV(srv.URL + "/kev.json")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			im := fixedImporter()
			im.Header = http.Header{"Authorization": {"Bearer s3cret"}}
			meta, err := im.Import(context.Background(), dir, tc.sources...)
			if err != nil {
				t.Fatal(err)
			}
			db := openDB(t, dir)
			if diff := cmp.Diff(want, snapshot(t, db)); diff != "" {
				t.Errorf("lookups differ from the directory import (-dir +%s):\n%s", tc.name, diff)
			}
			if th, ok := db.Threat(context.Background(), "CVE-2021-44228"); !ok || !th.InKEV || th.EPSS != 0.99999 {
				t.Errorf("Threat(CVE-2021-44228) = %+v, %v", th, ok)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(leftovers) > 0 {
				t.Errorf("temp files left: %v", leftovers)
			}
			if b, _ := json.Marshal(meta); bytes.Contains(b, []byte("s3cret")) {
				t.Error("metadata contains the mirror credential")
			}
		})
	}
	if requests.Load() == 0 {
		t.Error("the HTTP server was never asked")
	}
}

func TestImportHTTPFailureKeepsOldDB(t *testing.T) {
	dir := t.TempDir()
	old := importTestdata(t, dir)
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := fixedImporter().Import(context.Background(), dir, OSVExport("http://user:pw@"+strings.TrimPrefix(srv.URL, "http://"), "npm"))
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("import from a 404 export = %v, want an error naming the 404", err)
	}
	if strings.Contains(err.Error(), "pw") {
		t.Errorf("error leaks the URL password: %v", err)
	}
	db := openDB(t, dir)
	if diff := cmp.Diff(old, db.Metadata(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("old DB changed (-old +now):\n%s", diff)
	}
}

func TestBadRecords(t *testing.T) {
	src := t.TempDir()
	good, _ := os.ReadFile(filepath.Join(osvDir, "npm/GHSA-8hc4-vh64-cxmj.json"))
	files := map[string][]byte{
		"good.json":      good,
		"invalid.json":   []byte(`{"id": "X-1", "affected": [`),
		"noid.json":      []byte(`{"summary": "no id", "affected": []}`),
		"badid.json":     []byte(`{"id": "has space"}`),
		"deep.json":      []byte(`{"id":"DEEP-1","database_specific":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`),
		"huge.json":      append([]byte(`{"id":"HUGE-1","details":"`), append(bytes.Repeat([]byte("a"), 10<<20), `"}`...)...),
		"wrongtype.json": []byte(`{"id": 12}`),
		"notes.txt":      []byte("not a record; ignored"),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(src, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The same hostile records inside a zip, plus an entry that inflates
	// past the per-record cap (declared size is what the writer says).
	zfiles := map[string][]byte{"bomb.json": bytes.Repeat([]byte(" "), 6<<20), "deep.json": files["deep.json"]}
	writeZip(t, filepath.Join(src, "sub", "all.zip"), zfiles)

	meta, err := fixedImporter().Import(context.Background(), t.TempDir(), OSVDir(src))
	if err != nil {
		t.Fatal(err)
	}
	if meta.Advisories != 1 || meta.Bad != 8 {
		t.Errorf("advisories %d, bad %d; want 1 and 8: %+v", meta.Advisories, meta.Bad, meta.BadSamples)
	}
	var reasons []string
	for _, b := range meta.BadSamples {
		reasons = append(reasons, filepath.Base(strings.ReplaceAll(b.Name, "!", "/"))+": "+b.Reason)
	}
	for _, want := range []string{"deep.json: JSON nested deeper", "huge.json: larger than", "bomb.json: larger than", "noid.json: missing or invalid id", "invalid.json: invalid OSV JSON"} {
		if !slices.ContainsFunc(reasons, func(r string) bool { return strings.HasPrefix(r, want) }) {
			t.Errorf("no bad record %q in %q", want, reasons)
		}
	}
}

func TestZipBombTotalCap(t *testing.T) {
	src := t.TempDir()
	files := map[string][]byte{}
	for i := range 20 {
		files[fmt.Sprintf("r%d.json", i)] = []byte(fmt.Sprintf(`{"id":"B-%d","details":%q}`, i, strings.Repeat("x", 100<<10)))
	}
	writeZip(t, filepath.Join(src, "all.zip"), files)
	im := fixedImporter()
	im.Limits.MaxTotalBytes = 1 << 20
	_, err := im.Import(context.Background(), t.TempDir(), OSVZip(filepath.Join(src, "all.zip")))
	if err == nil || !strings.Contains(err.Error(), "zip bomb") {
		t.Fatalf("import over the total cap = %v, want a zip-bomb error", err)
	}
}

func TestCollapseRefused(t *testing.T) {
	dir := t.TempDir()
	old := importTestdata(t, dir)
	small := OSVDir(filepath.Join(osvDir, "npm"))
	_, err := fixedImporter().Import(context.Background(), dir, small)
	if !errors.Is(err, ErrCollapse) {
		t.Fatalf("import of 17 records over %d = %v, want ErrCollapse", old.Advisories, err)
	}
	if got := openDB(t, dir).Metadata().Advisories; got != old.Advisories {
		t.Fatalf("refused import changed the DB: %d advisories", got)
	}
	im := fixedImporter()
	im.Force = true
	if m, err := im.Import(context.Background(), dir, small); err != nil || m.Advisories != 17 {
		t.Fatalf("forced import = %d, %v", m.Advisories, err)
	}
	// An import that yields nothing is refused even without a previous DB.
	if _, err := Import(context.Background(), t.TempDir(), OSVDir(t.TempDir())); !errors.Is(err, ErrCollapse) {
		t.Errorf("empty import = %v, want ErrCollapse", err)
	}
}
