package match

import (
	"context"
	"net/url"
	"strings"

	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/severity"
)

// MetricsSource is an optional interface of a Source: the CVSS scores
// NVD, the CNA and CISA ADP give a CVE, as severity candidates.
// *vulndb.DB implements it. With it, Match rates a finding that its
// advisories leave unrated (or rate only below the metrics' tier, see
// severity.Precedence) from its CVE ids.
type MetricsSource interface {
	SeverityCandidates(ctx context.Context, cve string) []severity.Candidate
}

// rate sets a finding's Severity, SeveritySource and CVSS by
// severity.Choose over its advisories' candidates and those metrics gives
// for each of its CVE ids (metrics may be nil).
func rate(ctx context.Context, f *Finding, class severity.Class, cands []severity.Candidate, cves []string, metrics MetricsSource) {
	if metrics != nil {
		for _, c := range cves {
			cands = append(cands, metrics.SeverityCandidates(ctx, c)...)
		}
	}
	ch := severity.Choose(class, cands)
	f.Severity = findingSeverity(ch.Rating)
	f.SeveritySource = string(ch.Source)
	f.CVSS = nil
	if ch.CVSS != nil {
		f.CVSS = &CVSS{Version: ch.CVSS.Version, Vector: ch.CVSS.Vector, Score: ch.CVSS.Score, Source: string(ch.CVSSSource)}
	}
}

// ratingOf collects the severity candidates of a group's hits and the
// precedence class of its package: an OS package when the advisories are
// a distribution's.
func ratingOf(hits []hit, members []int) (severity.Class, []severity.Candidate) {
	class := severity.Language
	var cands []severity.Candidate
	for _, i := range members {
		h := hits[i]
		if base, _, _ := strings.Cut(h.eco, ":"); osEcosystems[base] {
			class = severity.OSPackage
		}
		cands = append(cands, severity.AdvisoryCandidates(h.vuln.ID, h.sev)...)
	}
	return class, cands
}

// exploitHosts publish exploit code.
var exploitHosts = []string{"exploit-db.com", "packetstormsecurity.com", "packetstorm.news"}

// exploitReferences adds the references of v that show a public exploit.
func exploitReferences(out []string, v *osv.Vulnerability) []string {
	for _, r := range v.References {
		if len(out) >= maxReferences {
			break
		}
		if isExploitReference(r) && !contains(out, r.URL) {
			out = append(out, r.URL)
		}
	}
	return out
}

func isExploitReference(r osv.Reference) bool {
	if r.Type == "EVIDENCE" {
		return true
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range exploitHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// metricsOf is src's MetricsSource, or nil.
func metricsOf(src Source) MetricsSource {
	if ms, ok := src.(MetricsSource); ok {
		return ms
	}
	return nil
}
