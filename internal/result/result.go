// Package result is runlens's result model: the one document every command
// builds, filters, counts and hands to an output format. A scan of an
// image, a registry or clusters all end as a Document; `runlens report`
// reads one back. Filtering (Document.Filter), the counts derived from the
// findings (Document.Recount, CountClusters), the summary and the exit
// verdict (Document.Verdict) are made here and nowhere else.
//
// The package holds the model only. It imports the packages that define
// the types it carries (image.Descriptor, inventory.Package, layerfs.Issue,
// match.Finding, the workload model) and nothing that scans, reads a
// cluster or writes a format. docs/json-schema.md describes its JSON.
package result

import (
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/workload"
)

// SchemaVersion is the version of the JSON document described in
// docs/json-schema.md. Additive changes bump the minor number.
const SchemaVersion = "1.3"

// Statuses of an image, a registry listing or a cluster. A failed or
// partial scan is never reported as clean.
const (
	StatusScanned = "scanned" // every layer read, every file examined
	StatusPartial = "partial" // results are incomplete; Error says why
	StatusFailed  = "failed"  // nothing could be scanned; Error says why
)

// Document is a whole result: the run's header, every image by digest,
// the workloads of cluster scans, the per-(finding × workload) risks and
// the totals. Build one with New or Read.
type Document struct {
	Header
	// Images are sorted by target reference, then digest.
	Images []*Image `json:"images"`
	// Workloads are those of cluster scans, sorted by Ref.
	Workloads []*Workload `json:"workloads,omitempty"`
	// Remediation groups the risks into actions, the most risk removed
	// first.
	Remediation []Action `json:"remediation,omitempty"`
	Summary     Summary  `json:"summary"`
	// Risks rank every finding on every workload that runs it (on every
	// image, when no workload is known), most urgent first; internal/risk
	// fills them. Last in JSON, one entry per line; left out when empty.
	Risks []Risk `json:"risks,omitempty"`
}

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
	// IgnoreStatuses are the finding statuses left out (match.Statuses).
	IgnoreStatuses []string `json:"ignore_statuses,omitempty"`
}

// Image is the outcome of scanning one unique image. Registry scans also
// use it for what is not an image: a registry or repository whose listing
// failed or was cut short (a Target with a Reference and no Digest, no
// Tags), and a tag that could not be resolved (no Digest, Tags naming it).
type Image struct {
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
	PackageCount int `json:"package_count"`
	// Findings is never nil: an image without findings has an empty list.
	Findings []match.Finding `json:"findings"`
	// FileErrors are files that could not be parsed; LayerIssues are tar
	// entries or layers that were refused or cut short; MatchErrors are
	// advisories that could not be evaluated.
	FileErrors  []inventory.FileError `json:"file_errors,omitempty"`
	LayerIssues []layerfs.Issue       `json:"layer_issues,omitempty"`
	MatchErrors []string              `json:"match_errors,omitempty"`
	DurationMS  int64                 `json:"duration_ms"`
	// RunningIn lists the workloads running this digest (WorkloadRef), for
	// cluster scans and registry scans with --running-in.
	RunningIn []string `json:"running_in,omitempty"`
	// Running is set by registry scans with --running-in: false marks a
	// stale digest that no workload in the given clusters runs.
	Running *bool `json:"running,omitempty"`
}

// Workload is one workload of a cluster scan with the findings its images
// carry.
type Workload struct {
	workload.Workload
	// FindingsBySeverity counts findings over the workload's unique digests.
	FindingsBySeverity map[string]int `json:"findings_by_severity"`
	// Unscanned lists images whose scan failed or whose digest is unknown.
	Unscanned []string `json:"unscanned,omitempty"`
}

// Ref names the workload as "cluster/namespace/Kind/name".
func (w *Workload) Ref() string { return WorkloadRef(&w.Workload) }

// WorkloadRef names a workload as "cluster/namespace/Kind/name".
func WorkloadRef(w *workload.Workload) string {
	return w.Cluster + "/" + w.Namespace + "/" + w.Kind + "/" + w.Name
}

// Cluster is the funnel of one cluster: pods → containers → unique
// digests → scanned/failed → findings.
type Cluster struct {
	Name string `json:"name"`
	// Status is StatusFailed when what runs in the cluster is unknown (it
	// could not be reached, or its pods not listed), else StatusScanned;
	// other problems leave it scanned and are listed in Problems. Results
	// written before schema 1.1 have no status.
	Status string `json:"status,omitempty"`
	workload.Funnel
	Workloads int                `json:"workloads"`
	Scanned   int                `json:"scanned"`
	Failed    int                `json:"failed"`
	Findings  int                `json:"findings"`
	Problems  []workload.Problem `json:"problems,omitempty"`
	// Risk is the cluster's risk funnel; absent before the ranking.
	Risk *RiskFunnel `json:"risk_funnel,omitempty"`
}

// Summary totals a run.
type Summary struct {
	// Tags counts the registry tags of the images (registry scans).
	Tags int `json:"tags,omitempty"`
	// Images counts the image entries, registry-level entries included;
	// Scanned, Partial and Failed split them by status.
	Images   int `json:"images"`
	Scanned  int `json:"scanned"`
	Partial  int `json:"partial"`
	Failed   int `json:"failed"`
	Findings int `json:"findings"`
	// BySeverity counts findings by severity word.
	BySeverity map[string]int `json:"by_severity"`
	// Clusters is the per-cluster funnel of cluster scans.
	Clusters []Cluster `json:"clusters,omitempty"`
	// Risk is the risk funnel over the whole run; absent before the
	// ranking.
	Risk *RiskFunnel `json:"risk_funnel,omitempty"`
}
