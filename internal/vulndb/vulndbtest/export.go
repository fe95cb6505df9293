// Package vulndbtest builds vulnerability-data fixtures for tests: the OSV
// export layout from a directory of real OSV records.
package vulndbtest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ExportLayout lays the OSV records under dir out as the OSV export does:
// one "<Ecosystem>/all.zip" per base ecosystem ("Debian:9" goes under
// Debian) plus "ecosystems.txt". It returns the files by relative path.
func ExportLayout(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	byEco := map[string]map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var rec struct {
			ID       string `json:"id"`
			Affected []struct {
				Package struct{ Ecosystem string } `json:"package"`
			} `json:"affected"`
		}
		if err := json.Unmarshal(b, &rec); err != nil || len(rec.Affected) == 0 {
			return nil // not an OSV record with a package (e.g. a README)
		}
		eco, _, _ := strings.Cut(rec.Affected[0].Package.Ecosystem, ":")
		if byEco[eco] == nil {
			byEco[eco] = map[string][]byte{}
		}
		byEco[eco][rec.ID+".json"] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var ecos []string
	for eco, files := range byEco {
		ecos = append(ecos, eco)
		out[eco+"/all.zip"] = Zip(t, files)
	}
	slices.Sort(ecos)
	out["ecosystems.txt"] = []byte(strings.Join(ecos, "\n") + "\n")
	return out
}

// Zip returns a zip archive of files (name → content), in name order.
func Zip(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
