package match

import (
	"time"

	"github.com/runlens/runlens/internal/gosym"
)

// Finding is one vulnerability affecting one package. Advisories that are
// aliases of each other (CVE, GHSA, GO-, DSA...) merge into one Finding.
type Finding struct {
	// ID is the finding's display identifier: the CVE when the group has
	// one, otherwise the first advisory ID in sorted order.
	ID string `json:"id"`
	// Advisories are the OSV record IDs merged into this finding, sorted.
	Advisories []string `json:"advisories"`
	// Aliases are all other identifiers of the group, sorted.
	Aliases []string `json:"aliases,omitempty"`
	// Package is the affected package (index into the inventory is not
	// stable across scans, so the fields are copied).
	Package PackageRef `json:"package"`
	// Severity is CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN, chosen by
	// severity.Choose from the advisories' data and, when the Source knows
	// them (MetricsSource), the CVE's NVD, CNA and CISA ADP scores; UNKNOWN
	// only when none of them rates it.
	Severity string `json:"severity"`
	// SeveritySource says where Severity came from: "debian", "ubuntu"
	// (the distribution's priority), "ghsa", "osv" (a matched advisory's
	// own CVSS or word), "nvd", "cna", "cisa-adp" (the CVE's metrics).
	// Empty with UNKNOWN.
	SeveritySource string `json:"severity_source,omitempty"`
	// CVSS is the vector the finding is rated by (or, when a distribution
	// word rated it, the vector that comes next in the same precedence),
	// with its source.
	CVSS *CVSS `json:"cvss,omitempty"`
	// CWEs are the weaknesses NVD and the CNA name for the finding's CVEs
	// (set by the scan).
	CWEs []string `json:"cwes,omitempty"`
	// FixedVersions are the versions that fix it in the package's
	// ecosystem, if known; empty means no fix is available.
	FixedVersions []string `json:"fixed_versions,omitempty"`
	// Status is StatusFixed when FixedVersions is not empty, else what the
	// distribution's triage says of the missing fix (StatusWillNotFix,
	// StatusFixDeferred, StatusEndOfLife), else StatusAffected. Empty only
	// in results written before schema 1.2.
	Status    string    `json:"status,omitempty"`
	Summary   string    `json:"summary,omitempty"`
	Published time.Time `json:"published,omitempty"`
	Modified  time.Time `json:"modified,omitempty"`
	// References are up to a few advisory URLs.
	References []string `json:"references,omitempty"`
	// EPSS and KEV carry exploitation data for the finding's CVE, when the
	// database has it (set by the scan, not by Match).
	EPSS *EPSS `json:"epss,omitempty"`
	KEV  *KEV  `json:"kev,omitempty"`
	// ExploitReferences are the advisories' references that show a public
	// exploit: of type EVIDENCE, or Exploit-DB and Packet Storm pages.
	ExploitReferences []string `json:"exploit_references,omitempty"`
	// SSVC are the SSVC decision points of the finding (set by the scan).
	SSVC *SSVC `json:"ssvc,omitempty"`
	// Symbols is set on findings of Go packages (go-module, go-stdlib)
	// whose Go vulnerability database record (GO-) says which code is
	// vulnerable; the scan checks them against the binary's functions.
	Symbols *GoSymbols `json:"symbols,omitempty"`
}

// GoSymbols says whether the vulnerable code a Go advisory names is
// linked into the binary the package was found in.
type GoSymbols struct {
	// Checked is true when the binaries' function tables were read (or
	// one that was read links the code); false leaves Linked and
	// Reachable unknown (a binary was not readable, or the inventory came
	// from a cache).
	Checked bool `json:"checked"`
	// Advisory is the GO- record the symbols come from (the first when
	// several are merged).
	Advisory string `json:"advisory"`
	// Vulnerable are the vulnerable names: "pkgpath.Func",
	// "pkgpath.Type.Method", a package path alone for a whole package,
	// "module/..." for a whole module.
	Vulnerable []string `json:"vulnerable"`
	// Linked are the names of Vulnerable the binary links (a whole package
	// or module by any of its functions).
	Linked []string `json:"linked,omitempty"`
	// Reachable is Checked and Linked not empty.
	Reachable bool `json:"reachable"`
	// Binaries are the executables the package was found in, all of which
	// were read when Checked (one module version in several binaries is
	// one finding); any one linking the code makes it Reachable.
	Binaries []string `json:"binaries,omitempty"`
	// Imports are the advisories' imports the names come from, for the
	// scan's check; not written.
	Imports []gosym.Import `json:"-"`
}

// EPSS is FIRST's exploit prediction for one CVE.
type EPSS struct {
	CVE         string    `json:"cve"`
	Probability float64   `json:"probability"`
	Percentile  float64   `json:"percentile"`
	ScoreDate   time.Time `json:"score_date,omitempty"`
}

// KEV marks a CVE listed in CISA's Known Exploited Vulnerabilities catalog.
type KEV struct {
	CVE             string    `json:"cve"`
	DateAdded       time.Time `json:"date_added,omitempty"`
	DueDate         time.Time `json:"due_date,omitempty"`
	KnownRansomware bool      `json:"known_ransomware,omitempty"`
}

// PackageRef identifies the affected package inside the scanned image.
type PackageRef struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	Type      string `json:"type"`
	PURL      string `json:"purl,omitempty"`
	// SourceName/SourceVersion are set when the match was made on the OS
	// source package.
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
	Location      string `json:"location,omitempty"`
	Layer         string `json:"layer,omitempty"`
}

// CVSS is one CVSS vector with its computed base score.
type CVSS struct {
	Version string  `json:"version"` // "2.0", "3.0", "3.1", "4.0"
	Vector  string  `json:"vector"`
	Score   float64 `json:"score"`
	// Source is where the vector came from, as Finding.SeveritySource.
	Source string `json:"source,omitempty"`
}

// SSVC holds the inputs of CISA's SSVC decision for a finding: each
// decision point CISA gave for one of its CVEs, else one runlens computed.
type SSVC struct {
	// Exploitation is "none", "poc" or "active".
	Exploitation *SSVCPoint `json:"exploitation,omitempty"`
	// Automatable is "yes" or "no"; absent when neither CISA nor a CVSS
	// vector says.
	Automatable *SSVCPoint `json:"automatable,omitempty"`
	// TechnicalImpact is "partial" or "total"; absent like Automatable.
	TechnicalImpact *SSVCPoint `json:"technical_impact,omitempty"`
}

// SSVCPoint is one SSVC decision point.
type SSVCPoint struct {
	Value string `json:"value"`
	// Source is "cisa" (CISA's decision in its vulnrichment ADP
	// container) or "computed" (see Basis).
	Source string `json:"source"`
	// CVE is the CVE CISA decided on; Date when it did (source cisa).
	CVE  string    `json:"cve,omitempty"`
	Date time.Time `json:"date,omitzero"`
	// Basis says what a computed value was computed from.
	Basis string `json:"basis,omitempty"`
}
