// Package osv holds the subset of the OSV schema (https://ossf.github.io/osv-schema/)
// that runlens reads. It is decoded with encoding/json; unknown fields are
// ignored so records of every schema_version load.
package osv

import "time"

// Vulnerability is one OSV record.
type Vulnerability struct {
	SchemaVersion    string         `json:"schema_version,omitempty"`
	ID               string         `json:"id"`
	Modified         time.Time      `json:"modified"`
	Published        time.Time      `json:"published,omitempty"`
	Withdrawn        *time.Time     `json:"withdrawn,omitempty"`
	Aliases          []string       `json:"aliases,omitempty"`
	Related          []string       `json:"related,omitempty"`
	Upstream         []string       `json:"upstream,omitempty"`
	Summary          string         `json:"summary,omitempty"`
	Details          string         `json:"details,omitempty"`
	Severity         []Severity     `json:"severity,omitempty"`
	Affected         []Affected     `json:"affected,omitempty"`
	References       []Reference    `json:"references,omitempty"`
	DatabaseSpecific map[string]any `json:"database_specific,omitempty"`
}

// Severity is one scored severity of a record or of one affected package.
type Severity struct {
	Type  string `json:"type"`  // CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu
	Score string `json:"score"` // a vector, or a word for Ubuntu
}

// Package names an affected package.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Affected is one affected package with its ranges and versions.
type Affected struct {
	Package           Package        `json:"package"`
	Severity          []Severity     `json:"severity,omitempty"`
	Ranges            []Range        `json:"ranges,omitempty"`
	Versions          []string       `json:"versions,omitempty"`
	EcosystemSpecific map[string]any `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  map[string]any `json:"database_specific,omitempty"`
}

// Range is a list of events over one version scheme.
type Range struct {
	Type   string  `json:"type"` // ECOSYSTEM, SEMVER, GIT
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one point in a range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link with its kind.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}
