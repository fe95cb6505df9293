package match

import (
	"context"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
)

// countingSource counts lookups, so a test can tell a package that was never
// looked up from one whose advisories did not match.
type countingSource struct {
	mapSource
	lookups int
}

func (c *countingSource) Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	c.lookups++
	return c.mapSource.Lookup(ctx, ecosystem, name)
}

// TestUnknownVersionNeverMatches: a package whose version is unknown (a
// program found without module information) is never compared against
// advisory ranges, whatever its ecosystem, even by a record that affects
// every version: no finding, no match error, no lookup.
func TestUnknownVersionNeverMatches(t *testing.T) {
	all := []osv.Range{{Type: "ECOSYSTEM", Events: evs("i", "0")}}
	semver := []osv.Range{{Type: "SEMVER", Events: evs("i", "0")}}
	src := &countingSource{mapSource: mapSource{}}
	for _, r := range []*osv.Vulnerability{
		rangeRec("GO-TEST-1", "Go", "tool", semver),
		rangeRec("GO-TEST-2", "Go", "example.org/tool", semver),
		rangeRec("DSA-TEST-1", "Debian:12", "golang-example-tool", all),
		rangeRec("GHSA-TEST-1", "crates.io", "tool", semver),
		rangeRec("GHSA-TEST-2", "npm", "tool", semver, "unknown"),
	} {
		src.add(r)
	}
	unknown := inventory.VersionUnknown
	inv := &inventory.Inventory{Packages: []inventory.Package{
		// As extract emits them: no ecosystem, a generic PURL.
		{Name: "tool", Version: unknown, Type: "go-binary", PURL: "pkg:generic/tool", Locations: []string{"/usr/bin/tool"}},
		{Name: "tool", Version: unknown, Type: "rust-binary", PURL: "pkg:generic/tool", Locations: []string{"/usr/bin/tool-rs"}},
		// Hand-written inventories may give one an ecosystem anyway.
		{Name: "tool", Version: unknown, Ecosystem: "Go", Type: "go-binary"},
		{Name: "example.org/tool", Version: unknown, Ecosystem: "Go", Type: "go-module"},
		{Name: "tool", Version: unknown, Ecosystem: "Debian:12", Type: "deb", SourceName: "golang-example-tool", SourceVersion: "1.0-1"},
		{Name: "tool", Version: unknown, Ecosystem: "crates.io", Type: "rust-binary"},
		{Name: "tool", Version: unknown, Ecosystem: "npm", Type: "npm"},
	}}
	res, err := Match(context.Background(), inv, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || len(res.Errors) != 0 {
		t.Errorf("findings %+v, errors %q; want none", res.Findings, res.Errors)
	}
	if src.lookups != 0 || res.Stats.Lookups != 0 {
		t.Errorf("%d lookups for packages of unknown version; want none", src.lookups)
	}
	if len(res.Skipped) != len(inv.Packages) {
		t.Fatalf("skipped %q; want every package", res.Skipped)
	}
	for _, s := range res.Skipped {
		if !strings.HasSuffix(s, ": version unknown") {
			t.Errorf("skipped %q; want the reason \"version unknown\"", s)
		}
	}

	// The same records do match a known version, so the test can fail.
	inv.Packages[2].Version = "1.0.0"
	inv.Packages[4].Version = "1.0-1"
	res, err = Match(context.Background(), inv, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 2 {
		t.Errorf("known versions: %d findings %+v; want GO-TEST-1 and DSA-TEST-1", len(res.Findings), res.Findings)
	}
}
