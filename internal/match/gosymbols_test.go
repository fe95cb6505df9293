package match

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
)

func sampleGoRecord(t *testing.T, id string) *osv.Vulnerability {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir, "advisories", "osv", "go", id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var v osv.Vulnerability
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// TestGoSymbolsCarried checks that a Go finding carries its GO- record's
// vulnerable imports, that a GHSA alias without imports does not widen
// them, that a GO- record without imports stands for the whole module,
// and that findings of one module in two binaries share nothing.
func TestGoSymbolsCarried(t *testing.T) {
	src := mapSource{}
	src.add(sampleGoRecord(t, "GO-2022-1059"))
	src.add(&osv.Vulnerability{ID: "GHSA-69ch-w2m2-3vjp", Aliases: []string{"CVE-2022-32149"},
		Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "Go", Name: "golang.org/x/text"},
			Ranges: []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: "0"}, {Fixed: "0.3.8"}}}}}}})
	src.add(&osv.Vulnerability{ID: "GO-2099-0001",
		Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "Go", Name: "example.com/whole"},
			Ranges: []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: "0"}}}}}}})
	inv := &inventory.Inventory{Packages: []inventory.Package{
		{Name: "golang.org/x/text", Version: "0.3.6", Ecosystem: "Go", Type: "go-module", Locations: []string{"/a"}},
		{Name: "golang.org/x/text", Version: "0.3.6", Ecosystem: "Go", Type: "go-module", Locations: []string{"/b"}},
		{Name: "example.com/whole", Version: "1.0.0", Ecosystem: "Go", Type: "go-module", Locations: []string{"/a"}},
	}}
	res, err := Match(context.Background(), inv, src)
	if err != nil {
		t.Fatal(err)
	}
	byLoc := map[string]*Finding{}
	for i := range res.Findings {
		f := &res.Findings[i]
		byLoc[f.Package.Name+f.Package.Location] = f
	}
	a, b := byLoc["golang.org/x/text/a"], byLoc["golang.org/x/text/b"]
	if a == nil || b == nil || a.Symbols == nil || b.Symbols == nil {
		t.Fatalf("x/text findings %+v", res.Findings)
	}
	want := []string{"golang.org/x/text/language.MatchStrings", "golang.org/x/text/language.ParseAcceptLanguage"}
	if !slices.Equal(a.Symbols.Vulnerable, want) || a.Symbols.Advisory != "GO-2022-1059" || a.Symbols.Checked {
		t.Errorf("symbols %+v, want %v from GO-2022-1059, unchecked", a.Symbols, want)
	}
	if a.Symbols == b.Symbols || &a.Symbols.Imports[0] == &b.Symbols.Imports[0] {
		t.Error("findings of two binaries share their symbols")
	}
	w := byLoc["example.com/whole/a"]
	if w == nil || w.Symbols == nil || !slices.Equal(w.Symbols.Vulnerable, []string{"example.com/whole/..."}) {
		t.Errorf("whole-module record: %+v", w)
	}
}
