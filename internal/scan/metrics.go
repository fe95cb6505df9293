package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/severity"
	"github.com/runlens/runlens/internal/vulndb"
)

// Metrics looks up what NVD and CVE 5 records say about a CVE;
// *vulndb.DB implements it. When the Scanner's Threats also implement it,
// findings get their CWEs and CISA's SSVC decision points.
type Metrics interface {
	Metrics(ctx context.Context, cve string) (vulndb.Metrics, bool)
}

// cveIDs are a finding's id and aliases that are CVE ids.
func cveIDs(f *match.Finding) []string {
	var out []string
	for _, id := range append([]string{f.ID}, f.Aliases...) {
		if strings.HasPrefix(id, "CVE-") && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// addSSVC sets each finding's CWEs (when ms is set) and SSVC decision
// points. A point CISA decided for one of the finding's CVEs is taken as
// CISA gave it (the latest decision when several CVEs have one); the
// others are computed (severity.Exploitation, Automatable,
// TechnicalImpact) from the finding's KEV listing, exploit references,
// EPSS and CVSS vector. One exception: a CVE KEV added after CISA decided
// "none" or "poc" is computed "active" — the listing is CISA's newer word.
// It runs after the EPSS and KEV join.
func addSSVC(ctx context.Context, ms Metrics, findings []match.Finding) {
	for i := range findings {
		f := &findings[i]
		var cisa *vulndb.SSVC
		var cisaCVE, nvdExploit string
		if ms != nil {
			for _, c := range cveIDs(f) {
				m, ok := ms.Metrics(ctx, c)
				if !ok {
					continue
				}
				for _, w := range m.CWEs {
					if !slices.Contains(f.CWEs, w) {
						f.CWEs = append(f.CWEs, w)
					}
				}
				if m.SSVC != nil && (cisa == nil || m.SSVC.Timestamp.After(cisa.Timestamp)) {
					cisa, cisaCVE = m.SSVC, c
				}
				if m.ExploitReference && nvdExploit == "" {
					nvdExploit = c
				}
			}
			slices.Sort(f.CWEs)
		}
		f.SSVC = ssvcOf(f, cisa, cisaCVE, nvdExploit)
	}
}

func ssvcOf(f *match.Finding, cisa *vulndb.SSVC, cisaCVE, nvdExploit string) *match.SSVC {
	s := &match.SSVC{}
	fromCISA := func(v string) *match.SSVCPoint {
		if cisa == nil || v == "" {
			return nil
		}
		return &match.SSVCPoint{Value: v, Source: "cisa", CVE: cisaCVE, Date: cisa.Timestamp}
	}
	var ex, au, ti string
	if cisa != nil {
		ex, au, ti = cisa.Exploitation, cisa.Automatable, cisa.TechnicalImpact
	}
	s.Exploitation = fromCISA(ex)
	if p := s.Exploitation; p != nil && p.Value != "active" && f.KEV != nil && f.KEV.DateAdded.After(p.Date) {
		s.Exploitation = &match.SSVCPoint{Value: "active", Source: "computed",
			Basis: fmt.Sprintf("listed in CISA KEV on %s, after CISA's decision of %s (%s)", f.KEV.DateAdded.Format("2006-01-02"), p.Date.Format("2006-01-02"), p.Value)}
	}
	if s.Exploitation == nil {
		in := severity.ExploitationInputs{KEV: f.KEV != nil}
		switch {
		case len(f.ExploitReferences) > 0:
			in.ExploitReference = f.ExploitReferences[0]
		case nvdExploit != "":
			in.ExploitReference = "a reference NVD tags Exploit for " + nvdExploit
		}
		if f.EPSS != nil {
			in.HasEPSS, in.EPSS = true, f.EPSS.Probability
		}
		v, basis := severity.Exploitation(in)
		s.Exploitation = &match.SSVCPoint{Value: v, Source: "computed", Basis: basis}
	}
	s.Automatable, s.TechnicalImpact = fromCISA(au), fromCISA(ti)
	if c := f.CVSS; c != nil {
		v := severity.CVSS{Version: c.Version, Vector: c.Vector, Score: c.Score}
		basis := c.Vector
		if !strings.HasPrefix(basis, "CVSS:") {
			basis = "CVSS:2.0 " + basis
		}
		if s.Automatable == nil {
			if a, ok := severity.Automatable(v); ok {
				s.Automatable = &match.SSVCPoint{Value: a, Source: "computed", Basis: basis}
			}
		}
		if s.TechnicalImpact == nil {
			if ti, ok := severity.TechnicalImpact(v); ok {
				s.TechnicalImpact = &match.SSVCPoint{Value: ti, Source: "computed", Basis: basis}
			}
		}
	}
	return s
}
