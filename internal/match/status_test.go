package match

import (
	"testing"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
)

// TestDistroStatusWords is the mapping table of docs/vulndb.md: the
// urgency word of an unfixed OS entry to the finding's status.
func TestDistroStatusWords(t *testing.T) {
	for _, tc := range []struct {
		eco, field, word, want string
	}{
		{"Debian:12", "ecosystem_specific", "unimportant", StatusWillNotFix},
		{"Debian:12", "ecosystem_specific", "ignored", StatusWillNotFix},
		{"Debian:12", "ecosystem_specific", "no-dsa", StatusFixDeferred},
		{"Debian:12", "ecosystem_specific", "postponed", StatusFixDeferred},
		{"Debian:10", "ecosystem_specific", "end-of-life", StatusEndOfLife},
		{"Debian:12", "ecosystem_specific", "Unimportant*", StatusWillNotFix},
		{"Debian:12", "database_specific", "end-of-life", StatusEndOfLife},
		{"Debian:12", "ecosystem_specific", "not yet assigned", StatusAffected},
		{"Debian:12", "ecosystem_specific", "low**", StatusAffected},
		{"Debian:12", "ecosystem_specific", "high", StatusAffected},
		{"Debian:12", "ecosystem_specific", "", StatusAffected},
		{"Ubuntu:22.04:LTS", "ecosystem_specific", "negligible", StatusAffected},
		// A language ecosystem has no distribution triage.
		{"npm", "ecosystem_specific", "unimportant", StatusAffected},
	} {
		a := osv.Affected{Package: osv.Package{Ecosystem: tc.eco, Name: "p"}}
		field := map[string]any{"urgency": tc.word}
		if tc.field == "database_specific" {
			a.DatabaseSpecific = field
		} else {
			a.EcosystemSpecific = field
		}
		if got := distroStatus(&osv.Vulnerability{ID: "X"}, &a); got != tc.want {
			t.Errorf("%s %s.urgency %q: status %q, want %q", tc.eco, tc.field, tc.word, got, tc.want)
		}
	}
}

// TestMergeStatus: a fix anywhere wins, then will_not_fix, fix_deferred,
// end_of_life, affected.
func TestMergeStatus(t *testing.T) {
	for _, tc := range []struct {
		in     []string
		hasFix bool
		want   string
	}{
		{nil, true, StatusFixed},
		{[]string{StatusWillNotFix}, true, StatusFixed},
		{nil, false, StatusAffected},
		{[]string{StatusAffected, StatusFixDeferred}, false, StatusFixDeferred},
		{[]string{StatusFixDeferred, StatusWillNotFix}, false, StatusWillNotFix},
		{[]string{StatusEndOfLife, StatusAffected}, false, StatusEndOfLife},
		{[]string{StatusEndOfLife, StatusFixDeferred}, false, StatusFixDeferred},
	} {
		if got := mergeStatus(tc.in, tc.hasFix); got != tc.want {
			t.Errorf("mergeStatus(%v, %v) = %q, want %q", tc.in, tc.hasFix, got, tc.want)
		}
	}
}

// TestStatusOfRecords matches packages against the real Ubuntu records of
// testdata/osv/ubuntu and the hand-written Debian ones of
// testdata/status (see the README).
func TestStatusOfRecords(t *testing.T) {
	src := mapSource{}
	for _, v := range loadRecords(t, "testdata/osv", "testdata/status") {
		src.add(v)
	}
	deb := func(name, version, eco string) inventory.Package {
		return inventory.Package{Name: name, Version: version, Ecosystem: eco, Type: "deb"}
	}
	for _, tc := range []struct {
		pkg      inventory.Package
		id       string
		status   string
		severity string
	}{
		// UBUNTU-CVE-2023-32681: python-pip on 22.04 is "introduced: 0"
		// with no fix, priority medium.
		{deb("python-pip", "22.0.2+dfsg-1ubuntu0.4", "Ubuntu:22.04:LTS"), "CVE-2023-32681", StatusAffected, "MEDIUM"},
		// The same record fixes requests on 22.04.
		{deb("requests", "2.25.1+dfsg-2", "Ubuntu:22.04:LTS"), "CVE-2023-32681", StatusFixed, "MEDIUM"},
		// UBUNTU-CVE-2021-44228 with USN-5192-1: fixed, priority high.
		{deb("apache-log4j2", "2.10.0-2", "Ubuntu:18.04:LTS"), "CVE-2021-44228", StatusFixed, "HIGH"},
		{deb("tar", "1.34+dfsg-1.2", "Debian:12"), "CVE-2099-0001", StatusWillNotFix, "LOW"},
		{deb("tar", "1.34+dfsg-1.2", "Debian:12"), "CVE-2099-0005", StatusAffected, ""},
		{deb("curl", "7.88.1-10+deb12u5", "Debian:12"), "CVE-2099-0002", StatusFixDeferred, ""},
		{deb("openssh", "1:9.2p1-2+deb12u2", "Debian:12"), "CVE-2099-0003", StatusFixDeferred, ""},
		{deb("python2.7", "2.7.16-2+deb10u1", "Debian:10"), "CVE-2099-0004", StatusEndOfLife, ""},
	} {
		byID, _ := matchOne(t, src, tc.pkg)
		f, ok := byID[tc.id]
		if !ok {
			t.Errorf("%s %s: no finding %s (have %v)", tc.pkg.Name, tc.pkg.Ecosystem, tc.id, keysOf(byID))
			continue
		}
		if f.Status != tc.status {
			t.Errorf("%s %s %s: status %q, want %q (fixed %v)", tc.pkg.Name, tc.pkg.Ecosystem, tc.id, f.Status, tc.status, f.FixedVersions)
		}
		if tc.severity != "" && f.Severity != tc.severity {
			t.Errorf("%s %s %s: severity %q, want %q", tc.pkg.Name, tc.pkg.Ecosystem, tc.id, f.Severity, tc.severity)
		}
	}
}

// TestStatusMergedAliases: two records of one CVE for one package, one
// deferring the fix and one saying it will not come, make one finding
// that will not be fixed; a third with a fix makes it fixed.
func TestStatusMergedAliases(t *testing.T) {
	rec := func(id, urgency string, fixed string) *osv.Vulnerability {
		events := []osv.Event{{Introduced: "0"}}
		if fixed != "" {
			events = append(events, osv.Event{Fixed: fixed})
		}
		return &osv.Vulnerability{ID: id, Upstream: []string{"CVE-2099-0100"}, Affected: []osv.Affected{{
			Package:           osv.Package{Ecosystem: "Debian:12", Name: "zlib"},
			Ranges:            []osv.Range{{Type: "ECOSYSTEM", Events: events}},
			EcosystemSpecific: map[string]any{"urgency": urgency},
		}}}
	}
	pkg := inventory.Package{Name: "zlib", Version: "1:1.2.13.dfsg-1", Ecosystem: "Debian:12", Type: "deb"}
	src := mapSource{}
	src.add(rec("DEBIAN-CVE-2099-0100", "no-dsa", ""))
	src.add(rec("DLA-9999-1", "ignored", ""))
	byID, _ := matchOne(t, src, pkg)
	if f := byID["CVE-2099-0100"]; f.Status != StatusWillNotFix || len(f.Advisories) != 2 {
		t.Errorf("merged finding: status %q, advisories %v; want %q from 2", f.Status, f.Advisories, StatusWillNotFix)
	}
	src.add(rec("DSA-9999-1", "low", "1:1.2.13.dfsg-2"))
	byID, _ = matchOne(t, src, pkg)
	if f := byID["CVE-2099-0100"]; f.Status != StatusFixed {
		t.Errorf("with a fix: status %q, want %q", f.Status, StatusFixed)
	}
}

func keysOf(m map[string]Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
