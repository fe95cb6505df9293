// Package store keeps what runlens server knows: one inventory per image
// digest, each cluster's latest result and its history, every risk
// occurrence with when it appeared and went away, the "new since" feed,
// and the tokens that may read or write. One interface, two backends over
// database/sql: SQLite (embedded, the default) and PostgreSQL.
//
// Every write is one transaction: a crash mid-write leaves the previous
// state, never half of the new one.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// ErrNotFound is returned (wrapped) when a named row does not exist.
var ErrNotFound = errors.New("not found")

// Token scopes.
const (
	ScopeRead         = "read"          // read every view
	ScopeWriteCluster = "write-cluster" // push results for its one cluster
	ScopeAdmin        = "admin"         // everything, tokens included
)

// Causes of a change in the feed.
const (
	CauseScan     = "scan"      // a new result for the cluster
	CauseDBUpdate = "db-update" // the vulnerability database changed
)

// Kinds of a change in the feed.
const (
	ChangeAppeared    = "appeared"
	ChangeDisappeared = "disappeared"
)

// Store is the server's persistent state. Implementations are safe for
// concurrent use.
type Store interface {
	// IngestResult stores one cluster's result as its newest scan, in one
	// transaction: the images' inventories (kept once per digest) and
	// findings, the workloads (keyed by their owning controller), the
	// risks, and a Change for every risk occurrence that appeared or
	// disappeared against the cluster's previous result. Images whose
	// scan failed keep their previous findings: a failed scan never
	// reads as clean.
	IngestResult(ctx context.Context, in Ingest) (IngestStats, error)

	// Clusters lists every cluster with its latest scan's figures.
	Clusters(ctx context.Context) ([]ClusterInfo, error)
	// LatestDocument rebuilds the cluster's latest result (workloads,
	// images with findings, risks, remediation, summary), as the CLI
	// wrote it, for re-ranking and export.
	LatestDocument(ctx context.Context, cluster string) (*result.Document, error)
	// PartialDocument is the cluster's latest result narrowed to the
	// images of digests and the workloads running one, with the images'
	// current findings and no risks: what ranking those images again
	// alone needs (ReplaceRisks stores it).
	PartialDocument(ctx context.Context, cluster string, digests []string) (*result.Document, error)
	// ReplaceRisks replaces the cluster's risks on some of its images
	// (RiskUpdate), in one transaction, as a new entry of its history.
	ReplaceRisks(ctx context.Context, u RiskUpdate) ([]Change, error)
	// ClusterRisks returns the cluster's current risks on digests (read
	// through the digest index), most urgent first.
	ClusterRisks(ctx context.Context, cluster string, digests []string) ([]result.Risk, error)
	// Remediation returns the actions of the cluster's latest result
	// without rebuilding it.
	Remediation(ctx context.Context, cluster string) ([]result.Action, error)
	// Scans lists a cluster's scans, newest first (history).
	Scans(ctx context.Context, cluster string, limit int) ([]ScanInfo, error)

	// Risks returns one page of current (unresolved) risk occurrences,
	// most urgent first (tier, then score, then id), matching q.
	Risks(ctx context.Context, q RiskQuery) (RiskPage, error)
	// Risk returns one occurrence by its result.Risk ID.
	Risk(ctx context.Context, id string) (*result.Risk, error)
	// Funnel totals the current risks, per cluster when cluster is set.
	Funnel(ctx context.Context, cluster string) (result.RiskFunnel, error)
	// TierCounts counts current unsuppressed risks per cluster and tier;
	// NamespaceTierCounts per cluster, namespace and tier. Both read
	// counts kept as the risks change.
	TierCounts(ctx context.Context) (map[string]map[string]int, error)
	NamespaceTierCounts(ctx context.Context) (map[string]map[string]map[string]int, error)

	// Workloads lists the workloads of a cluster ("" for all), sorted by
	// cluster, namespace, kind, name.
	Workloads(ctx context.Context, cluster string) ([]result.Workload, error)
	// Workload returns one workload of a cluster by namespace, kind and
	// name.
	Workload(ctx context.Context, cluster, namespace, kind, name string) (*result.Workload, error)
	// Images lists every stored image (one per digest) with where it runs.
	Images(ctx context.Context) ([]ImageInfo, error)
	// Image returns one image with its inventory and current findings.
	Image(ctx context.Context, digest string) (*ImageDetail, error)

	// InventoriesWith returns the digests whose inventory holds a package
	// of one of the (ecosystem, name) keys, for re-matching after a
	// database update. Names are compared as stored (the matcher's
	// normalised form is the caller's job).
	InventoriesWith(ctx context.Context, keys []PackageKey) ([]string, error)
	// Inventory returns a digest's stored inventory.
	Inventory(ctx context.Context, digest string) (*StoredInventory, error)
	// Findings returns a digest's current findings (empty when none),
	// sorted as the matcher sorts them.
	Findings(ctx context.Context, digest string) ([]match.Finding, error)
	// ReplaceFindings replaces a digest's findings after a re-match, in
	// one transaction, recording a Change (cause CauseDBUpdate) for every
	// finding that appeared or disappeared.
	ReplaceFindings(ctx context.Context, digest string, findings []match.Finding, db DBVersion) ([]Change, error)
	// ReplaceFindingsAt is ReplaceFindings dating its changes (and the
	// first sight of new findings) at, not now: a re-match's own clock.
	ReplaceFindingsAt(ctx context.Context, digest string, findings []match.Finding, db DBVersion, at time.Time) ([]Change, error)

	// Changes returns the feed of appeared/disappeared findings and risks
	// after the given time, newest first, one page at a time.
	Changes(ctx context.Context, q ChangeQuery) (ChangePage, error)

	// SetDBVersion records the vulnerability database every stored
	// finding was matched against; DBVersion reads it back (zero when
	// none).
	SetDBVersion(ctx context.Context, v DBVersion) error
	DBVersion(ctx context.Context) (DBVersion, error)

	// CreateToken stores a new token's hash (never the token) and
	// returns its row; Authenticate finds the token a presented secret
	// hashes to (ErrNotFound when none); Tokens lists them; RevokeToken
	// removes one.
	CreateToken(ctx context.Context, t Token) (Token, error)
	Authenticate(ctx context.Context, hash []byte) (Token, error)
	Tokens(ctx context.Context) ([]Token, error)
	RevokeToken(ctx context.Context, id int64) error

	// PutDocument stores a side document for a cluster, replacing the
	// one of the same kind and name: node-agent evidence (kind
	// DocEvidence, name the node), VEX documents (DocVEX). Documents
	// lists a kind's documents for a cluster ("" for every cluster).
	PutDocument(ctx context.Context, d SideDocument) error
	Documents(ctx context.Context, kind, cluster string) ([]SideDocument, error)

	// Accept records a user's accepted risk (the policy file's accept
	// entry, made through the API); Acceptances lists the unexpired ones
	// at now; Unaccept removes one.
	Accept(ctx context.Context, a Acceptance) (Acceptance, error)
	Acceptances(ctx context.Context, now time.Time) ([]Acceptance, error)
	Unaccept(ctx context.Context, id int64) error

	// Prune deletes scans, changes and resolved risks older than before,
	// keeping each cluster's latest scan (retention).
	Prune(ctx context.Context, before time.Time) (int64, error)
	// Backup writes a consistent copy of the store to path (SQLite's
	// VACUUM INTO); PostgreSQL returns an error naming pg_dump.
	Backup(ctx context.Context, path string) error
	// Size is the store's size on disk, in bytes.
	Size(ctx context.Context) (int64, error)

	// Close releases the database.
	Close() error
}

// Ingest is one result to store.
type Ingest struct {
	// Cluster names the cluster the result is for; every workload and
	// risk of Document must belong to it.
	Cluster string
	// Source says who sent it: "push:<token name>" or "schedule".
	Source string
	// Cause is CauseScan for a new result, CauseDBUpdate when the server
	// re-ranks a stored result after a database update; it is recorded
	// on every Change.
	Cause    string
	Document *result.Document
	// At is when the server received it.
	At time.Time
}

// IngestStats counts what an IngestResult wrote.
type IngestStats struct {
	ScanID      int64
	Images      int // images in the result
	NewImages   int // digests never stored before
	Workloads   int
	Risks       int
	Appeared    int
	Disappeared int
}

// ClusterInfo is one cluster and its latest scan.
type ClusterInfo struct {
	Name       string            `json:"name"`
	LastScanID int64             `json:"last_scan_id"`
	LastScanAt time.Time         `json:"last_scan_at"`
	Status     string            `json:"status"`
	Workloads  int               `json:"workloads"`
	Images     int               `json:"images"`
	Funnel     result.RiskFunnel `json:"funnel"`
	Problems   []string          `json:"problems,omitempty"`
	Summary    *result.Cluster   `json:"summary,omitempty"`
}

// ScanInfo is one stored scan of a cluster.
type ScanInfo struct {
	ID          int64             `json:"id"`
	Cluster     string            `json:"cluster"`
	Source      string            `json:"source"`
	At          time.Time         `json:"at"`
	Command     string            `json:"command"`
	DBBuiltAt   time.Time         `json:"db_built_at,omitzero"`
	Status      string            `json:"status"`
	Funnel      result.RiskFunnel `json:"funnel"`
	Appeared    int               `json:"appeared"`
	Disappeared int               `json:"disappeared"`
}

// RiskQuery filters and pages the ranked risks. Empty fields do not
// filter.
type RiskQuery struct {
	Cluster   string
	Namespace string
	// Workload is "Kind/Name".
	Workload string
	// Tier is one of result.Tiers; MinTier keeps that tier and more
	// urgent ones.
	Tier    string
	MinTier string
	// Owner is workload.Owner*; Fix is "available" or "none".
	Owner string
	Fix   string
	// Image is a digest; Vulnerability an id or alias; Package a name.
	Image         string
	Vulnerability string
	Package       string
	// Search matches a substring of the vulnerability, package, image
	// reference or workload.
	Search string
	// NewSince keeps risks that first appeared after it.
	NewSince time.Time
	// Suppressed includes suppressed risks (left out by default).
	Suppressed bool
	// Cursor continues after the last risk of a previous page; Limit is
	// the page size (100 when 0, at most 1000).
	Cursor string
	Limit  int
}

// RiskPage is one page of risks.
type RiskPage struct {
	Risks []RiskRow `json:"risks"`
	// Next is the cursor of the following page; empty on the last.
	Next string `json:"next,omitempty"`
}

// RiskRow is one current risk occurrence and its history.
type RiskRow struct {
	result.Risk
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Owner is the image's owner (workload.Owner*) and FixedVersion the
	// lowest fixed version, for filters and the list view.
	Owner        string `json:"owner,omitempty"`
	FixedVersion string `json:"fixed_version,omitempty"`
}

// ImageInfo is one stored image.
type ImageInfo struct {
	Digest    string         `json:"digest"`
	Reference string         `json:"reference"`
	Status    string         `json:"status"`
	Packages  int            `json:"packages"`
	Findings  map[string]int `json:"findings_by_severity"`
	RunningIn []string       `json:"running_in,omitempty"`
	Owner     string         `json:"owner,omitempty"`
	ScannedAt time.Time      `json:"scanned_at"`
	Clusters  []string       `json:"clusters,omitempty"`
}

// ImageDetail is an image with its inventory and findings.
type ImageDetail struct {
	ImageInfo
	Image *result.Image `json:"image"`
}

// StoredInventory is a digest's inventory as stored.
type StoredInventory struct {
	Digest    string
	Reference string
	Distro    *inventory.Distro
	Packages  []inventory.Package
}

// PackageKey names a package the way advisories do.
type PackageKey struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
}

// DBVersion identifies a vulnerability database build.
type DBVersion struct {
	BuiltAt    time.Time `json:"built_at"`
	Advisories int       `json:"advisories"`
	// Digest is the database file's SHA-256, when known.
	Digest string `json:"digest,omitempty"`
}

// Change is one entry of the "new since" feed: a finding (image ×
// vulnerability × package) or a risk occurrence that appeared or
// disappeared.
type Change struct {
	Seq           int64     `json:"seq"`
	At            time.Time `json:"at"`
	Kind          string    `json:"kind"`  // Change*
	Cause         string    `json:"cause"` // Cause*
	Cluster       string    `json:"cluster,omitempty"`
	Namespace     string    `json:"namespace,omitempty"`
	Workload      string    `json:"workload,omitempty"`
	Image         string    `json:"image"`
	Vulnerability string    `json:"vulnerability"`
	Package       string    `json:"package"`
	Version       string    `json:"version,omitempty"`
	Severity      string    `json:"severity,omitempty"`
	Tier          string    `json:"tier,omitempty"`
	RiskID        string    `json:"risk_id,omitempty"`
}

// ChangeQuery pages the feed.
type ChangeQuery struct {
	Since   time.Time
	Cluster string
	Kind    string
	Cause   string
	// Cursor continues after a previous page; Limit as in RiskQuery.
	Cursor string
	Limit  int
}

// ChangePage is one page of the feed.
type ChangePage struct {
	Changes []Change `json:"changes"`
	Next    string   `json:"next,omitempty"`
}

// Token is a bearer token's row. Hash is SHA-256 of the secret; the
// secret itself is never stored.
type Token struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Scope string `json:"scope"`
	// Cluster is the one cluster a write-cluster token may push.
	Cluster   string    `json:"cluster,omitempty"`
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Kinds of side document.
const (
	DocEvidence = "evidence"
	DocVEX      = "vex"
)

// SideDocument is a document a cluster's ranking uses besides its
// result: an agent's evidence snapshot or a VEX document, kept as sent.
type SideDocument struct {
	Kind       string    `json:"kind"`
	Cluster    string    `json:"cluster"`
	Name       string    `json:"name"`
	Body       []byte    `json:"-"`
	ReceivedAt time.Time `json:"received_at"`
}

// Acceptance is an accepted risk: the vulnerability (and package, and
// where) a team has decided to live with until Expires, and why.
type Acceptance struct {
	ID            int64     `json:"id"`
	Vulnerability string    `json:"vulnerability"`
	Package       string    `json:"package,omitempty"`
	Cluster       string    `json:"cluster,omitempty"`
	Namespace     string    `json:"namespace,omitempty"`
	Workload      string    `json:"workload,omitempty"`
	Image         string    `json:"image,omitempty"`
	Reason        string    `json:"reason"`
	Expires       time.Time `json:"expires"`
	By            string    `json:"by"`
	CreatedAt     time.Time `json:"created_at"`
}
