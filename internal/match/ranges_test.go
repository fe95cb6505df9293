package match

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
)

// The records in this file are written for the tests (not real advisories)
// to reach OSV shapes the real testdata does not have: unsorted events,
// limit, GIT ranges, bad versions, unknown ecosystems.

func rangeRec(id, eco, name string, ranges []osv.Range, versions ...string) *osv.Vulnerability {
	return &osv.Vulnerability{ID: id, Affected: []osv.Affected{{
		Package: osv.Package{Ecosystem: eco, Name: name}, Ranges: ranges, Versions: versions,
	}}}
}

func evs(kv ...string) []osv.Event {
	var out []osv.Event
	for i := 0; i+1 < len(kv); i += 2 {
		switch kv[i] {
		case "i":
			out = append(out, osv.Event{Introduced: kv[i+1]})
		case "f":
			out = append(out, osv.Event{Fixed: kv[i+1]})
		case "l":
			out = append(out, osv.Event{LastAffected: kv[i+1]})
		case "x":
			out = append(out, osv.Event{Limit: kv[i+1]})
		}
	}
	return out
}

func TestRangeSemantics(t *testing.T) {
	eco := func(e ...string) []osv.Range { return []osv.Range{{Type: "ECOSYSTEM", Events: evs(e...)}} }
	tests := []struct {
		name     string
		r        []osv.Range
		versions []string
		version  string
		affected bool
		fixed    []string
	}{
		{"unsorted: fixed listed first", eco("f", "2.0.0", "i", "1.0.0"), nil, "1.5.0", true, []string{"2.0.0"}},
		{"unsorted: below introduced", eco("f", "2.0.0", "i", "1.0.0"), nil, "0.5.0", false, nil},
		{"unsorted: at fixed", eco("f", "2.0.0", "i", "1.0.0"), nil, "2.0.0", false, nil},
		{"two intervals, first", eco("i", "3.0.0", "f", "1.5.0", "i", "0", "f", "3.2.0"), nil, "1.0.0", true, []string{"1.5.0"}},
		{"two intervals, gap", eco("i", "3.0.0", "f", "1.5.0", "i", "0", "f", "3.2.0"), nil, "2.0.0", false, nil},
		{"two intervals, second", eco("i", "3.0.0", "f", "1.5.0", "i", "0", "f", "3.2.0"), nil, "3.1.0", true, []string{"3.2.0"}},
		{"introduced is inclusive", eco("i", "1.0.0", "f", "2.0.0"), nil, "1.0.0", true, []string{"2.0.0"}},
		{"last_affected inclusive", eco("i", "1.0.0", "l", "1.4.0"), nil, "1.4.0", true, nil},
		{"after last_affected", eco("i", "1.0.0", "l", "1.4.0"), nil, "1.4.1", false, nil},
		{"below limit", eco("i", "0", "x", "2.0.0"), nil, "1.9.0", true, nil},
		{"at limit", eco("i", "0", "x", "2.0.0"), nil, "2.0.0", false, nil},
		{"limit *", eco("i", "0", "x", "*"), nil, "9.0.0", true, nil},
		{"introduced only", eco("i", "0"), nil, "9.0.0", true, nil},
		{"semver prerelease before release", []osv.Range{{Type: "SEMVER", Events: evs("i", "0", "f", "1.0.0")}}, nil, "1.0.0-rc.1", true, []string{"1.0.0"}},
		{"GIT range alone is ignored", []osv.Range{{Type: "GIT", Repo: "https://example.com/r", Events: evs("i", "0", "f", "abc123")}}, nil, "1.2.3", false, nil},
		{"GIT range with versions list", []osv.Range{{Type: "GIT", Repo: "https://example.com/r", Events: evs("i", "0", "f", "abc123")}}, []string{"1.2.3"}, "1.2.3", true, nil},
		{"versions list, not listed", nil, []string{"1.2.3"}, "1.2.4", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &osv.Affected{Package: osv.Package{Ecosystem: "npm", Name: "p"}, Ranges: tt.r, Versions: tt.versions}
			v := evaluate(a, newInstalled(tt.version, "npm", nil), func(s string) string { return s })
			if len(v.errs) > 0 {
				t.Fatalf("errors: %v", v.errs)
			}
			if v.affected != tt.affected || !cmp.Equal(v.fixed, tt.fixed) {
				t.Errorf("evaluate(%s) = %v %v, want %v %v", tt.version, v.affected, v.fixed, tt.affected, tt.fixed)
			}
		})
	}
}

// TestNotSilentlyDropped: versions that cannot be compared become Errors
// naming the advisory, never a clean result.
func TestNotSilentlyDropped(t *testing.T) {
	src := realSource(t)
	badFix := rangeRec("TEST-BAD-FIX", "Alpine:v3.20", "busybox", eco2("i", "0", "f", "1.2.3-rX!"))
	badFixListed := rangeRec("TEST-BAD-FIX-LISTED", "Alpine:v3.20", "busybox", eco2("i", "0", "f", "1.2.3-rX!"), "1.36.1-r29")
	unsupported := rangeRec("TEST-UNSUPPORTED", "Photon OS:5.0", "openssl", eco2("i", "0", "f", "3.0.9-1"))
	badEpoch := rangeRec("TEST-DEB", "Debian:12", "zlib", eco2("i", "0", "f", "1:1.2.13.dfsg-1"))
	src.add(badFix)
	src.add(badFixListed)
	src.add(unsupported)
	src.add(badEpoch)

	inv := &inventory.Inventory{Packages: []inventory.Package{
		{Name: "musl", Version: "garbage!!", Ecosystem: "Alpine:v3.20", Type: "apk"},
		{Name: "busybox", Version: "1.36.1-r29", Ecosystem: "Alpine:v3.20", Type: "apk"},
		{Name: "openssl", Version: "3.0.8-1", Ecosystem: "Photon OS:5.0"},
		{Name: "zlib1g", Version: "x:1.2.13", Ecosystem: "Debian:12", SourceName: "zlib"},
	}}
	res, err := Match(context.Background(), inv, src)
	if err != nil {
		t.Fatal(err)
	}
	wantPrefixes := []string{
		"ALPINE-CVE-2025-26519: musl garbage!! (Alpine:v3.20): installed version",
		"TEST-BAD-FIX: busybox 1.36.1-r29 (Alpine:v3.20): ECOSYSTEM range event \"1.2.3-rX!\"",
		"TEST-DEB: zlib x:1.2.13 (Debian:12): installed version",
		"TEST-UNSUPPORTED: openssl 3.0.8-1 (Photon OS:5.0): installed version",
	}
	if len(res.Errors) != len(wantPrefixes) {
		t.Fatalf("errors = %q", res.Errors)
	}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(res.Errors[i], p) {
			t.Errorf("error %d = %q, want prefix %q", i, res.Errors[i], p)
		}
	}
	// The listed version still matches despite the unparseable fix.
	if len(res.Findings) != 1 || res.Findings[0].ID != "TEST-BAD-FIX-LISTED" {
		t.Errorf("findings = %+v", res.Findings)
	}
}

func eco2(e ...string) []osv.Range { return []osv.Range{{Type: "ECOSYSTEM", Events: evs(e...)}} }

// TestForeignEntriesIgnored: a Source may return records whose affected
// entries name another release or package; those entries never match.
func TestForeignEntriesIgnored(t *testing.T) {
	other := rangeRec("TEST-DEB11", "Debian:11", "openssl", eco2("i", "0"))
	otherName := rangeRec("TEST-OTHER-NAME", "Debian:12", "openssl-extra", eco2("i", "0"))
	src := mapSource{testKey("Debian:12", "openssl"): {other, otherName}}
	fs, res := matchOne(t, src, deb("Debian:12", "libssl3", "3.0.11-1~deb12u1", "openssl", ""))
	if len(fs) != 0 || len(res.Errors) != 0 {
		t.Errorf("findings %v errors %v", fs, res.Errors)
	}
}

func TestSkipped(t *testing.T) {
	inv := &inventory.Inventory{Packages: []inventory.Package{
		{Name: "example.com/app", Version: "(devel)", Ecosystem: "Go", Type: "go-module"},
		{Name: "stdlib", Version: "devel go1.23-abcdef", Ecosystem: "Go", Type: "go-stdlib"},
		{Name: "thing", Version: "1.0"},
		{Name: "lodash", Version: "", Ecosystem: "npm"},
	}}
	res, err := Match(context.Background(), inv, realSource(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`example.com/app (devel) (Go): Go module version "(devel)" is not a release`,
		` (npm): no version`,
		`stdlib devel go1.23-abcdef (Go): Go toolchain version "devel go1.23-abcdef": development toolchain`,
		`thing 1.0 (): no ecosystem`,
	}
	want[1] = "lodash " + want[1]
	if diff := cmp.Diff(want, res.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

type failingSource struct{ err error }

func (f failingSource) Lookup(context.Context, string, string) ([]*osv.Vulnerability, error) {
	return nil, f.err
}

// TestLookupFailureFails: a store that cannot answer fails the match; a
// partial result would read as "clean".
func TestLookupFailureFails(t *testing.T) {
	boom := errors.New("corrupt record")
	inv := &inventory.Inventory{Packages: []inventory.Package{npm("lodash", "4.17.15")}}
	if _, err := Match(context.Background(), inv, failingSource{boom}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Match(ctx, inv, realSource(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := Match(context.Background(), inv, nil); err == nil {
		t.Error("nil source accepted")
	}
	if res, err := Match(context.Background(), nil, realSource(t)); err != nil || len(res.Findings) != 0 {
		t.Errorf("nil inventory: %+v %v", res, err)
	}
}

// FuzzRange: no installed version or event string panics range evaluation,
// in any ecosystem's version scheme, and an affected verdict's fix is one of
// the range's own fixed events.
func FuzzRange(f *testing.F) {
	f.Add("Debian:12", "1.0-1", "0", "1.0-2", "")
	f.Add("npm", "1.2.3", "1.0.0", "2.0.0", "1.5.0")
	f.Add("Alpine:v3.20", "1.2.5-r0", "0.9.13", "1.2.5-r1", "")
	f.Add("PyPI", "1.0.post1", "0", "1.0", "")
	f.Add("Maven", "2.14.1", "2.13.0", "2.15.0", "")
	f.Add("Maven", "5.0.0.RC1", "1-0.1", "5.0.0.RELEASE", "1.0.x")
	f.Add("Wolfi", "1.0_rc1~ab-r2", "1.0", "1.0.0_p1-r0", "")
	f.Add("Packagist", "v1.0-beta2", "1.x-dev", "1.0.0.0", "dev-main")
	f.Add("RubyGems", "1.0-rc1", "1.0.a", "1.0", "")
	f.Add("NuGet", "1.0.0-Alpha.1", "1.0", "1.0.0.1", "")
	f.Add("Rocky Linux:9", "1:3.0.7-27.el9", "0", "1:3.0.7-25.el9", "")
	f.Fuzz(func(t *testing.T, eco, installedV, intro, fixed, last string) {
		if len(eco)+len(installedV)+len(intro)+len(fixed)+len(last) > 512 {
			return
		}
		for _, typ := range []string{"ECOSYSTEM", "SEMVER"} {
			a := &osv.Affected{Ranges: []osv.Range{{Type: typ, Events: evs("i", intro, "f", fixed, "l", last)}}}
			v := evaluate(a, newInstalled(installedV, eco, versionCache{}), func(s string) string { return s })
			for _, fx := range v.fixed {
				if fx != fixed {
					t.Errorf("fix %q is not the range's fixed event %q", fx, fixed)
				}
			}
		}
	})
}
