package scan_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/match"
)

// TestSSVCReachFindings scans the bundled sample with a store of all its
// advisories, EPSS, KEV, NVD and CVE 5 records: CISA's decision points
// (from the CISA ADP container of the CVE 5 records) appear on the
// findings whose CVE has one, marked cisa with their date; the others get
// computed points saying what they were computed from.
func TestSSVCReachFindings(t *testing.T) {
	res := scanSample(t)
	byKey := map[string]match.Finding{}
	for _, f := range res.Findings {
		byKey[f.ID+" "+f.Package.Name] = f
		if f.SSVC == nil || f.SSVC.Exploitation == nil {
			t.Errorf("%s %s: no SSVC exploitation", f.ID, f.Package.Name)
		}
	}
	cisa := func(v, cve, date string) *match.SSVCPoint {
		d, _ := time.Parse(time.RFC3339, date)
		return &match.SSVCPoint{Value: v, Source: "cisa", CVE: cve, Date: d}
	}
	log4shell := byKey["CVE-2021-44228 org.apache.logging.log4j:log4j-core"]
	want := &match.SSVC{
		Exploitation:    cisa("active", "CVE-2021-44228", "2025-02-04T14:25:34Z"),
		Automatable:     cisa("yes", "CVE-2021-44228", "2025-02-04T14:25:34Z"),
		TechnicalImpact: cisa("total", "CVE-2021-44228", "2025-02-04T14:25:34Z"),
	}
	if diff := cmp.Diff(want, log4shell.SSVC); diff != "" {
		t.Errorf("log4shell SSVC (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CWE-20", "CWE-400", "CWE-502", "CWE-917"}, log4shell.CWEs); diff != "" {
		t.Errorf("log4shell CWEs (-want +got):\n%s", diff)
	}
	if len(log4shell.ExploitReferences) == 0 {
		t.Error("log4shell: no exploit references from its advisory (Packet Storm pages)")
	}
	// CVE-2024-45590 (body-parser): CISA decided none/yes/partial.
	bp := byKey["CVE-2024-45590 body-parser"].SSVC
	if bp == nil || bp.Automatable == nil || bp.Automatable.Value != "yes" || bp.Automatable.Source != "cisa" || bp.Automatable.CVE != "CVE-2024-45590" ||
		bp.Exploitation.Value != "none" || bp.TechnicalImpact.Value != "partial" || bp.Exploitation.Date.IsZero() {
		t.Errorf("body-parser SSVC %+v", bp)
	}
	// CVE-2022-1292 has no CISA decision: EPSS 0.826 makes it poc; NVD's
	// local vector makes it not automatable, with total impact.
	ossl := byKey["CVE-2022-1292 openssl"]
	if s := ossl.SSVC; s == nil || s.Exploitation.Value != "poc" || s.Exploitation.Source != "computed" ||
		s.Automatable == nil || s.Automatable.Value != "no" || s.TechnicalImpact == nil || s.TechnicalImpact.Value != "total" ||
		s.TechnicalImpact.Basis != ossl.CVSS.Vector {
		t.Errorf("openssl CVE-2022-1292: SSVC %+v %+v %+v, CVSS %+v", s.Exploitation, s.Automatable, s.TechnicalImpact, ossl.CVSS)
	}
	// No CVSS anywhere: only Exploitation.
	std := byKey["CVE-2026-33818 stdlib"]
	if std.Severity != "UNKNOWN" || std.SSVC.Automatable != nil || std.SSVC.TechnicalImpact != nil || std.SSVC.Exploitation.Value != "none" {
		t.Errorf("stdlib CVE-2026-33818: %s, SSVC %+v", std.Severity, std.SSVC)
	}
}
