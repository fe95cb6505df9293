package severity

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func TestAutomatableAndTechnicalImpact(t *testing.T) {
	tests := []struct {
		vector, automatable, technical string
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "yes", "total"},   // log4shell
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", "yes", "total"},   // availability is not needed
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "yes", "partial"}, // a DoS
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "yes", "partial"}, // disclosure alone
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", "no", "total"},    // high complexity
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "no", "total"},    // needs privileges
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "no", "total"},    // needs a user
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H", "no", "total"},    // local (CVE-2022-1292 per NVD)
		{"CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "no", "total"},    // adjacent network
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "yes", "total"},
		{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "no", "total"}, // attack requirements
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", "yes", "partial"},
		{"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N/AU:Y", "yes", "partial"}, // explicit AU
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/AU:N", "no", "total"},
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C", "yes", "total"},
		{"AV:N/AC:M/Au:N/C:P/I:P/A:P", "no", "partial"},
	}
	for _, tt := range tests {
		c, err := ParseCVSS(tt.vector)
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := Automatable(c); !ok || a != tt.automatable {
			t.Errorf("Automatable(%s) = %q, %v; want %q", tt.vector, a, ok, tt.automatable)
		}
		if ti, ok := TechnicalImpact(c); !ok || ti != tt.technical {
			t.Errorf("TechnicalImpact(%s) = %q, %v; want %q", tt.vector, ti, ok, tt.technical)
		}
	}
	if _, ok := Automatable(CVSS{Version: "5.0", Vector: "CVSS:5.0/AV:N"}); ok {
		t.Error("Automatable of an unknown version answered")
	}
}

func TestExploitation(t *testing.T) {
	tests := []struct {
		in    ExploitationInputs
		value string
	}{
		{ExploitationInputs{KEV: true, HasEPSS: true, EPSS: 0.001}, "active"},
		{ExploitationInputs{ExploitReference: "https://www.exploit-db.com/exploits/50592"}, "poc"},
		{ExploitationInputs{HasEPSS: true, EPSS: 0.1}, "poc"},
		{ExploitationInputs{HasEPSS: true, EPSS: 0.0999}, "none"},
		{ExploitationInputs{}, "none"},
	}
	for _, tt := range tests {
		if v, basis := Exploitation(tt.in); v != tt.value || basis == "" {
			t.Errorf("Exploitation(%+v) = %q (%s), want %q", tt.in, v, basis, tt.value)
		}
	}
}

// TestComputedSSVCAgreesWithCISA computes Automatable and Technical Impact
// from the CVSS vector of each real vulnrichment record (the CNA's, else
// CISA ADP's, chosen as a finding's would be) and compares them with the
// decisions CISA made on the same records. The rules are heuristics; this
// pins how well they agree (docs/vulndb.md quotes these figures).
func TestComputedSSVCAgreesWithCISA(t *testing.T) {
	f, err := os.Open("testdata/cisa_ssvc.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n, autoOK, techOK, records int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		records++
		col := strings.Split(line, "\t")
		if len(col) != 6 {
			t.Fatalf("bad line %q", line)
		}
		var best *CVSS
		for _, vs := range col[4:] {
			for _, v := range strings.Fields(vs) {
				c, err := ParseCVSS(v)
				if err != nil {
					t.Fatalf("%s: %v", col[0], err)
				}
				if best == nil || Better(c, *best) {
					best = &c
				}
			}
			if best != nil {
				break // the CNA's vector when it gave one, else CISA ADP's
			}
		}
		if best == nil {
			continue
		}
		n++
		a, _ := Automatable(*best)
		ti, _ := TechnicalImpact(*best)
		if strings.EqualFold(a, col[2]) {
			autoOK++
		}
		if strings.EqualFold(ti, col[3]) {
			techOK++
		}
	}
	if records != 544 || n < 450 {
		t.Fatalf("%d records, %d with a CVSS vector: testdata changed?", records, n)
	}
	auto, tech := float64(autoOK)/float64(n), float64(techOK)/float64(n)
	t.Logf("%d CISA decisions with a CVSS vector: Automatable agrees on %d (%.1f%%), Technical Impact on %d (%.1f%%)", n, autoOK, 100*auto, techOK, 100*tech)
	if auto < 0.95 || tech < 0.90 {
		t.Errorf("agreement with CISA fell: Automatable %.3f (want >= 0.95), Technical Impact %.3f (want >= 0.90)", auto, tech)
	}
}
