package report

import (
	"sort"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/severity"
)

// cdxGroup is one vulnerability entry of the BOM: an advisory with the
// packages it affects that share one VEX analysis, and their risks.
type cdxGroup struct {
	advisory *advisory
	analysis *cdx.VulnerabilityAnalysis
	affects  []string
	risks    []*result.Risk
}

// cdxVulnerabilities lists the document's vulnerabilities, one entry per
// advisory and VEX analysis: packages whose risks all carry the same VEX
// statement share an entry with that analysis, the others one without.
func cdxVulnerabilities(doc *result.Document, images []*cdxImage) []cdx.Vulnerability {
	advisories := map[string]*advisory{}
	for _, a := range collectAdvisories(doc) {
		advisories[a.ID] = a
	}
	byOccurrence := map[occurrence][]*result.Risk{}
	for i := range doc.Risks {
		r := &doc.Risks[i]
		k := occurrenceKey(r.Image, r.Vulnerability, r.Package)
		byOccurrence[k] = append(byOccurrence[k], r)
	}
	groups := map[string]*cdxGroup{}
	var order []string
	for _, ci := range images {
		for _, f := range ci.img.Findings {
			risks := byOccurrence[occurrenceKey(ci.img.Target.Digest, f.ID, f.Package)]
			analysis := vexAnalysis(risks)
			key := f.ID
			if analysis != nil {
				key += "\x00" + string(analysis.State) + "\x00" + string(analysis.Justification) + "\x00" + analysis.Detail
			}
			g := groups[key]
			if g == nil {
				g = &cdxGroup{advisory: advisories[f.ID], analysis: analysis}
				groups[key] = g
				order = append(order, key)
			}
			if ref := ci.packages[findingKey(f.Package)]; ref != "" {
				g.affects = appendNew(g.affects, ref)
			}
			g.risks = append(g.risks, risks...)
		}
	}
	sort.Strings(order)
	refs := bomRefs{}
	out := make([]cdx.Vulnerability, 0, len(order))
	for _, key := range order {
		out = append(out, cdxVulnerability(groups[key], refs))
	}
	return out
}

// occurrence identifies a finding in one image: the digest, the
// vulnerability and the package as findingKey names it.
type occurrence struct {
	digest, vuln                            string
	typ, ecosystem, name, version, location string
}

// occurrenceKey identifies a finding in one image (a comparable key, so
// that grouping a large document's risks builds no string per risk).
func occurrenceKey(digest, vuln string, p match.PackageRef) occurrence {
	return occurrence{digest: digest, vuln: vuln, typ: p.Type, ecosystem: p.Ecosystem, name: p.Name, version: p.Version, location: p.Location}
}

// cdxVulnerability is one entry of the BOM's vulnerabilities.
func cdxVulnerability(g *cdxGroup, refs bomRefs) cdx.Vulnerability {
	a := g.advisory
	name, url := vulnSource(a.ID)
	v := cdx.Vulnerability{
		BOMRef: refs.take(a.ID), ID: a.ID, Source: &cdx.Source{Name: name, URL: url},
		Description: a.Summary, Detail: fullDescription(a), Analysis: g.analysis,
	}
	if ratings := cdxRatings(a); len(ratings) > 0 {
		v.Ratings = &ratings
	}
	var cwes []int
	for _, c := range a.CWEs {
		if n, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(c), "CWE-")); err == nil {
			cwes = append(cwes, n)
		}
	}
	if len(cwes) > 0 {
		v.CWEs = &cwes
	}
	if len(a.References) > 0 {
		adv := make([]cdx.Advisory, len(a.References))
		for i, ref := range a.References {
			adv[i] = cdx.Advisory{URL: ref}
		}
		v.Advisories = &adv
	}
	if len(a.Fixes) > 0 {
		steps := make([]string, len(a.Fixes))
		for i, fix := range a.Fixes {
			steps[i] = fix.Package + " to " + strings.Join(fix.Versions, " or ")
		}
		v.Recommendation = "Upgrade " + strings.Join(steps, "; ") + "."
	}
	if !a.Published.IsZero() {
		v.Published = a.Published.UTC().Format(time.RFC3339)
	}
	if !a.Modified.IsZero() {
		v.Updated = a.Modified.UTC().Format(time.RFC3339)
	}
	if len(g.affects) > 0 {
		affects := make([]cdx.Affects, len(g.affects))
		for i, ref := range g.affects {
			affects[i] = cdx.Affects{Ref: ref}
		}
		v.Affects = &affects
	}
	if props := vulnProperties(g); len(props) > 0 {
		v.Properties = &props
	}
	return v
}

// cdxRatings are an advisory's CVSS rating and, when its severity word
// came from elsewhere, that word.
func cdxRatings(a *advisory) []cdx.VulnerabilityRating {
	var out []cdx.VulnerabilityRating
	if c := a.CVSS; c != nil {
		score := c.Score
		word := severity.CVSS{Version: c.Version, Vector: c.Vector, Score: c.Score}.Rating().String()
		out = append(out, cdx.VulnerabilityRating{
			Source: ratingSource(c.Source, a.ID), Score: &score, Vector: c.Vector,
			Method: cvssMethod(c.Version), Severity: cdx.Severity(strings.ToLower(word)),
		})
	}
	if a.CVSS == nil || a.SeveritySource != a.CVSS.Source {
		out = append(out, cdx.VulnerabilityRating{
			Source: ratingSource(a.SeveritySource, a.ID), Method: cdx.ScoringMethodOther,
			Severity: cdx.Severity(strings.ToLower(a.Severity)),
		})
	}
	return out
}

// cvssMethod is CycloneDX's scoring method of a CVSS version.
func cvssMethod(version string) cdx.ScoringMethod {
	switch version {
	case "2.0":
		return cdx.ScoringMethodCVSSv2
	case "3.0":
		return cdx.ScoringMethodCVSSv3
	case "4.0":
		return cdx.ScoringMethodCVSSv4
	}
	return cdx.ScoringMethodCVSSv31
}

// ratingSource names where a rating came from (match.Finding's
// severity_source words); nil when unknown.
func ratingSource(origin, id string) *cdx.Source {
	switch origin {
	case "nvd":
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case "ghsa":
		return &cdx.Source{Name: "GitHub"}
	case "debian":
		return &cdx.Source{Name: "Debian"}
	case "ubuntu":
		return &cdx.Source{Name: "Ubuntu"}
	case "cna":
		return &cdx.Source{Name: "CNA"}
	case "cisa-adp":
		return &cdx.Source{Name: "CISA ADP"}
	case "osv":
		return &cdx.Source{Name: "OSV"}
	}
	return nil
}

// vulnProperties are an entry's ranking (the most urgent tier and the
// highest score over its risks), its exploitation data and the reasons
// its risks are suppressed.
func vulnProperties(g *cdxGroup) []cdx.Property {
	var props []cdx.Property
	if len(g.risks) > 0 {
		tier, score := g.risks[0].Tier, g.risks[0].Score
		for _, r := range g.risks[1:] {
			if result.TierRank(r.Tier) < result.TierRank(tier) {
				tier = r.Tier
			}
			score = max(score, r.Score)
		}
		props = append(props, cdx.Property{Name: cdxTier, Value: tier},
			cdx.Property{Name: cdxScore, Value: strconv.FormatFloat(score, 'f', -1, 64)})
	}
	if e := g.advisory.EPSS; e != nil {
		props = append(props, cdx.Property{Name: cdxEPSS, Value: strconv.FormatFloat(e.Probability, 'f', -1, 64)})
	}
	if k := g.advisory.KEV; k != nil {
		value := "true"
		if !k.DateAdded.IsZero() {
			value = k.DateAdded.Format("2006-01-02")
		}
		props = append(props, cdx.Property{Name: cdxKEV, Value: value})
	}
	var seen []string
	for _, r := range g.risks {
		if s := r.Suppressed; s != nil {
			seen = appendNew(seen, s.By+": "+s.Reason)
		}
	}
	for _, s := range seen {
		props = append(props, cdx.Property{Name: cdxSuppress, Value: s})
	}
	return props
}

// vexAnalysis is the CycloneDX analysis of a finding whose risks all carry
// the same VEX statement; nil when they do not (or it has none).
func vexAnalysis(risks []*result.Risk) *cdx.VulnerabilityAnalysis {
	if len(risks) == 0 || risks[0].VEX == nil {
		return nil
	}
	first := risks[0].VEX
	for _, r := range risks[1:] {
		if r.VEX == nil || r.VEX.Status != first.Status || r.VEX.Justification != first.Justification {
			return nil
		}
	}
	state, ok := vexStates[first.Status]
	if !ok {
		return nil
	}
	a := &cdx.VulnerabilityAnalysis{State: state, Justification: vexJustification(first.Justification)}
	a.Detail = first.Impact
	if a.Detail == "" {
		a.Detail = first.Action
	}
	if !first.Timestamp.IsZero() {
		a.LastUpdated = first.Timestamp.UTC().Format(time.RFC3339)
	}
	if first.Status == result.VEXAffected && first.Action != "" {
		a.Response = &[]cdx.ImpactAnalysisResponse{cdx.IARUpdate}
	}
	return a
}

// vexStates maps VEX statuses to CycloneDX analysis states.
var vexStates = map[string]cdx.ImpactAnalysisState{
	result.VEXNotAffected:        cdx.IASNotAffected,
	result.VEXFixed:              cdx.IASResolved,
	result.VEXAffected:           cdx.IASExploitable,
	result.VEXUnderInvestigation: cdx.IASInTriage,
}

// vexJustification maps an OpenVEX justification to CycloneDX's; one that
// is a CycloneDX justification already is kept, anything else dropped.
func vexJustification(j string) cdx.ImpactAnalysisJustification {
	switch j {
	case "component_not_present", "vulnerable_code_not_present":
		return cdx.IAJCodeNotPresent
	case "vulnerable_code_not_in_execute_path":
		return cdx.IAJCodeNotReachable
	case "vulnerable_code_cannot_be_controlled_by_adversary":
		return cdx.IAJRequiresEnvironment
	case "inline_mitigations_already_exist":
		return cdx.IAJProtectedByMitigatingControl
	}
	switch v := cdx.ImpactAnalysisJustification(j); v {
	case cdx.IAJCodeNotPresent, cdx.IAJCodeNotReachable, cdx.IAJRequiresConfiguration,
		cdx.IAJRequiresDependency, cdx.IAJRequiresEnvironment, cdx.IAJProtectedByCompiler,
		cdx.IAJProtectedAtRuntime, cdx.IAJProtectedAtPerimeter, cdx.IAJProtectedByMitigatingControl:
		return v
	}
	return ""
}
