package match

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/vulndb"
)

// sampleDir is the bundled sample (testdata/sample at the repository
// root), whose EXPECTED.md / expected.json were written independently of
// this package.
const sampleDir = "../../testdata/sample"

type samplePair struct {
	Ecosystem     string `json:"ecosystem"`
	Package       string `json:"package"`
	Version       string `json:"version"`
	Advisory      string `json:"advisory"`
	Fixed         string `json:"fixed"`
	SourcePackage string `json:"source_package"`
	Why           string `json:"why"`
}

// TestBundledSample matches the packages of the bundled sample's expected
// findings against a real store built from the sample's advisories, and
// checks that exactly the expected package × advisory pairs are found,
// with their fixed versions, and none of the must-not pairs.
func TestBundledSample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sampleDir, "expected.json"))
	if err != nil {
		// The sample is committed: a missing file means it moved or was
		// lost, and the check must not silently stop running.
		t.Fatalf("the bundled sample's expected findings: %v", err)
	}
	var exp struct {
		Findings    []samplePair `json:"findings"`
		NotFindings []samplePair `json:"not_findings"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := vulndb.Import(ctx, dir, vulndb.OSVDir(filepath.Join(sampleDir, "advisories", "osv"))); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// The inventory: every package with a version named by the
	// expectations, except those absent from the image because a later
	// layer deletes them (ws: the sample says its version "would be
	// affected", and the known-advisory-style check below proves it is).
	var inv inventory.Inventory
	seen := map[string]bool{}
	var deleted []samplePair
	for _, p := range append(slices.Clone(exp.Findings), exp.NotFindings...) {
		if strings.Contains(p.Why, "whiteout") {
			deleted = append(deleted, p)
			continue
		}
		if p.Version == "" || seen[p.Ecosystem+p.Package+p.Version] {
			continue
		}
		seen[p.Ecosystem+p.Package+p.Version] = true
		pkg := inventory.Package{Name: p.Package, Version: p.Version, Ecosystem: p.Ecosystem}
		if p.SourcePackage != "" {
			pkg.Type, pkg.SourceName, pkg.SourceVersion = "deb", p.SourcePackage, p.Version
		}
		if p.Package == "stdlib" {
			pkg.Type = "go-stdlib"
		}
		inv.Packages = append(inv.Packages, pkg)
	}
	res, err := Match(ctx, &inv, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Errorf("match errors: %q", res.Errors)
	}
	type key struct{ Package, Version, Advisory string }
	got := map[key][]string{}
	for _, f := range res.Findings {
		for _, a := range f.Advisories {
			got[key{f.Package.Name, f.Package.Version, a}] = f.FixedVersions
		}
	}
	want := map[key][]string{}
	for _, p := range exp.Findings {
		want[key{p.Package, p.Version, p.Advisory}] = []string{p.Fixed}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("package × advisory pairs (-expected +matched):\n%s", diff)
	}
	for _, p := range exp.NotFindings {
		for k := range got {
			if k.Advisory == p.Advisory && k.Package == p.Package {
				t.Errorf("must not find %s for %s %s: %s", p.Advisory, p.Package, k.Version, p.Why)
			}
		}
	}
	for _, p := range deleted {
		fs, _ := matchOne(t, db, inventory.Package{Name: p.Package, Version: p.Version, Ecosystem: p.Ecosystem})
		found := false
		for _, f := range fs {
			found = found || slices.Contains(f.Advisories, p.Advisory)
		}
		if !found {
			t.Errorf("%s %s would be affected by %s if present, but is not matched", p.Package, p.Version, p.Advisory)
		}
	}
	t.Logf("%d packages, %d findings, %d expected pairs", len(inv.Packages), len(res.Findings), len(want))
}
