package scan

import (
	"testing"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/vulndb"
)

// TestKEVAfterCISADecision: a CVE that KEV lists after CISA decided
// "none" is active, computed from the newer listing. (No real record has
// this yet; the decision and the listing here are written for the test.)
func TestKEVAfterCISADecision(t *testing.T) {
	decided := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	cisa := &vulndb.SSVC{Exploitation: "none", Automatable: "no", TechnicalImpact: "partial", Timestamp: decided}
	f := &match.Finding{ID: "CVE-2024-0001", KEV: &match.KEV{CVE: "CVE-2024-0001", DateAdded: decided.AddDate(0, 2, 0)}}
	s := ssvcOf(f, cisa, "CVE-2024-0001", "")
	if s.Exploitation.Value != "active" || s.Exploitation.Source != "computed" || s.Automatable.Source != "cisa" {
		t.Errorf("SSVC %+v %+v", s.Exploitation, s.Automatable)
	}
	f.KEV.DateAdded = decided.AddDate(0, -2, 0) // listed before CISA decided: CISA's word stands
	if s := ssvcOf(f, cisa, "CVE-2024-0001", ""); s.Exploitation.Value != "none" || s.Exploitation.Source != "cisa" {
		t.Errorf("SSVC %+v", s.Exploitation)
	}
	// No decision: an NVD Exploit tag makes it poc.
	f.KEV = nil
	if s := ssvcOf(f, nil, "", "CVE-2024-0001"); s.Exploitation.Value != "poc" || s.Automatable != nil {
		t.Errorf("SSVC %+v %+v", s.Exploitation, s.Automatable)
	}
}
