package severity

import (
	"fmt"
	"strings"
)

// SSVC decision points computed when CISA gave none. CISA's SSVC guide
// defines them in words; these rules read them off what runlens knows.
// docs/vulndb.md gives each rule with its agreement with CISA's own
// decisions on the real vulnrichment records in the test data.

// EPSSProofOfConcept is the EPSS probability at or above which a CVE with
// no KEV listing and no exploit reference is taken to have Exploitation
// "poc": one in ten odds of exploitation activity within 30 days is
// treated as evidence that exploit code exists.
const EPSSProofOfConcept = 0.1

// ExploitationInputs is what the Exploitation decision point is computed
// from.
type ExploitationInputs struct {
	// KEV: CISA's Known Exploited Vulnerabilities catalog lists the CVE.
	KEV bool
	// ExploitReference is a reference that shows a public exploit (an
	// advisory reference of type EVIDENCE, an exploit-db or Packet Storm
	// page, a reference NVD tags "Exploit"); empty when none.
	ExploitReference string
	// HasEPSS and EPSS are the CVE's EPSS probability.
	HasEPSS bool
	EPSS    float64
}

// Exploitation computes SSVC Exploitation: "active" when KEV lists the
// CVE; "poc" when a reference shows a public exploit or EPSS is at least
// EPSSProofOfConcept; else "none". basis says which input decided.
func Exploitation(in ExploitationInputs) (value, basis string) {
	switch {
	case in.KEV:
		return "active", "listed in CISA KEV"
	case in.ExploitReference != "":
		return "poc", "public exploit: " + in.ExploitReference
	case in.HasEPSS && in.EPSS >= EPSSProofOfConcept:
		return "poc", fmt.Sprintf("EPSS %.5f >= %.1f", in.EPSS, EPSSProofOfConcept)
	}
	return "none", "no KEV listing, exploit reference or high EPSS"
}

// vectorMetrics splits a CVSS vector into its metrics ("AV" → "N").
func vectorMetrics(vector string) map[string]string {
	m := map[string]string{}
	for _, p := range strings.Split(strings.Trim(strings.TrimSpace(vector), "()"), "/") {
		if k, v, ok := strings.Cut(p, ":"); ok && k != "CVSS" {
			m[k] = v
		}
	}
	return m
}

// Automatable computes SSVC Automatable from a CVSS vector: "yes" when an
// attacker can reach the flaw over the network with low complexity, no
// privileges and no user interaction (v3: AV:N/AC:L/PR:N/UI:N; v4 also
// AT:N; v2: AV:N/AC:L/Au:N), the conditions under which reconnaissance,
// weaponization, delivery and exploitation — steps 1-4 of the kill chain
// — can be automated; "no" otherwise. A CVSS v4.0 vector's own
// Automatable supplemental metric (AU:Y, AU:N) is used as given. ok is
// false for a vector of no known version.
func Automatable(c CVSS) (value string, ok bool) {
	m := vectorMetrics(c.Vector)
	yes := false
	switch c.Version {
	case "4.0":
		switch m["AU"] {
		case "Y":
			return "yes", true
		case "N":
			return "no", true
		}
		yes = m["AV"] == "N" && m["AC"] == "L" && m["AT"] == "N" && m["PR"] == "N" && m["UI"] == "N"
	case "3.0", "3.1":
		yes = m["AV"] == "N" && m["AC"] == "L" && m["PR"] == "N" && m["UI"] == "N"
	case "2.0":
		yes = m["AV"] == "N" && m["AC"] == "L" && m["Au"] == "N"
	default:
		return "", false
	}
	if yes {
		return "yes", true
	}
	return "no", true
}

// TechnicalImpact computes SSVC Technical Impact from a CVSS vector:
// "total" when the exploit gives both total disclosure and total control
// of the vulnerable component — high confidentiality and high integrity
// impact (v3: C:H/I:H; v4: VC:H/VI:H on the vulnerable system; v2:
// C:C/I:C) — and "partial" otherwise. Availability is not required: losing
// availability alone gives no control, and full read and write access is
// total control whether or not the component also goes down.
func TechnicalImpact(c CVSS) (value string, ok bool) {
	m := vectorMetrics(c.Vector)
	total := false
	switch c.Version {
	case "4.0":
		total = m["VC"] == "H" && m["VI"] == "H"
	case "3.0", "3.1":
		total = m["C"] == "H" && m["I"] == "H"
	case "2.0":
		total = m["C"] == "C" && m["I"] == "C"
	default:
		return "", false
	}
	if total {
		return "total", true
	}
	return "partial", true
}
