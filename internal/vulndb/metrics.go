package vulndb

import (
	"context"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/runlens/runlens/internal/severity"
)

// Metrics is what NVD and the CVE List say about one CVE: every CVSS
// vector with who scored it, the CWEs, CISA's SSVC decision, and whether
// CISA or NVD mark it as exploited.
type Metrics struct {
	// CVE is the CVE id that answered.
	CVE string
	// Published is the earliest publication date the records give;
	// Modified the latest modification.
	Published, Modified time.Time
	// NVDModified and CVE5Modified are the lastModified of the NVD record
	// and the dateUpdated of the CVE 5 record (zero when absent).
	NVDModified, CVE5Modified time.Time
	// CVSS lists every vector, NVD's record first, then the CVE 5 record's
	// (a vector both give is listed once).
	CVSS []CVSSMetric
	// CWEs are the weaknesses named ("CWE-78", "NVD-CWE-noinfo"), sorted.
	CWEs []string
	// SSVC is CISA's decision (from the CISA ADP container of the CVE 5
	// record, or NVD's copy of it); nil when CISA gave none.
	SSVC *SSVC
	// KEV is set when the CISA ADP container or NVD's record carries the
	// KEV listing (cisaExploitAdd).
	KEV bool
	// ExploitReference is set when NVD tags a reference of the record
	// "Exploit".
	ExploitReference bool
	// Sources lists the records that contributed: "nvd", "cve5".
	Sources []string
}

// CVSSMetric is one CVSS vector of a CVE.
type CVSSMetric struct {
	// Scorer classifies who scored it: "nvd" (NVD's own analysis, its
	// Primary score), "cna" (the CNA that assigned the CVE), "cisa-adp"
	// (CISA's vulnrichment container) or "other".
	Scorer string
	// Source names the scorer as the record does: "nvd@nist.gov", a CNA's
	// e-mail, UUID or short name, "CISA-ADP".
	Source string
	// Type is NVD's "Primary" or "Secondary"; empty for CVE 5 scores.
	Type string
	// From is the record it came from: "nvd" or "cve5".
	From string
	// Version is "2.0", "3.0", "3.1" or "4.0"; Vector the vector (CVSS
	// v4.0 vectors without their Not Defined metrics); Score its base score.
	Version, Vector string
	Score           float64
}

// SSVC is CISA's Stakeholder-Specific Vulnerability Categorization
// decision points for a CVE.
type SSVC struct {
	// Exploitation is "none", "poc" or "active"; Automatable "yes" or
	// "no"; TechnicalImpact "partial" or "total". Empty when not given.
	Exploitation, Automatable, TechnicalImpact string
	// Timestamp is when CISA made the decision.
	Timestamp time.Time
	// From is the record it came from: "cve5" or "nvd".
	From string
}

// Metrics returns what NVD and CVE 5 records say about a CVE id. Only CVE
// ids have metrics; callers join a finding through its id and aliases.
func (db *DB) Metrics(ctx context.Context, cve string) (Metrics, bool) {
	if ctx.Err() != nil || db.closed.Load() || !strings.HasPrefix(cve, "CVE-") {
		return Metrics{}, false
	}
	i, ok := db.metrics.find(cve)
	if !ok {
		return Metrics{}, false
	}
	row, err := decodeRow(bytesString(db.metrics.val(i)), db.metricString)
	if err != nil {
		return Metrics{}, false // the section checksum makes this a crafted file
	}
	return row.view(strings.Clone(cve)), true
}

// metricString resolves an index of the strings table: the string (copied
// out of the mapping) and, for a vector, its stored score.
func (db *DB) metricString(i uint64) (string, float64, bool) {
	if i >= uint64(db.strs.n) {
		return "", 0, false
	}
	s := strings.Clone(db.strs.key(int(i)))
	var score float64
	if v := db.strs.val(int(i)); len(v) == 1 {
		score = float64(v[0]) / 10
	}
	return s, score, true
}

// view merges the parts of a row into the public form.
func (r metricRow) view(cve string) Metrics {
	m := Metrics{CVE: cve}
	add := func(p *metricPart, from string) {
		if p == nil {
			return
		}
		m.Sources = append(m.Sources, from)
		pub, mod := unixTime(p.published), unixTime(p.modified)
		if !pub.IsZero() && (m.Published.IsZero() || pub.Before(m.Published)) {
			m.Published = pub
		}
		if mod.After(m.Modified) {
			m.Modified = mod
		}
		if from == "nvd" {
			m.NVDModified = mod
		} else {
			m.CVE5Modified = mod
		}
		m.KEV = m.KEV || p.kev
		m.ExploitReference = m.ExploitReference || p.exploitRef
		for _, c := range p.cvss {
			if slices.ContainsFunc(m.CVSS, func(o CVSSMetric) bool {
				return o.Vector == c.vector && o.Scorer == scorerNames[c.scorer]
			}) {
				continue
			}
			cm := CVSSMetric{Scorer: scorerNames[c.scorer], Source: c.source, From: from, Version: vectorVersion(c.vector), Vector: c.vector, Score: c.score}
			if from == "nvd" {
				cm.Type = "Secondary"
				if c.primary {
					cm.Type = "Primary"
				}
			}
			m.CVSS = append(m.CVSS, cm)
		}
		for _, w := range p.cwes {
			if !slices.Contains(m.CWEs, w) {
				m.CWEs = append(m.CWEs, w)
			}
		}
		if s := p.ssvc; s != nil && (m.SSVC == nil || unixTime(s.timestamp).After(m.SSVC.Timestamp)) {
			m.SSVC = &SSVC{
				Exploitation: ssvcExploitation[s.exploitation], Automatable: ssvcAutomatable[s.automatable],
				TechnicalImpact: ssvcTechnical[s.technical], Timestamp: unixTime(s.timestamp), From: from,
			}
		}
	}
	add(r.nvd, "nvd")
	add(r.cve5, "cve5")
	slices.Sort(m.CWEs)
	return m
}

// Candidates turns the CVSS vectors into severity candidates for
// severity.Choose: NVD's Primary scores, the CNA's and CISA ADP's. Other
// Secondary scores are not used for a finding's severity.
func (m Metrics) Candidates() []severity.Candidate {
	var out []severity.Candidate
	for _, c := range m.CVSS {
		var o severity.Origin
		switch {
		case c.Scorer == "nvd" && c.Type == "Primary":
			o = severity.OriginNVD
		case c.Scorer == "cna":
			o = severity.OriginCNA
		case c.Scorer == "cisa-adp":
			o = severity.OriginCISAADP
		default:
			continue
		}
		v := severity.CVSS{Version: c.Version, Vector: c.Vector, Score: c.Score}
		out = append(out, severity.Candidate{Origin: o, Rating: v.Rating(), CVSS: &v, Ref: m.CVE})
	}
	return out
}

func unixTime(s int64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// vectorVersion names the CVSS version of a stored vector by its prefix.
func vectorVersion(v string) string {
	switch {
	case strings.HasPrefix(v, "CVSS:4.0/"):
		return "4.0"
	case strings.HasPrefix(v, "CVSS:3.1/"):
		return "3.1"
	case strings.HasPrefix(v, "CVSS:3.0/"):
		return "3.0"
	}
	return "2.0"
}

// bytesString views b as a string without copying; the caller must not
// keep the string past the mapping.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// SeverityCandidates is the CVSS of a CVE as severity candidates
// (Metrics(ctx, cve).Candidates()): with it the store is a
// match.MetricsSource, so Match rates findings with NVD's, the CNA's and
// CISA ADP's scores.
func (db *DB) SeverityCandidates(ctx context.Context, cve string) []severity.Candidate {
	m, ok := db.Metrics(ctx, cve)
	if !ok {
		return nil
	}
	return m.Candidates()
}
