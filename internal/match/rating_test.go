package match

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/severity"
	"github.com/runlens/runlens/internal/vulndb"
)

// TestSampleSeverities matches the bundled sample's packages against a
// store of all its advisories, NVD and CVE 5 records and checks each
// finding's severity, its source and the vector that rated it against
// expected.json, worked out from the raw records (see EXPECTED.md): the
// Debian findings rated by NVD (CVE-2022-1292 HIGH 7.3, NVD's local-attack
// analysis), the Go findings by NVD through their CVE aliases, UNKNOWN
// only where no record has anything.
func TestSampleSeverities(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sampleDir, "expected.json"))
	if err != nil {
		t.Fatalf("the bundled sample's expected findings: %v", err)
	}
	var exp struct {
		Findings []struct {
			samplePair
			Severity       string `json:"severity"`
			SeveritySource string `json:"severity_source"`
			CVSSVector     string `json:"cvss_vector"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := vulndb.Import(ctx, dir, vulndb.ClassifyDir(filepath.Join(sampleDir, "advisories"))...); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Metadata().Metrics == nil {
		t.Fatal("the sample database has no CVE metrics: advisories/nvd and advisories/cve are missing")
	}
	for _, e := range exp.Findings {
		pkg := inventory.Package{Name: e.Package, Version: e.Version, Ecosystem: e.Ecosystem}
		if e.SourcePackage != "" {
			pkg.Type, pkg.SourceName, pkg.SourceVersion = "deb", e.SourcePackage, e.Version
		}
		_, res := matchOne(t, db, pkg)
		var f *Finding
		for i := range res.Findings {
			for _, a := range res.Findings[i].Advisories {
				if a == e.Advisory {
					f = &res.Findings[i]
				}
			}
		}
		if f == nil {
			t.Errorf("%s %s: %s not found", e.Package, e.Version, e.Advisory)
			continue
		}
		if f.Severity != e.Severity || f.SeveritySource != e.SeveritySource {
			t.Errorf("%s %s: %s rated %s from %q, want %s from %q", e.Package, e.Advisory, f.ID, f.Severity, f.SeveritySource, e.Severity, e.SeveritySource)
		}
		if e.CVSSVector != "" && (f.CVSS == nil || f.CVSS.Vector != e.CVSSVector || f.CVSS.Source != e.SeveritySource) {
			t.Errorf("%s %s: CVSS %+v, want %s from %s", e.Package, e.Advisory, f.CVSS, e.CVSSVector, e.SeveritySource)
		}
		if (f.Severity == "UNKNOWN") != (f.SeveritySource == "") {
			t.Errorf("%s %s: severity %s with source %q", e.Package, e.Advisory, f.Severity, f.SeveritySource)
		}
		if e.Advisory == "DLA-3008-1" && (f.CVSS == nil || f.CVSS.Score != 7.3) {
			t.Errorf("CVE-2022-1292: CVSS %+v, want NVD's 7.3", f.CVSS)
		}
	}
}

// fakeMetrics answers SeverityCandidates from a map.
type fakeMetrics struct {
	mapSource
	cands map[string][]severity.Candidate
}

func (f fakeMetrics) SeverityCandidates(_ context.Context, cve string) []severity.Candidate {
	return f.cands[cve]
}

// TestOSPrecedenceThroughMatch: an OS package's distribution urgency
// (a Debian record written for this test: the real DLA exports carry
// none) rates it before NVD, whose vector the finding still shows; the
// same advisory data for a language package is rated by NVD.
func TestOSPrecedenceThroughMatch(t *testing.T) {
	nvd := severity.CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}
	src := fakeMetrics{mapSource: mapSource{}, cands: map[string][]severity.Candidate{
		"CVE-2024-1111": {{Origin: severity.OriginNVD, Rating: severity.Critical, CVSS: &nvd, Ref: "CVE-2024-1111"}},
	}}
	src.add(&osv.Vulnerability{ID: "DEBIAN-CVE-2024-1111", Affected: []osv.Affected{{
		Package:           osv.Package{Ecosystem: "Debian:12", Name: "zlib"},
		Ranges:            []osv.Range{{Type: "ECOSYSTEM", Events: []osv.Event{{Introduced: "0"}, {Fixed: "1:1.3-1"}}}},
		EcosystemSpecific: map[string]any{"urgency": "low"},
	}}})
	_, res := matchOne(t, src, deb("Debian:12", "zlib1g", "1:1.2.13-1", "zlib", ""))
	if len(res.Findings) != 1 {
		t.Fatalf("findings %+v", res.Findings)
	}
	f := res.Findings[0]
	if f.Severity != "LOW" || f.SeveritySource != "debian" || f.CVSS == nil || f.CVSS.Source != "nvd" || f.CVSS.Score != 9.8 {
		t.Errorf("Debian finding: %s from %q, CVSS %+v; want LOW from debian showing NVD's 9.8 vector", f.Severity, f.SeveritySource, f.CVSS)
	}

	src.add(&osv.Vulnerability{ID: "GO-2024-1111", Aliases: []string{"CVE-2024-1111"}, Affected: []osv.Affected{{
		Package: osv.Package{Ecosystem: "Go", Name: "example.com/m"},
		Ranges:  []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: "0"}, {Fixed: "1.1.0"}}}},
	}}})
	_, res = matchOne(t, src, inventory.Package{Name: "example.com/m", Version: "1.0.0", Ecosystem: "Go"})
	if len(res.Findings) != 1 || res.Findings[0].Severity != "CRITICAL" || res.Findings[0].SeveritySource != "nvd" {
		t.Errorf("Go finding %+v, want CRITICAL from nvd through its CVE alias", res.Findings)
	}
}
