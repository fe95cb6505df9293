package risk

import (
	"fmt"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/severity"
)

// findingView is what the ranking derives from a finding alone, once per
// finding: the three inputs that do not depend on where it runs, and the
// phrases that say them.
type findingView struct {
	exploitation    result.Input
	automatable     result.Input
	technicalImpact result.Input
	// severity is the 0–1 severity component of the score.
	severity float64
	// reasons in the order they are told.
	exploitReason, severityReason, fixReason, assumedReason string
	// facts are the finding's facts every entry of it shares.
	facts *result.FindingFacts
	// symbols is the Go symbol check of the finding, if any (code.go).
	symbols *match.GoSymbols
}

// viewFinding derives f's inputs.
func viewFinding(f *match.Finding) *findingView {
	v := &findingView{
		exploitation:    exploitationOf(f),
		automatable:     automatableOf(f),
		technicalImpact: technicalImpactOf(f),
		severity:        severityComponent(f.CVSS, f.Severity),
		symbols:         f.Symbols,
	}
	v.facts = &result.FindingFacts{Severity: f.Severity, CVSS: f.CVSS, EPSS: f.EPSS, KEV: f.KEV, KEVListed: f.KEV != nil,
		FixedVersions: f.FixedVersions, Status: result.StatusOf(f)}
	if f.CVSS != nil {
		v.facts.CVSSScore = f.CVSS.Score
	}
	if f.EPSS != nil {
		v.facts.EPSSProbability = f.EPSS.Probability
	}
	v.exploitReason = exploitReason(f, v)
	v.severityReason = severityReason(f)
	v.assumedReason = assumedReason(v)
	v.fixReason = fixReason(f)
	return v
}

// ssvcWord turns a finding's SSVC Exploitation value into the table's.
func ssvcWord(v string) string {
	if v == "poc" {
		return "public poc"
	}
	return v
}

func pointInput(p *match.SSVCPoint, value string) result.Input {
	in := result.Input{Value: value, Source: p.Source, Date: p.Date}
	switch {
	case p.Source == result.SourceCISA:
		in.Basis = []string{fmt.Sprintf("CISA SSVC decision for %s on %s", p.CVE, p.Date.Format(time.DateOnly))}
	case p.Basis != "":
		in.Basis = []string{p.Basis}
	}
	return in
}

// exploitationOf is SSVC Exploitation: the finding's SSVC point (CISA's
// or computed by the scan), raised to active when KEV lists the CVE
// (KEV is newer evidence than an older CISA decision); computed from KEV,
// exploit references and EPSS for results that carry no SSVC.
func exploitationOf(f *match.Finding) result.Input {
	var in result.Input
	if f.SSVC != nil && f.SSVC.Exploitation != nil {
		in = pointInput(f.SSVC.Exploitation, ssvcWord(f.SSVC.Exploitation.Value))
	} else {
		ei := severity.ExploitationInputs{KEV: f.KEV != nil}
		if len(f.ExploitReferences) > 0 {
			ei.ExploitReference = f.ExploitReferences[0]
		}
		if f.EPSS != nil {
			ei.HasEPSS, ei.EPSS = true, f.EPSS.Probability
		}
		value, basis := severity.Exploitation(ei)
		in = result.Input{Value: ssvcWord(value), Source: result.SourceComputed, Basis: []string{basis}}
	}
	if f.KEV != nil && in.Value != "active" {
		was := fmt.Sprintf("the SSVC point said %q (%s)", in.Value, in.Source)
		in = result.Input{Value: "active", Source: result.SourceComputed, Basis: []string{"listed in CISA KEV", was}}
	}
	return in
}

// automatableOf is SSVC Automatable: the finding's SSVC point, else from
// its CVSS vector, else assumed yes (nothing says an attack needs a
// person).
func automatableOf(f *match.Finding) result.Input {
	if f.SSVC != nil && f.SSVC.Automatable != nil {
		return pointInput(f.SSVC.Automatable, f.SSVC.Automatable.Value)
	}
	if f.CVSS != nil {
		if v, ok := severity.Automatable(severity.CVSS{Version: f.CVSS.Version, Vector: f.CVSS.Vector}); ok {
			return result.Input{Value: v, Source: result.SourceComputed, Basis: []string{f.CVSS.Vector}}
		}
	}
	return result.Input{Value: "yes", Source: result.SourceAssumed, Basis: []string{"no CISA decision and no CVSS vector: taken as automatable"}}
}

// technicalImpactOf is SSVC Technical Impact, which adjusts Human Impact:
// the finding's SSVC point, else from its CVSS vector, else assumed total.
func technicalImpactOf(f *match.Finding) result.Input {
	if f.SSVC != nil && f.SSVC.TechnicalImpact != nil {
		return pointInput(f.SSVC.TechnicalImpact, f.SSVC.TechnicalImpact.Value)
	}
	if f.CVSS != nil {
		if v, ok := severity.TechnicalImpact(severity.CVSS{Version: f.CVSS.Version, Vector: f.CVSS.Vector}); ok {
			return result.Input{Value: v, Source: result.SourceComputed, Basis: []string{f.CVSS.Vector}}
		}
	}
	return result.Input{Value: "total", Source: result.SourceAssumed, Basis: []string{"no CISA decision and no CVSS vector: taken as total"}}
}

// wordScores stand in for a CVSS base score when only a word rated the
// finding. UNKNOWN sits mid-scale: no rating is not a low rating.
var wordScores = map[string]float64{"CRITICAL": 9.5, "HIGH": 8.0, "MEDIUM": 5.5, "LOW": 2.0, "UNKNOWN": 5.0}

// severityComponent is the finding's severity on 0–1.
func severityComponent(cvss *match.CVSS, word string) float64 {
	if cvss != nil && cvss.Score > 0 {
		return cvss.Score / 10
	}
	if s, ok := wordScores[word]; ok {
		return s / 10
	}
	return wordScores["UNKNOWN"] / 10
}

func exploitReason(f *match.Finding, v *findingView) string {
	var parts []string
	if f.KEV != nil {
		s := "KEV: actively exploited"
		if !f.KEV.DateAdded.IsZero() {
			s += " (listed " + f.KEV.DateAdded.Format(time.DateOnly) + ")"
		}
		if f.KEV.KnownRansomware {
			s += ", used by ransomware"
		}
		parts = append(parts, s)
	}
	if c := cisaPhrase(f); c != "" {
		parts = append(parts, c)
	}
	if f.KEV == nil && v.exploitation.Source == result.SourceComputed && v.exploitation.Value != "none" {
		basis := strings.Join(v.exploitation.Basis, "; ")
		if !strings.HasPrefix(basis, "public exploit") {
			basis = "public PoC taken from " + basis
		}
		parts = append(parts, basis)
	}
	if f.EPSS != nil {
		parts = append(parts, fmt.Sprintf("EPSS %.1f%% (percentile %.0f)", 100*f.EPSS.Probability, 100*f.EPSS.Percentile))
	}
	if len(parts) == 0 {
		return "no known exploitation"
	}
	return strings.Join(parts, "; ")
}

// cisaPhrase says CISA's decision points in one phrase:
// "CISA SSVC 2024-07-09: exploitation poc, automatable".
func cisaPhrase(f *match.Finding) string {
	if f.SSVC == nil {
		return ""
	}
	var date time.Time
	var bits []string
	for _, p := range []struct {
		pt   *match.SSVCPoint
		word func(string) string
	}{
		{f.SSVC.Exploitation, func(v string) string { return "exploitation " + v }},
		{f.SSVC.Automatable, func(v string) string {
			if v == "yes" {
				return "automatable"
			}
			return "not automatable"
		}},
		{f.SSVC.TechnicalImpact, func(v string) string { return "technical impact " + v }},
	} {
		if p.pt == nil || p.pt.Source != result.SourceCISA {
			continue
		}
		bits = append(bits, p.word(p.pt.Value))
		if p.pt.Date.After(date) {
			date = p.pt.Date
		}
	}
	if len(bits) == 0 {
		return ""
	}
	return "CISA SSVC " + date.Format(time.DateOnly) + ": " + strings.Join(bits, ", ")
}

func severityReason(f *match.Finding) string {
	switch {
	case f.CVSS != nil && f.CVSS.Score > 0:
		return fmt.Sprintf("%s %.1f (%s)", f.Severity, f.CVSS.Score, f.CVSS.Vector)
	case f.Severity == "UNKNOWN" || f.Severity == "":
		return "severity unknown: no CVSS score or rating"
	}
	return f.Severity
}

// assumedReason says which inputs were assumed for want of data, when
// any was: the tier rests on them.
func assumedReason(v *findingView) string {
	var parts []string
	if v.automatable.Source == result.SourceAssumed {
		parts = append(parts, "automatable")
	}
	if v.technicalImpact.Source == result.SourceAssumed {
		parts = append(parts, "total technical impact")
	}
	if len(parts) == 0 {
		return ""
	}
	return "assumed " + strings.Join(parts, " and ") + ": no CISA decision and no CVSS vector"
}

func fixReason(f *match.Finding) string {
	name := f.Package.Name
	if len(f.FixedVersions) > 0 {
		return "fix: " + name + " " + strings.Join(f.FixedVersions, ", ")
	}
	switch st := result.StatusOf(f); st {
	case match.StatusAffected:
		return "no fix yet for " + name
	default:
		return "no fix: " + strings.ReplaceAll(st, "_", " ") + " (" + name + ")"
	}
}
