package vulndb

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
)

func TestClassifyInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kev := write("kev.json", `{"title":"CISA Catalog","catalogVersion":"2026.11.20","vulnerabilities":[]}`)
	notKEV := write("record.json", `{"id":"GO-2021-0113"}`)
	epss := write("scores.CSV.gz", "")
	zip := write("Go.zip", "")
	odd := write("notes.txt", "")
	osvDir := filepath.Join(dir, "records")
	write("records/GO-1.json", `{}`)
	parts := filepath.Join(dir, "parts")
	write("parts/osv/GO-1.json", `{}`)
	write("parts/epss/epss.csv", "")
	write("parts/epss/.hidden.csv", "")
	write("parts/kev/kev.json", `{"catalogVersion":"1"}`)
	write("parts/kev/other.json", `{}`)

	in, err := ClassifyInputs([]string{osvDir, parts, epss, zip, kev, "https://mirror.example/osv"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		OSVDir(osvDir),
		OSVDir(filepath.Join(parts, "osv")), EPSS(filepath.Join(parts, "epss", "epss.csv")), KEV(filepath.Join(parts, "kev", "kev.json")),
		EPSS(epss), OSVZip(zip), KEV(kev), OSVExport("https://mirror.example/osv"),
	}
	if diff := cmp.Diff(Inputs{Sources: want}, in); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}

	for _, p := range []string{notKEV, odd} {
		var ie *InputError
		if _, err := ClassifyInputs([]string{p}); !errors.As(err, &ie) || ie.Path != p {
			t.Errorf("%s: err %v; want an InputError", p, err)
		}
	}
	var ie *InputError
	if _, err := ClassifyInputs([]string{filepath.Join(dir, "missing")}); err == nil || errors.As(err, &ie) {
		t.Errorf("missing path: err %v; want a plain error", err)
	}

	bundle := filepath.Join(dir, "db.tar.zst")
	writeBundleHead(t, bundle)
	if in, err := ClassifyInputs([]string{bundle}); err != nil || in.Bundle != bundle || in.Sources != nil {
		t.Errorf("bundle: %+v, %v", in, err)
	}
	if _, err := ClassifyInputs([]string{osvDir, bundle}); !errors.As(err, &ie) || ie.Path != bundle {
		t.Errorf("bundle with another path: err %v; want an InputError", err)
	}
}

// writeBundleHead writes what IsBundle looks at: a zstd frame whose tar
// starts with the manifest.
func writeBundleHead(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, err := zstd.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o644, Size: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
