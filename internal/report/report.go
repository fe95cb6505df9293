// Package report defines runlens's result document and the one streaming
// Handler that every output format implements. A saved JSON result can be
// replayed into any format with Replay.
package report

import (
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/severity"
	"github.com/runlens/runlens/internal/workload"
)

// SchemaVersion is the version of the JSON document described in
// docs/json-schema.md. Additive changes bump the minor number.
const SchemaVersion = "1.0"

// Image statuses. A failed or partial scan is never reported as clean.
const (
	StatusScanned = "scanned" // every layer read, every file examined
	StatusPartial = "partial" // results are incomplete; Error says why
	StatusFailed  = "failed"  // nothing could be scanned; Error says why
)

// Header describes the run: who scanned, with which database, what was asked.
type Header struct {
	SchemaVersion string    `json:"schema_version"`
	Scanner       Scanner   `json:"scanner"`
	CreatedAt     time.Time `json:"created_at"`
	Command       string    `json:"command"`
	Database      *Database `json:"database,omitempty"`
	Filters       Filters   `json:"filters"`
}

// Scanner identifies the runlens build.
type Scanner struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Database records the vulnerability database a run matched against.
type Database struct {
	BuiltAt    time.Time `json:"built_at"`
	AgeSeconds int64     `json:"age_seconds"`
	Advisories int       `json:"advisories"`
	Sources    []string  `json:"sources,omitempty"`
}

// Filters records which findings the output was narrowed to.
type Filters struct {
	Severities    []string `json:"severities,omitempty"`
	IgnoreUnfixed bool     `json:"ignore_unfixed,omitempty"`
}

// ImageResult is the outcome of scanning one unique image.
type ImageResult struct {
	Target image.Descriptor `json:"target"`
	// Tags are registry names ("repo:tag") that point at this digest, for
	// registry scans.
	Tags     []string            `json:"tags,omitempty"`
	Status   string              `json:"status"`
	Error    string              `json:"error,omitempty"`
	Cached   bool                `json:"cached,omitempty"`
	Distro   *inventory.Distro   `json:"distro,omitempty"`
	Packages []inventory.Package `json:"packages,omitempty"`
	// PackageCount is the number of packages found, even when Packages is
	// left out of the output.
	PackageCount int             `json:"package_count"`
	Findings     []match.Finding `json:"findings"`
	// FileErrors are files that could not be parsed; LayerIssues are tar
	// entries or layers that were refused or cut short; MatchErrors are
	// advisories that could not be evaluated.
	FileErrors  []inventory.FileError `json:"file_errors,omitempty"`
	LayerIssues []layerfs.Issue       `json:"layer_issues,omitempty"`
	MatchErrors []string              `json:"match_errors,omitempty"`
	DurationMS  int64                 `json:"duration_ms"`
	// RunningIn lists the workloads running this digest
	// ("cluster/namespace/Kind/name"), for cluster scans and registry scans
	// with --running-in.
	RunningIn []string `json:"running_in,omitempty"`
	// Running is set by registry scans with --running-in: false marks a
	// stale digest that no workload in the given clusters runs.
	Running *bool `json:"running,omitempty"`
}

// WorkloadResult is one workload of a cluster scan with the findings its
// images carry.
type WorkloadResult struct {
	workload.Workload
	// FindingsBySeverity counts findings over the workload's unique digests.
	FindingsBySeverity map[string]int `json:"findings_by_severity"`
	// Unscanned lists images whose scan failed or whose digest is unknown.
	Unscanned []string `json:"unscanned,omitempty"`
}

// Ref names the workload as "cluster/namespace/Kind/name".
func (w *WorkloadResult) Ref() string { return WorkloadRef(&w.Workload) }

// WorkloadRef names a workload as "cluster/namespace/Kind/name".
func WorkloadRef(w *workload.Workload) string {
	return w.Cluster + "/" + w.Namespace + "/" + w.Kind + "/" + w.Name
}

// ClusterResult is the funnel of one cluster: pods → containers → unique
// digests → scanned/failed → findings.
type ClusterResult struct {
	Name string `json:"name"`
	workload.Funnel
	Workloads int                `json:"workloads"`
	Scanned   int                `json:"scanned"`
	Failed    int                `json:"failed"`
	Findings  int                `json:"findings"`
	Problems  []workload.Problem `json:"problems,omitempty"`
}

// Summary totals a run.
type Summary struct {
	Tags       int            `json:"tags,omitempty"`
	Images     int            `json:"images"`
	Scanned    int            `json:"scanned"`
	Partial    int            `json:"partial"`
	Failed     int            `json:"failed"`
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"by_severity"`
	// Clusters is the per-cluster funnel of cluster scans.
	Clusters []ClusterResult `json:"clusters,omitempty"`
}

// Document is a whole JSON result as written by the JSON handler.
type Document struct {
	Header
	Images    []ImageResult    `json:"images"`
	Workloads []WorkloadResult `json:"workloads,omitempty"`
	Summary   Summary          `json:"summary"`
}

// Handler receives a run's results as they are produced. Every output
// format implements it.
type Handler interface {
	// Start is called once, before any image.
	Start(h Header) error
	// Image is called once per unique image, in the order results are ready.
	Image(r *ImageResult) error
	// Workload is called once per workload of a cluster scan.
	Workload(w *WorkloadResult) error
	// End is called once with the totals.
	End(s Summary) error
}

// Severities in descending order (severity.Words).
var Severities = severity.Words()

// SeverityRank orders severities: CRITICAL is 0, unknown words come last
// (severity.Rank).
func SeverityRank(s string) int { return severity.Rank(s) }

// Summarize totals the given results.
func Summarize(results []*ImageResult) Summary {
	s := Summary{BySeverity: map[string]int{}}
	for _, r := range results {
		s.Add(r)
	}
	return s
}

// Add counts one image result into the summary.
func (s *Summary) Add(r *ImageResult) {
	if s.BySeverity == nil {
		s.BySeverity = map[string]int{}
	}
	s.Images++
	s.Tags += len(r.Tags)
	switch r.Status {
	case StatusScanned:
		s.Scanned++
	case StatusPartial:
		s.Partial++
	default:
		s.Failed++
	}
	s.Findings += len(r.Findings)
	for _, f := range r.Findings {
		s.BySeverity[f.Severity]++
	}
}

// CountWorkload counts findings by severity over the unique digests the
// workload's containers run.
func CountWorkload(w *workload.Workload, byDigest map[string]*ImageResult) map[string]int {
	counts := map[string]int{}
	seen := map[string]bool{}
	for _, c := range w.Containers {
		r := byDigest[c.Digest]
		if c.Digest == "" || seen[c.Digest] || r == nil {
			continue
		}
		seen[c.Digest] = true
		for _, f := range r.Findings {
			counts[f.Severity]++
		}
	}
	return counts
}
