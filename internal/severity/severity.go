package severity

import (
	"strings"

	"github.com/runlens/runlens/internal/osv"
)

// Rating is a qualitative severity. Its order is meaningful: a higher value
// is more severe, so ratings compare with < and >.
type Rating int

// Ratings from least to most severe. Unknown means the record gave nothing
// usable; None is a CVSS score of 0.0.
const (
	Unknown Rating = iota
	None
	Low
	Medium
	High
	Critical
)

// String returns the upper-case rating word used in reports.
func (r Rating) String() string {
	switch r {
	case None:
		return "NONE"
	case Low:
		return "LOW"
	case Medium:
		return "MEDIUM"
	case High:
		return "HIGH"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// Source says where a Result's rating came from.
type Source string

// Rating sources, in the order FromRecord prefers them.
const (
	// FromNothing: the record had no usable severity.
	FromNothing Source = ""
	// FromCVSS: the base score of a CVSS vector (affected-level vectors
	// before record-level ones).
	FromCVSS Source = "cvss"
	// FromUbuntu: Ubuntu's priority (severity type "Ubuntu" or
	// ecosystem_specific.ubuntu_priority).
	FromUbuntu Source = "ubuntu_priority"
	// FromDebian: the Debian security tracker's urgency.
	FromDebian Source = "debian_urgency"
	// FromDatabase: database_specific.severity (GitHub: LOW, MODERATE,
	// HIGH, CRITICAL).
	FromDatabase Source = "database_specific"
)

// Result is the severity of one record for one affected package.
type Result struct {
	// Rating is the normalised rating.
	Rating Rating
	// Source says which data Rating came from.
	Source Source
	// CVSS is the preferred vector of the record (v3.1, v3.0, v4.0, v2.0,
	// then the highest score; see Better), nil when none parses.
	CVSS *CVSS
	// Word is the severity word exactly as the record gave it when Source
	// is a word source ("negligible", "MODERATE", "low**").
	Word string
	// DistroPriority is the distribution's own priority word as given
	// (Ubuntu priority or Debian urgency), kept even when the rating came
	// from CVSS: distributions rank some CVEs lower for their build.
	DistroPriority string
	// DistroSource is FromUbuntu or FromDebian when DistroPriority is set.
	DistroSource Source
	// DatabaseWord is database_specific.severity as given (GitHub's
	// LOW, MODERATE, HIGH, CRITICAL), kept whatever Rating came from.
	DatabaseWord string
	// Errors lists severity entries that could not be read, so a bad
	// vector is visible rather than silently ignored.
	Errors []string
}

// ParseWord normalises a rating word: CVSS words (NONE, LOW, MEDIUM, HIGH,
// CRITICAL), GitHub's MODERATE, Ubuntu priorities (negligible, low, medium,
// high, critical) and Debian urgencies (unimportant, low, medium, high, with
// the tracker's "*" and "**" markers). Words without a rating ("untriaged",
// "not yet assigned", "end-of-life") return Unknown and false.
func ParseWord(word string) (Rating, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	w = strings.TrimSpace(strings.TrimRight(w, "*"))
	switch w {
	case "critical":
		return Critical, true
	case "high", "important":
		return High, true
	case "medium", "moderate":
		return Medium, true
	case "low", "negligible", "unimportant":
		return Low, true
	case "none":
		return None, true
	}
	return Unknown, false
}

// FromRecord computes the severity of record v for one of its affected
// entries (affected may be nil for the record alone). Preference: a CVSS
// vector (affected-level first), then the distribution's priority word, then
// database_specific.severity.
func FromRecord(v *osv.Vulnerability, affected *osv.Affected) Result {
	var res Result
	if v == nil {
		return res
	}
	var ubuntuWord string
	pickCVSS := func(sev []osv.Severity) *CVSS {
		var best *CVSS
		for _, s := range sev {
			switch s.Type {
			case "CVSS_V2", "CVSS_V3", "CVSS_V4":
			case "Ubuntu":
				if ubuntuWord == "" {
					ubuntuWord = s.Score
				}
				continue
			default:
				continue
			}
			c, err := ParseCVSS(s.Score)
			if err != nil {
				res.Errors = append(res.Errors, err.Error())
				continue
			}
			if best == nil || Better(c, *best) {
				best = &c
			}
		}
		return best
	}
	var best *CVSS
	if affected != nil {
		best = pickCVSS(affected.Severity)
	}
	if recBest := pickCVSS(v.Severity); best == nil {
		best = recBest
	}

	distroWord, distroSrc := ubuntuWord, FromUbuntu
	if affected != nil {
		if distroWord == "" {
			distroWord = stringField(affected.EcosystemSpecific, "ubuntu_priority")
		}
		if distroWord == "" {
			distroWord, distroSrc = firstString(FromDebian,
				stringField(affected.EcosystemSpecific, "urgency"),
				stringField(affected.DatabaseSpecific, "urgency"))
		}
	}
	if distroWord == "" {
		distroWord, distroSrc = firstString(FromDebian, stringField(v.DatabaseSpecific, "urgency"))
	}
	res.DistroPriority = distroWord
	if distroWord != "" {
		res.DistroSource = distroSrc
	}
	var dbWord string
	if affected != nil {
		dbWord = stringField(affected.DatabaseSpecific, "severity")
	}
	if dbWord == "" {
		dbWord = stringField(v.DatabaseSpecific, "severity")
	}
	res.DatabaseWord = dbWord

	switch {
	case best != nil:
		res.CVSS = best
		res.Rating = best.Rating()
		res.Source = FromCVSS
		return res
	case distroWord != "":
		if r, ok := ParseWord(distroWord); ok {
			res.Rating, res.Source, res.Word = r, distroSrc, distroWord
			return res
		}
	}
	if r, ok := ParseWord(dbWord); ok {
		res.Rating, res.Source, res.Word = r, FromDatabase, dbWord
	}
	return res
}

func firstString(src Source, ss ...string) (string, Source) {
	for _, s := range ss {
		if s != "" {
			return s, src
		}
	}
	return "", src
}

func stringField(m map[string]any, key string) string {
	if m == nil {
		return ""
	}
	s, _ := m[key].(string)
	return strings.TrimSpace(s)
}
