package vulndb

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/osv"
)

// copyOSV copies the OSV fixtures into a new directory.
func copyOSV(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(osvDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(osvDir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755)
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func buildFrom(t *testing.T, src string) *DB {
	t.Helper()
	dir := t.TempDir()
	if _, err := fixedImporter().Import(context.Background(), dir, OSVDir(src)); err != nil {
		t.Fatal(err)
	}
	return openDB(t, dir)
}

// keysOf are the index keys a fixture record lists.
func keysOf(t *testing.T, path string) []PackageKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v osv.Vulnerability
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var out []PackageKey
	for _, a := range v.Affected {
		out = append(out, PackageKey{a.Package.Ecosystem, osv.NormalizeName(a.Package.Ecosystem, a.Package.Name)})
	}
	return out
}

func sortKeys(ks []PackageKey) []PackageKey {
	slices.SortFunc(ks, func(a, b PackageKey) int {
		return strings.Compare(a.Ecosystem+"\x00"+a.Name, b.Ecosystem+"\x00"+b.Name)
	})
	return slices.Compact(ks)
}

// TestDiff builds a database from the fixtures and another with one
// record changed, one added and one removed: Diff names exactly the keys
// those records list; a rebuild of the same records differs nowhere;
// against nil every key differs.
func TestDiff(t *testing.T) {
	ctx := context.Background()
	a := copyOSV(t)
	v1 := buildFrom(t, a)

	same, err := Diff(ctx, v1, buildFrom(t, a))
	if err != nil || len(same) != 0 {
		t.Fatalf("a rebuild of the same records differs at %v (%v)", same, err)
	}
	all, err := Diff(ctx, nil, v1)
	if err != nil || len(all) != v1.pkgs.n || len(all) < 50 {
		t.Fatalf("diff against nil: %d keys of %d (%v)", len(all), v1.pkgs.n, err)
	}

	b := copyOSV(t)
	changed := filepath.Join(b, "npm", "GHSA-9wv6-86v2-598j.json")
	body, err := os.ReadFile(changed)
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.Replace(string(body), `"summary": "path-to-regexp outputs`, `"summary": "path-to-regexp (revised) outputs`, 1))
	if err := os.WriteFile(changed, body, 0o644); err != nil {
		t.Fatal(err)
	}
	added := filepath.Join(b, "npm", "GHSA-test-0000-0001.json")
	os.WriteFile(added, []byte(`{"schema_version":"1.4.0","id":"GHSA-test-0000-0001","modified":"2026-09-01T00:00:00Z","published":"2026-09-01T00:00:00Z",
		"summary":"left-pad pads too much","affected":[{"package":{"ecosystem":"npm","name":"Left-Pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.1"}]}]}]}`), 0o644)
	removed, _ := filepath.Glob(filepath.Join(b, "pypi", "*.json"))
	if len(removed) == 0 {
		t.Fatal("no PyPI fixture")
	}
	want := append(append(keysOf(t, changed), keysOf(t, added)...), keysOf(t, removed[0])...)
	if err := os.Remove(removed[0]); err != nil {
		t.Fatal(err)
	}
	v2 := buildFrom(t, b)

	got, err := Diff(ctx, v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	if want = sortKeys(want); !slices.Equal(sortKeys(got), want) {
		t.Fatalf("diff %v, want %v", got, want)
	}
	if !slices.Contains(got, PackageKey{"npm", "left-pad"}) {
		t.Fatalf("the new package's key is not in normalised form: %v", got)
	}
}
