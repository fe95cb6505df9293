// Package severity turns the severity data of an OSV record into one rating:
// a CVSS base score computed from the vector (v2, v3.0, v3.1, v4.0), else a
// distribution's priority word (Ubuntu priority, Debian urgency), else the
// GitHub database_specific.severity word.
package severity

import (
	"errors"
	"fmt"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// CVSS is one parsed vector with its computed base score.
type CVSS struct {
	// Version is "2.0", "3.0", "3.1" or "4.0".
	Version string
	// Vector is the vector as given in the record (trimmed).
	Vector string
	// Score is the base score, 0.0-10.0.
	Score float64
}

// ErrUnknownVector is returned for a string that is not a CVSS vector of a
// known version.
var ErrUnknownVector = errors.New("not a CVSS v2, v3.0, v3.1 or v4.0 vector")

// v4Base are the CVSS v4.0 base metrics, in the specification's order. The
// base score (CVSS-B) uses only these, so threat, environmental and
// supplemental metrics are dropped before scoring.
var v4Base = []string{"AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"}

// ParseCVSS parses a vector of any supported version and computes its base
// score. The version comes from the vector's prefix ("CVSS:3.1/", "CVSS:4.0/");
// a vector without a prefix is read as CVSS v2, optionally in parentheses as
// NVD used to print them.
func ParseCVSS(vector string) (CVSS, error) {
	vec := strings.TrimSpace(vector)
	switch {
	case strings.HasPrefix(vec, "CVSS:4.0/"):
		v, err := gocvss40.ParseVector(vec)
		if err != nil {
			return CVSS{}, fmt.Errorf("cvss 4.0 vector %q: %w", vec, err)
		}
		base, err := v4BaseOnly(v)
		if err != nil {
			return CVSS{}, fmt.Errorf("cvss 4.0 vector %q: %w", vec, err)
		}
		return CVSS{Version: "4.0", Vector: vec, Score: base.Score()}, nil
	case strings.HasPrefix(vec, "CVSS:3.1/"):
		v, err := gocvss31.ParseVector(vec)
		if err != nil {
			return CVSS{}, fmt.Errorf("cvss 3.1 vector %q: %w", vec, err)
		}
		return CVSS{Version: "3.1", Vector: vec, Score: v.BaseScore()}, nil
	case strings.HasPrefix(vec, "CVSS:3.0/"):
		v, err := gocvss30.ParseVector(vec)
		if err != nil {
			return CVSS{}, fmt.Errorf("cvss 3.0 vector %q: %w", vec, err)
		}
		return CVSS{Version: "3.0", Vector: vec, Score: v.BaseScore()}, nil
	case strings.HasPrefix(vec, "CVSS:"):
		return CVSS{}, fmt.Errorf("%q: %w", vec, ErrUnknownVector)
	}
	v2 := strings.TrimSuffix(strings.TrimPrefix(vec, "("), ")")
	if !strings.HasPrefix(v2, "AV:") {
		return CVSS{}, fmt.Errorf("%q: %w", vec, ErrUnknownVector)
	}
	v, err := gocvss20.ParseVector(v2)
	if err != nil {
		return CVSS{}, fmt.Errorf("cvss 2.0 vector %q: %w", vec, err)
	}
	return CVSS{Version: "2.0", Vector: vec, Score: v.BaseScore()}, nil
}

func v4BaseOnly(v *gocvss40.CVSS40) (*gocvss40.CVSS40, error) {
	var b strings.Builder
	b.WriteString("CVSS:4.0")
	for _, m := range v4Base {
		val, err := v.Get(m)
		if err != nil {
			return nil, err
		}
		b.WriteString("/" + m + ":" + val)
	}
	return gocvss40.ParseVector(b.String())
}

// Rating is the rating word of the score under the vector's own version:
// CVSS v3 and v4 use NONE/LOW/MEDIUM/HIGH/CRITICAL; CVSS v2 (NVD's scale)
// has only LOW (0-3.9), MEDIUM (4.0-6.9) and HIGH (7.0-10.0).
func (c CVSS) Rating() Rating {
	if c.Version == "2.0" {
		switch {
		case c.Score >= 7.0:
			return High
		case c.Score >= 4.0:
			return Medium
		default:
			return Low
		}
	}
	switch {
	case c.Score >= 9.0:
		return Critical
	case c.Score >= 7.0:
		return High
	case c.Score >= 4.0:
		return Medium
	case c.Score >= 0.1:
		return Low
	default:
		return None
	}
}

// versionRank orders CVSS versions for choosing a record's vector: v3.1,
// v3.0, v4.0, v2.0. CVSS v3 comes first because it is the version advisory
// databases rate by today (GitHub's severity word and NVD's primary score
// follow it); v4.0 scores the same flaw differently (express
// CVE-2024-43796: v3.1 5.0 MEDIUM, v4.0 2.3 LOW, GitHub says MODERATE), so
// it is used when no v3 vector exists; v2 is retired and used last.
func versionRank(v string) int {
	switch v {
	case "3.1":
		return 4
	case "3.0":
		return 3
	case "4.0":
		return 2
	case "2.0":
		return 1
	}
	return 0
}

// Better reports whether a should be preferred over b as a record's CVSS:
// by version (see versionRank), then the higher score.
func Better(a, b CVSS) bool {
	ra, rb := versionRank(a.Version), versionRank(b.Version)
	if ra != rb {
		return ra > rb
	}
	return a.Score > b.Score
}
