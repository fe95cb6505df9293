package store

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/result"
)

// PackageKeys are the (ecosystem, name) keys under which the database
// may hold advisories for p, as stored in the package index: the base
// ecosystem (a release-specific "Debian:12" key matches "Debian"), the
// name and the OS source name in osv.NormalizeName form, and "stdlib"
// for a Go toolchain. Coarser than the matcher's queries, never finer: a
// re-match may look at an image it need not, never miss one.
func PackageKeys(p *inventory.Package) []PackageKey {
	eco := strings.TrimSpace(p.Ecosystem)
	if eco == "" {
		return nil
	}
	base := osv.BaseEcosystem(eco)
	out := []PackageKey{{base, osv.NormalizeName(eco, p.Name)}}
	if p.SourceName != "" && p.SourceName != p.Name {
		out = append(out, PackageKey{base, osv.NormalizeName(eco, p.SourceName)})
	}
	if base == "Go" && (p.Type == "go-stdlib" || p.Name == "go") && p.Name != "stdlib" {
		out = append(out, PackageKey{base, "stdlib"})
	}
	return out
}

// KeyOf is the key an advisory's (ecosystem, name) is stored under, in
// the form PackageKeys gives, for InventoriesWith.
func KeyOf(ecosystem, name string) PackageKey {
	return PackageKey{osv.BaseEcosystem(ecosystem), osv.NormalizeName(ecosystem, name)}
}

// findingKey names a finding within its image.
func findingKey(f *match.Finding) string {
	p := &f.Package
	return f.ID + "\x1f" + p.Ecosystem + "\x1f" + p.Name + "\x1f" + p.Version + "\x1f" + p.Location
}

// findingArgs appends one findings row (findingCols values); data is
// the finding packed (packSmall).
func findingArgs(args []any, digest string, f *match.Finding, data []byte, firstSeen int64) []any {
	fixed := ""
	if len(f.FixedVersions) > 0 {
		fixed = f.FixedVersions[0]
	}
	return append(args, digest, findingKey(f), f.ID, f.Package.Name, f.Package.Version, f.Package.Ecosystem,
		f.Severity, fixed, data, firstSeen)
}

const (
	findingCols   = 10
	findingInsert = `INSERT INTO findings (digest, fkey, vuln, package, version, ecosystem, severity, fixed, data, first_seen)`
	riskCols      = 22
	riskInsert    = `INSERT INTO risks (id, cluster, namespace, workload, digest, vuln, aliases, package, version, tier_rank, nscore, state, exposure, severity, owner, fixed_version, suppressed, reference, search, first_seen, last_seen, data)`
	changeCols    = 13
	changeInsert  = `INSERT INTO changes (at, kind, cause, cluster, namespace, workload, image, vuln, package, version, severity, tier, risk_id)`
)

// riskArgs appends one risks row (riskCols values); data is the risk
// packed (packSmall).
func riskArgs(args []any, r *result.Risk, data []byte, firstSeen, lastSeen int64) []any {
	var severity, fixed, exposure, owner string
	if ff := r.Facts.FindingFacts; ff != nil {
		severity = ff.Severity
		if len(ff.FixedVersions) > 0 {
			fixed = ff.FixedVersions[0]
		}
	}
	if pf := r.Facts.PlaceFacts; pf != nil {
		exposure, owner = pf.Exposure, pf.Owner
	}
	aliases := ""
	if len(r.Aliases) > 0 {
		aliases = " " + strings.Join(r.Aliases, " ") + " "
	}
	suppressed := 0
	if r.Suppressed != nil {
		suppressed = 1
	}
	return append(args, r.ID, r.Cluster, r.Namespace, r.Workload, r.Image, r.Vulnerability, aliases,
		r.Package.Name, r.Package.Version, result.TierRank(r.Tier), -r.Score, r.Runtime.State, exposure,
		severity, owner, fixed, suppressed, r.ImageReference, searchText(r), firstSeen, lastSeen, data)
}

// searchText is what RiskQuery.Search looks in, lowercased: the
// vulnerability and its aliases, the package, the image reference, the
// namespace and the workload.
func searchText(r *result.Risk) string {
	return strings.ToLower(strings.Join([]string{r.Vulnerability, strings.Join(r.Aliases, " "), r.Package.Name,
		r.ImageReference, r.Namespace, r.Workload}, "\x1f"))
}

// packAll packs n values (packSmall of item(i)) on every core.
func packAll(n int, item func(i int) any) ([][]byte, error) {
	out := make([][]byte, n)
	workers := min(runtime.GOMAXPROCS(0), 8, n/256+1)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				b, err := packSmall(item(i))
				if err != nil {
					errs[w] = err
					return
				}
				out[i] = b
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// change is a Change as insert arguments.
func changeArgs(args []any, c *Change) []any {
	return append(args, nanos(c.At), c.Kind, c.Cause, c.Cluster, c.Namespace, c.Workload, c.Image,
		c.Vulnerability, c.Package, c.Version, c.Severity, c.Tier, c.RiskID)
}

// riskChange is the Change of a risk occurrence.
func riskChange(r *result.Risk, kind, cause string, at int64) Change {
	c := Change{At: fromNanos(at), Kind: kind, Cause: cause, Cluster: r.Cluster, Namespace: r.Namespace,
		Workload: r.Workload, Image: r.Image, Vulnerability: r.Vulnerability, Package: r.Package.Name,
		Version: r.Package.Version, Tier: r.Tier, RiskID: r.ID}
	if r.Facts.FindingFacts != nil {
		c.Severity = r.Facts.Severity
	}
	return c
}

// checkCluster refuses a document one of whose workloads or risks names
// another cluster than the one it is stored for.
func checkCluster(in *Ingest) error {
	if in.Cluster == "" {
		return fmt.Errorf("store: ingest: no cluster named")
	}
	if in.Document == nil {
		return fmt.Errorf("store: ingest %s: no document", in.Cluster)
	}
	for _, w := range in.Document.Workloads {
		if w.Cluster != in.Cluster {
			return fmt.Errorf("store: ingest %s: workload %s belongs to cluster %q", in.Cluster, w.Ref(), w.Cluster)
		}
	}
	for i := range in.Document.Risks {
		if r := &in.Document.Risks[i]; r.Cluster != in.Cluster {
			return fmt.Errorf("store: ingest %s: risk %s belongs to cluster %q", in.Cluster, r.ID, r.Cluster)
		}
	}
	return nil
}

// clusterSummary is the document's summary of cluster, if it has one.
func clusterSummary(doc *result.Document, cluster string) *result.Cluster {
	for i := range doc.Summary.Clusters {
		if doc.Summary.Clusters[i].Name == cluster {
			return &doc.Summary.Clusters[i]
		}
	}
	return nil
}

// storedImage is what the images table keeps of an image besides its
// inventory: the entry without packages and findings (kept apart).
func storedImage(img *result.Image) *result.Image {
	c := *img
	c.Packages, c.Findings = nil, nil
	return &c
}

// distroText is a distro as stored.
func distroText(d *inventory.Distro) string {
	if d == nil {
		return ""
	}
	return jsonText(d)
}

// imageOwner is the owner the containers running img give it.
func imageOwner(doc *result.Document, digest string) string {
	for _, w := range doc.Workloads {
		for _, c := range w.Containers {
			if c.Digest == digest && c.Owner != "" {
				return c.Owner
			}
		}
	}
	return ""
}

// dedupeRisks drops repeated ids (the first, most urgent, is kept).
func dedupeRisks(rs []result.Risk) []*result.Risk {
	seen := make(map[string]bool, len(rs))
	out := make([]*result.Risk, 0, len(rs))
	for i := range rs {
		if !seen[rs[i].ID] {
			seen[rs[i].ID] = true
			out = append(out, &rs[i])
		}
	}
	return out
}

// statusOr is s, or def when empty.
func statusOr(s, def string) string { return cmp.Or(s, def) }
