package match

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
)

// mapSource is a Source over records held in memory, indexed the way the
// real store indexes them: by each affected entry's ecosystem and name,
// with npm names lowercased and PyPI names PEP 503-normalised. The
// normalisation is written out again here rather than calling
// osv.NormalizeName, so a bug there cannot hide itself.
type mapSource map[string][]*osv.Vulnerability

var testPEP503 = regexp.MustCompile(`[-_.]+`)

func testKey(eco, name string) string {
	switch {
	case eco == "npm":
		name = strings.ToLower(name)
	case eco == "PyPI":
		name = strings.ToLower(testPEP503.ReplaceAllString(name, "-"))
	}
	return eco + "\x00" + name
}

func (m mapSource) add(v *osv.Vulnerability) {
	for _, a := range v.Affected {
		k := testKey(a.Package.Ecosystem, a.Package.Name)
		if !slices.Contains(m[k], v) {
			m[k] = append(m[k], v)
		}
	}
}

func (m mapSource) Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m[testKey(ecosystem, name)], nil
}

// realSource loads every record under testdata/osv and testdata/written.
func realSource(t testing.TB) mapSource {
	t.Helper()
	m := mapSource{}
	for _, v := range loadRecords(t, "testdata/osv", "testdata/written") {
		m.add(v)
	}
	return m
}

func loadRecords(t testing.TB, dirs ...string) []*osv.Vulnerability {
	t.Helper()
	var out []*osv.Vulnerability
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var v osv.Vulnerability
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			out = append(out, &v)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 50 {
		t.Fatalf("loaded %d records from %v; testdata missing?", len(out), dirs)
	}
	return out
}

// matchOne matches a single package and returns its findings by ID.
func matchOne(t *testing.T, src Source, p inventory.Package) (map[string]Finding, Result) {
	t.Helper()
	res, err := Match(context.Background(), &inventory.Inventory{Packages: []inventory.Package{p}}, src)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Finding{}
	for _, f := range res.Findings {
		if _, dup := byID[f.ID]; dup {
			t.Errorf("finding %s reported twice for one package", f.ID)
		}
		byID[f.ID] = f
	}
	return byID, res
}
