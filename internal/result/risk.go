package result

import (
	"time"

	"github.com/runlens/runlens/internal/match"
)

// Tiers of the decision, most urgent first: the outcomes of SSVC's
// Deployer patch-application priority.
const (
	TierImmediate  = "immediate"
	TierOutOfCycle = "out-of-cycle"
	TierScheduled  = "scheduled"
	TierDefer      = "defer"
)

// Tiers lists the tiers, most urgent first.
var Tiers = []string{TierImmediate, TierOutOfCycle, TierScheduled, TierDefer}

// TierRank is a tier's place in Tiers (0 is most urgent); an unknown tier
// ranks after them all.
func TierRank(tier string) int {
	for i, t := range Tiers {
		if t == tier {
			return i
		}
	}
	return len(Tiers)
}

// Runtime states of a vulnerable package in a running workload.
const (
	// RuntimeExecuted: a process ran a file of the package.
	RuntimeExecuted = "executed"
	// RuntimeLoaded: a process mapped or opened a file of the package.
	RuntimeLoaded = "loaded"
	// RuntimeListening: a process that loads the package listens on a port.
	RuntimeListening = "listening"
	// RuntimeNotObserved: watched for Window and never seen in use.
	RuntimeNotObserved = "not-observed"
	// RuntimeUnknown: nothing watched the workload.
	RuntimeUnknown = "unknown"
)

// InUse reports whether state says the package's code is in use.
func InUse(state string) bool {
	return state == RuntimeExecuted || state == RuntimeLoaded || state == RuntimeListening
}

// Risk is one finding on one workload of one cluster (or on one image,
// when no cluster is known): the facts that matter, the decision made
// from them, and the reasons in words.
type Risk struct {
	// ID names the entry for `runlens explain`: stable for the same
	// cluster, workload, digest, vulnerability and package.
	ID string `json:"id"`
	// Vulnerability is the finding's id (images[].findings[].id).
	Vulnerability string           `json:"vulnerability"`
	Aliases       []string         `json:"aliases,omitempty"`
	Package       match.PackageRef `json:"package"`
	// Image is the manifest digest; ImageReference how it was named.
	Image          string `json:"image"`
	ImageReference string `json:"image_reference,omitempty"`
	// Cluster, Namespace and Workload ("Kind/Name") are empty for image
	// and registry scans.
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Workload  string `json:"workload,omitempty"`
	// Tier is the decision (Tiers); Score (0–100) orders entries within
	// a tier.
	Tier  string  `json:"tier"`
	Score float64 `json:"score"`
	// Runtime is what the node agent saw of the package in this workload.
	Runtime  Runtime  `json:"runtime"`
	Decision Decision `json:"decision"`
	Facts    Facts    `json:"facts"`
	// Reasons are the facts that decided, in the words a person reads,
	// the weightiest first.
	Reasons []string `json:"reasons"`
	// VEX is the VEX statement that applies, whatever its status.
	VEX *VEXStatement `json:"vex,omitempty"`
	// Suppressed says why the entry is set aside (a VEX statement of
	// not_affected or fixed, or a policy's accepted risk); a suppressed
	// entry stays in the list, counted in the funnel.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// WorkloadRef names the entry's workload as "cluster/namespace/Kind/name"
// (as Image.RunningIn does); empty for image scans.
func (r *Risk) WorkloadRef() string {
	if r.Workload == "" {
		return ""
	}
	return r.Cluster + "/" + r.Namespace + "/" + r.Workload
}

// Runtime is the runtime state of a package in a workload and the
// observation it rests on.
type Runtime struct {
	State string `json:"state"`
	// Window is the observation behind State; absent when unknown.
	Window *Window `json:"window,omitempty"`
	// Evidence are what was seen, e.g. "pid 42 (nginx) maps
	// /usr/lib/x86_64-linux-gnu/libssl.so.3".
	Evidence []string `json:"evidence,omitempty"`
	// Ports are where a process using the package listens ("tcp/8080").
	Ports []string `json:"ports,omitempty"`
}

// DefaultMinObservation is how long a complete observation must be
// before a package never seen in use counts as unused: shorter windows
// miss what runs daily (a policy file may change it).
const DefaultMinObservation = 24 * time.Hour

// Window is a span of runtime observation.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Complete is false when events were dropped or the agent had gaps;
	// a partial window never proves a package unused.
	Complete bool `json:"complete"`
	// Drops counts the events lost in the window.
	Drops int64 `json:"drops,omitempty"`
}

// Proves reports whether w is a complete observation of at least min
// (DefaultMinObservation when min is 0): enough to call a package never
// seen in use unused.
func (w *Window) Proves(min time.Duration) bool {
	if min <= 0 {
		min = DefaultMinObservation
	}
	return w != nil && w.Complete && w.End.Sub(w.Start) >= min
}

// Decision is the SSVC Deployer decision of one entry: each input with
// its value and source, and the table row that gave the tier.
//
// The inputs are shared between entries that have the same ones (every
// entry of a finding has its Exploitation; every entry of a workload its
// System Exposure): treat them as read-only. They are never nil in a
// ranked document.
type Decision struct {
	Exploitation   *Input `json:"exploitation"`
	SystemExposure *Input `json:"system_exposure"`
	Automatable    *Input `json:"automatable"`
	HumanImpact    *Input `json:"human_impact"`
	// Table names the decision table (not written to JSON: always SSVC's
	// Deployer table 1.0.0); Row is its row (0-based, as published);
	// Outcome is the table's tier.
	Table   string `json:"-"`
	Row     int    `json:"row"`
	Outcome string `json:"outcome"`
	// Override is the policy rule that set the tier instead of Outcome.
	Override string `json:"override,omitempty"`
}

// Sources of a decision input.
const (
	SourceCISA     = "cisa"     // CISA's published SSVC decision point
	SourceComputed = "computed" // computed by runlens from the finding's data
	SourceWorkload = "workload" // from the workload's exposure or sensitivity
	SourceRuntime  = "runtime"  // lowered by runtime evidence
	SourceCode     = "code"     // lowered because the vulnerable code is not linked
	SourcePolicy   = "policy"   // set by the policy file
	SourceAssumed  = "assumed"  // unknown; the conservative value is taken
)

// Input is one decision input.
type Input struct {
	Value string `json:"value"`
	// Source is one of the Source constants.
	Source string `json:"source"`
	// Basis is what the value was derived from, in words. It is kept in
	// memory for the formats and explain, and left out of JSON (each
	// entry would repeat its workload's paths): `runlens explain` derives
	// it again from the saved result.
	Basis []string `json:"-"`
	// Date is when CISA decided (source cisa).
	Date time.Time `json:"date,omitzero"`
}

// Facts are the inputs of an entry as found, before any decision: those
// of its finding and those of where it runs. Each part is shared by the
// entries that have it (every entry of a finding, every entry of a
// workload and image), so treat them as read-only; a ranked document
// always has both.
//
// JSON carries the scalar facts, both parts in one object; the finding's
// CVSS, EPSS and KEV records and the workload's paths and phrases stay in
// images[] and workloads[] (the entry names both), so a large result does
// not repeat them per entry.
type Facts struct {
	*FindingFacts
	*PlaceFacts
}

// CompleteFacts gives every risk both parts of its facts (empty ones
// where a hand-made or older document has none), so readers need not
// check them. Read calls it.
func (d *Document) CompleteFacts() {
	var noFinding *FindingFacts
	var noPlace *PlaceFacts
	for i := range d.Risks {
		f := &d.Risks[i].Facts
		if f.FindingFacts == nil {
			if noFinding == nil {
				noFinding = &FindingFacts{}
			}
			f.FindingFacts = noFinding
		}
		if f.PlaceFacts == nil {
			if noPlace == nil {
				noPlace = &PlaceFacts{}
			}
			f.PlaceFacts = noPlace
		}
	}
}

// FindingFacts are the facts of the finding.
type FindingFacts struct {
	Severity string      `json:"severity"`
	CVSS     *match.CVSS `json:"-"`
	EPSS     *match.EPSS `json:"-"`
	KEV      *match.KEV  `json:"-"`
	// CVSSScore, EPSSProbability and KEVListed summarise them in JSON.
	CVSSScore       float64 `json:"cvss_score,omitempty"`
	EPSSProbability float64 `json:"epss,omitempty"`
	KEVListed       bool    `json:"kev,omitempty"`
	// FixedVersions are the versions that fix it; Status the finding's
	// status (match.Statuses).
	FixedVersions []string `json:"fixed_versions,omitempty"`
	Status        string   `json:"status,omitempty"`
}

// PlaceFacts are the facts of where the finding runs: the workload and
// the image's containers in it (for image scans, the image alone).
type PlaceFacts struct {
	// Exposure is the workload's level (workload.Exposure*), "unknown"
	// for image scans; ExposurePaths how.
	Exposure      string   `json:"exposure"`
	ExposurePaths []string `json:"-"`
	// Sensitivity are the workload's sensitivity phrases (in memory).
	Sensitivity       []string `json:"-"`
	CriticalNamespace bool     `json:"critical_namespace,omitempty"`
	// Replicas are the workload's pods seen.
	Replicas int `json:"replicas,omitempty"`
	// Owner says who fixes the image (workload.Owner*), OwnerReason why.
	Owner       string `json:"owner,omitempty"`
	OwnerReason string `json:"-"`
	// Containers are the workload's containers that run the image.
	Containers []string `json:"containers,omitempty"`
}

// VEX statuses (OpenVEX words; CycloneDX's are mapped onto them).
const (
	VEXNotAffected        = "not_affected"
	VEXAffected           = "affected"
	VEXFixed              = "fixed"
	VEXUnderInvestigation = "under_investigation"
)

// VEXStatement is a VEX statement that applies to an entry.
type VEXStatement struct {
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
	// Impact is the impact statement (why not affected); Action the action
	// statement (what to do, for affected).
	Impact string `json:"impact,omitempty"`
	Action string `json:"action,omitempty"`
	// Document is where it came from (file and document id), Format
	// "openvex" or "cyclonedx", Product the product identifier it matched.
	Document  string    `json:"document"`
	Format    string    `json:"format"`
	Product   string    `json:"product,omitempty"`
	Author    string    `json:"author,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
}

// Suppression is why a risk is set aside.
type Suppression struct {
	// By is "vex" or "policy".
	By string `json:"by"`
	// Reason says it in words: the VEX status and justification, or the
	// accepted risk's reason.
	Reason string `json:"reason"`
	// Rule names the policy rule (file and entry) of an accepted risk.
	Rule string `json:"rule,omitempty"`
	// Expires is when an accepted risk ends.
	Expires time.Time `json:"expires,omitzero"`
}

// RiskFunnel narrows the findings of a run, or of one cluster, to those
// that matter. Every stage counts unique findings (image digest ×
// vulnerability × package): a finding passes a stage when at least one of
// its occurrences does, so each stage is at most the one before it.
type RiskFunnel struct {
	// Findings are those in the scanned images.
	Findings int `json:"findings"`
	// Running are those in images some workload runs; equal to Findings
	// for cluster scans, absent (nil) when no cluster is known.
	Running *int `json:"running"`
	// Reachable are those on a workload whose exposure is internet,
	// cluster or unknown (not isolated); nil when no cluster is known.
	Reachable *int `json:"reachable"`
	// InUse are those whose package runtime evidence shows in use; nil
	// when no runtime evidence is known at all.
	InUse *int `json:"in_use"`
	// Immediate and OutOfCycle are those whose most urgent unsuppressed
	// occurrence has that tier; Scheduled and Defer likewise.
	Immediate  int `json:"immediate"`
	OutOfCycle int `json:"out_of_cycle"`
	Scheduled  int `json:"scheduled"`
	Defer      int `json:"defer"`
	// Suppressed are findings whose every occurrence is suppressed.
	Suppressed int `json:"suppressed"`
	// Occurrences counts the risk entries (finding × workload).
	Occurrences int `json:"occurrences"`
}

// Action kinds of remediation.
const (
	// ActionRebuild: rebuild our image (on a newer base, or with the
	// dependency upgraded).
	ActionRebuild = "rebuild"
	// ActionUpgrade: move to a newer tag of the vendor's image.
	ActionUpgrade = "upgrade"
	// ActionMitigate: no fix exists yet; reduce exposure or privileges.
	ActionMitigate = "mitigate"
)

// Action is one remediation: a package to move to a fixed version in one
// image repository, with the risk it removes.
type Action struct {
	// Kind is one of the Action constants; Owner who acts
	// (workload.Owner*).
	Kind  string `json:"kind"`
	Owner string `json:"owner"`
	// Image is the repository ("registry/repo"), or the reference when the
	// repository is unknown; Digests the running digests it covers.
	Image   string   `json:"image"`
	Digests []string `json:"digests"`
	// Package is the package (the OS source package when there is one)
	// and FixedVersion the lowest version that fixes every vulnerability
	// of the action; empty for mitigate.
	Package      string `json:"package"`
	Ecosystem    string `json:"ecosystem,omitempty"`
	FixedVersion string `json:"fixed_version,omitempty"`
	// Text says the action in words.
	Text string `json:"text"`
	// Vulnerabilities are fixed by it; Workloads run the image
	// ("cluster/namespace/Kind/name").
	Vulnerabilities []string `json:"vulnerabilities"`
	Workloads       []string `json:"workloads,omitempty"`
	// Tier is the most urgent tier among its risks; Risk the sum of their
	// scores (the risk it removes); ByTier the risks per tier.
	Tier   string         `json:"tier"`
	Risk   float64        `json:"risk"`
	ByTier map[string]int `json:"by_tier"`
}
