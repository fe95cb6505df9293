package match

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestMergeUbuntuReal: USN-5192-1 (upstream UBUNTU-CVE-2021-44228) and
// UBUNTU-CVE-2021-44228 are one vulnerability; the real records become one
// Finding keyed by the CVE, matched through the source package. Ubuntu
// rates its package "high" (the CVSS vector says 10.0): for an OS package
// the distribution's priority comes first, the vector is still shown.
func TestMergeUbuntuReal(t *testing.T) {
	_, res := matchOne(t, realSource(t), deb("Ubuntu:20.04:LTS", "liblog4j2-java", "2.11.2-1", "apache-log4j2", ""))
	want := []Finding{{
		ID:         "CVE-2021-44228",
		Advisories: []string{"UBUNTU-CVE-2021-44228", "USN-5192-1"},
		Package: PackageRef{
			Name: "liblog4j2-java", Version: "2.11.2-1", Ecosystem: "Ubuntu:20.04:LTS", Type: "deb",
			SourceName: "apache-log4j2", SourceVersion: "2.11.2-1",
		},
		Severity:       "HIGH",
		SeveritySource: "ubuntu",
		CVSS:           &CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 10, Source: "ubuntu"},
		FixedVersions:  []string{"2.15.0-0.20.04.1"},
		Status:         "fixed",
		Summary:        "apache-log4j2 vulnerability",
		Published:      mustTime("2021-12-10T00:00:00Z"),
		Modified:       mustTime("2025-07-16T04:43:21Z"),
		References: []string{
			"https://ubuntu.com/security/notices/USN-5192-1",
			"https://ubuntu.com/security/CVE-2021-44228",
			"https://wiki.ubuntu.com/SecurityTeam/KnowledgeBase/Log4Shell",
			"https://github.com/apache/logging-log4j2/pull/608",
			"https://github.com/apache/logging-log4j2/commit/c77b3cb39312b83b053d23a2158b99ac7de44dd3",
		},
	}}
	if diff := cmp.Diff(want, res.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestUmbrellaReal: DSA-1819-1 (vlc, Debian 4.0) fixes eight CVEs. It is
// not an alias of any one of them, so it yields one Finding per CVE rather
// than one Finding that would call eight CVEs aliases of each other.
func TestUmbrellaReal(t *testing.T) {
	_, res := matchOne(t, realSource(t), deb("Debian:4.0", "vlc", "0.8.6-svn20061012.debian-5.1+etch2", "", ""))
	var want []Finding
	for _, n := range []string{"2008-1768", "2008-1769", "2008-1881", "2008-2147", "2008-2430", "2008-3794", "2008-4686", "2008-5032"} {
		want = append(want, Finding{
			ID:            "CVE-" + n,
			Advisories:    []string{"DSA-1819-1"},
			Aliases:       []string{"DEBIAN-CVE-" + n},
			Package:       PackageRef{Name: "vlc", Version: "0.8.6-svn20061012.debian-5.1+etch2", Ecosystem: "Debian:4.0", Type: "deb"},
			Severity:      "UNKNOWN",
			FixedVersions: []string{"0.8.6-svn20061012.debian-5.1+etch3"},
			Status:        "fixed",
			Summary:       "vlc - several vulnerabilities",
			Published:     mustTime("2009-06-18T00:00:00Z"),
			References:    []string{"https://security-tracker.debian.org/tracker/DSA-1819-1"},
		})
	}
	for i := range res.Findings {
		res.Findings[i].Modified = time.Time{}
	}
	if diff := cmp.Diff(want, res.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// The records below are written for this test (not real advisories) to
// pin the merge rules on shapes the real testdata lacks.
func rec(id string, aliases []string, fixed string, cvss string) *osv.Vulnerability {
	v := &osv.Vulnerability{
		ID: id, Aliases: aliases, Summary: "summary of " + id,
		Affected: []osv.Affected{{
			Package: osv.Package{Ecosystem: "npm", Name: "pkg"},
			Ranges:  []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: "0"}, {Fixed: fixed}}}},
		}},
	}
	if cvss != "" {
		v.Severity = []osv.Severity{{Type: "CVSS_V3", Score: cvss}}
	}
	return v
}

const (
	cvssCritical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" // 9.8
	cvssMedium   = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L" // 5.3
)

func TestMergeRules(t *testing.T) {
	withdrawn := rec("GHSA-wwww-wwww-wwww", []string{"CVE-2024-0003"}, "2.0.0", cvssCritical)
	when := mustTime("2024-01-01T00:00:00Z")
	withdrawn.Withdrawn = &when
	umbrella := rec("DSA-9999-1", nil, "1.5.0", "")
	umbrella.Upstream = []string{"CVE-2024-0001", "CVE-2024-0002"}
	numeric := rec("GHSA-nnnn-nnnn-nnnn", []string{"CVE-2024-10000", "CVE-2024-9999"}, "3.0.0", "")

	src := mapSource{}
	for _, v := range []*osv.Vulnerability{
		// Transitive: GHSA-a and GO-a share CVE-2024-0001; PYSEC-a names GO-a.
		rec("GHSA-aaaa-aaaa-aaaa", []string{"CVE-2024-0001"}, "1.10.0", cvssMedium),
		rec("GO-2024-0001", []string{"CVE-2024-0001", "GHSA-aaaa-aaaa-aaaa"}, "1.9.0", cvssCritical),
		rec("PYSEC-2024-1", []string{"GO-2024-0001"}, "1.9.0", ""),
		// No CVE: smallest advisory ID wins.
		rec("GO-2024-0002", []string{"GHSA-bbbb-bbbb-bbbb"}, "2.0.0", ""),
		rec("GHSA-bbbb-bbbb-bbbb", []string{"GO-2024-0002"}, "2.0.0", ""),
		// An umbrella joins CVE-2024-0001's group and forms CVE-2024-0002's.
		umbrella,
		// Withdrawn: skipped, its alias group does not appear.
		withdrawn,
		// CVE IDs order by number: 9999 before 10000.
		numeric,
		// Already fixed: no finding.
		rec("GHSA-ffff-ffff-ffff", []string{"CVE-2024-0005"}, "1.0.0", cvssCritical),
	} {
		src.add(v)
	}
	inv := &inventory.Inventory{Packages: []inventory.Package{{Name: "pkg", Version: "1.2.0", Ecosystem: "npm", Type: "npm"}}}
	res, err := Match(context.Background(), inv, src)
	if err != nil {
		t.Fatal(err)
	}
	pkg := PackageRef{Name: "pkg", Version: "1.2.0", Ecosystem: "npm", Type: "npm"}
	want := []Finding{
		{
			ID:         "CVE-2024-0001",
			Advisories: []string{"DSA-9999-1", "GHSA-aaaa-aaaa-aaaa", "GO-2024-0001", "PYSEC-2024-1"},
			Package:    pkg,
			// Both vectors are advisory CVSS: the higher score of the same
			// version rates it, from the Go record ("osv").
			Severity:       "CRITICAL",
			SeveritySource: "osv",
			CVSS:           &CVSS{Version: "3.1", Vector: cvssCritical, Score: 9.8, Source: "osv"},
			FixedVersions:  []string{"1.5.0", "1.9.0", "1.10.0"},
			Status:         "fixed",
			Summary:        "summary of GHSA-aaaa-aaaa-aaaa",
			References: []string{
				"https://github.com/advisories/GHSA-aaaa-aaaa-aaaa",
				"https://pkg.go.dev/vuln/GO-2024-0001",
				"https://security-tracker.debian.org/tracker/DSA-9999-1",
				"https://osv.dev/vulnerability/PYSEC-2024-1",
			},
		},
		{
			ID: "CVE-2024-0002", Advisories: []string{"DSA-9999-1"}, Package: pkg, Severity: "UNKNOWN",
			FixedVersions: []string{"1.5.0"}, Status: "fixed", Summary: "summary of DSA-9999-1",
			References: []string{"https://security-tracker.debian.org/tracker/DSA-9999-1"},
		},
		{
			ID: "CVE-2024-9999", Advisories: []string{"GHSA-nnnn-nnnn-nnnn"}, Aliases: []string{"CVE-2024-10000"},
			Package: pkg, Severity: "UNKNOWN", FixedVersions: []string{"3.0.0"}, Status: "fixed", Summary: "summary of GHSA-nnnn-nnnn-nnnn",
			References: []string{"https://github.com/advisories/GHSA-nnnn-nnnn-nnnn"},
		},
		{
			ID: "GHSA-bbbb-bbbb-bbbb", Advisories: []string{"GHSA-bbbb-bbbb-bbbb", "GO-2024-0002"},
			Package: pkg, Severity: "UNKNOWN", FixedVersions: []string{"2.0.0"}, Status: "fixed", Summary: "summary of GHSA-bbbb-bbbb-bbbb",
			References: []string{"https://github.com/advisories/GHSA-bbbb-bbbb-bbbb", "https://pkg.go.dev/vuln/GO-2024-0002"},
		},
	}
	if diff := cmp.Diff(want, res.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Stats{Packages: 1, Lookups: 1, Records: 9, Withdrawn: 1}, res.Stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

// TestDeterministic: the same inventory in any package order gives the
// same Result, and findings are sorted by severity, ID, package.
func TestDeterministic(t *testing.T) {
	src := realSource(t)
	var pkgs []inventory.Package
	for _, c := range knownCases() {
		pkgs = append(pkgs, c.pkg)
	}
	ctx := context.Background()
	first, err := Match(ctx, &inventory.Inventory{Packages: pkgs}, src)
	if err != nil {
		t.Fatal(err)
	}
	rev := make([]inventory.Package, len(pkgs))
	for i, p := range pkgs {
		rev[len(pkgs)-1-i] = p
	}
	second, err := Match(ctx, &inventory.Inventory{Packages: rev}, src)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("order changed the result (-first +reversed):\n%s", diff)
	}
	for i := 1; i < len(first.Findings); i++ {
		if compareFindings(first.Findings[i-1], first.Findings[i]) >= 0 {
			a, b := first.Findings[i-1], first.Findings[i]
			t.Errorf("not sorted at %d: %s %s %s, then %s %s %s", i, a.Severity, a.ID, a.Package.Name, b.Severity, b.ID, b.Package.Name)
		}
	}
	if first.Findings[0].Severity != "CRITICAL" || first.Findings[len(first.Findings)-1].Severity != "UNKNOWN" {
		t.Errorf("first %s, last %s", first.Findings[0].Severity, first.Findings[len(first.Findings)-1].Severity)
	}
}
