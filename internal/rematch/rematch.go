// Package rematch brings the server's stored findings and risks up to a
// new vulnerability database without pulling an image: the package keys
// whose advisories changed (vulndb.Diff) name the stored inventories to
// match again; each image whose findings change is stored with a Change
// of cause db-update, and in every cluster running one those images
// alone are ranked again and their risks replaced.
package rematch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/vulndb"
)

// Options tune Run.
type Options struct {
	// Rank are the ranking's options (policy, VEX, runtime evidence);
	// RankFor, when set, gives a cluster's own instead.
	Rank    risk.Options
	RankFor func(ctx context.Context, cluster string) (risk.Options, error)
	// Enrich adds what a scan adds to matched findings (EPSS, KEV, CWEs,
	// SSVC decision points) from the new database. When nil, a finding
	// matched before keeps those of its previous match. Go symbol
	// reachability, which needs the image's binaries, is always kept.
	Enrich func(ctx context.Context, findings []match.Finding)
	// FullRerank ranks each affected cluster's whole latest result again
	// (slow: seconds per large cluster) instead of only the images whose
	// findings changed; for comparison.
	FullRerank bool
	// Parallelism bounds the inventories matched at once (4 when 0).
	Parallelism int
	// Version is recorded as the store's database version; zero takes
	// new's metadata.
	Version store.DBVersion
	// Now is when the changes happen (time.Now when nil).
	Now func() time.Time
}

// Report says what a Run did.
type Report struct {
	// Keys are the package keys whose advisories changed.
	Keys int `json:"keys"`
	// Inventories were matched again; Changed are those whose findings
	// differ.
	Inventories int `json:"inventories"`
	Changed     int `json:"changed"`
	// FindingsAppeared and FindingsDisappeared count the findings' changes.
	FindingsAppeared    int `json:"findings_appeared"`
	FindingsDisappeared int `json:"findings_disappeared"`
	// Clusters were ranked again; RisksAppeared and RisksDisappeared
	// count their risks' changes.
	Clusters         []string `json:"clusters"`
	RisksAppeared    int      `json:"risks_appeared"`
	RisksDisappeared int      `json:"risks_disappeared"`
	// Durations of the steps and of the whole run.
	Diff  time.Duration `json:"diff_ns"`
	Match time.Duration `json:"match_ns"`
	Rank  time.Duration `json:"rank_ns"`
	Total time.Duration `json:"total_ns"`
}

// Run re-matches the stored inventories the difference between old (nil:
// none, so every inventory) and new touches, stores the findings that
// changed, ranks again every cluster running a changed image, and
// records new as the store's database version.
func Run(ctx context.Context, st store.Store, old, new *vulndb.DB, opts Options) (Report, error) {
	start := time.Now()
	var rep Report
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version.BuiltAt.IsZero() && opts.Version.Advisories == 0 {
		m := new.Metadata()
		opts.Version = store.DBVersion{BuiltAt: m.BuiltAt, Advisories: m.Advisories}
	}
	digests, err := affected(ctx, st, old, new, &rep)
	if err != nil {
		return rep, err
	}
	rep.Diff = time.Since(start)
	t := time.Now()
	changed, err := rematchAll(ctx, st, new, digests, opts, &rep)
	if err != nil {
		return rep, err
	}
	rep.Match = time.Since(t)
	t = time.Now()
	if err := rerank(ctx, st, changed, opts, &rep); err != nil {
		return rep, err
	}
	rep.Rank = time.Since(t)
	if err := st.SetDBVersion(ctx, opts.Version); err != nil {
		return rep, err
	}
	rep.Total = time.Since(start)
	return rep, nil
}

// affected lists the stored digests whose inventories hold a package
// whose advisories changed (every stored digest when old is nil).
func affected(ctx context.Context, st store.Store, old, new *vulndb.DB, rep *Report) ([]string, error) {
	if old == nil {
		imgs, err := st.Images(ctx)
		if err != nil {
			return nil, err
		}
		rep.Keys = -1
		out := make([]string, 0, len(imgs))
		for _, im := range imgs {
			out = append(out, im.Digest)
		}
		return out, nil
	}
	keys, err := vulndb.Diff(ctx, old, new)
	if err != nil {
		return nil, fmt.Errorf("rematch: %w", err)
	}
	rep.Keys = len(keys)
	seen := map[store.PackageKey]bool{}
	var sk []store.PackageKey
	for _, k := range keys {
		if s := store.KeyOf(k.Ecosystem, k.Name); !seen[s] {
			seen[s] = true
			sk = append(sk, s)
		}
	}
	if len(sk) == 0 {
		return nil, nil
	}
	return st.InventoriesWith(ctx, sk)
}

// rematchAll matches each digest again, a few at once, and returns those
// whose findings changed.
func rematchAll(ctx context.Context, st store.Store, db *vulndb.DB, digests []string, opts Options, rep *Report) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := opts.Parallelism
	if n <= 0 {
		n = 4
	}
	work := make(chan string)
	var mu sync.Mutex
	var changed []string
	var first error
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				app, gone, diff, err := rematchOne(ctx, st, db, d, opts)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				rep.Inventories++
				if diff {
					changed = append(changed, d)
					rep.Changed++
					rep.FindingsAppeared += app
					rep.FindingsDisappeared += gone
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range digests {
		select {
		case work <- d:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.Sort(changed)
	return changed, nil
}

// rematchOne matches one stored inventory against db and stores its
// findings when they differ from those stored.
func rematchOne(ctx context.Context, st store.Store, db *vulndb.DB, digest string, opts Options) (appeared, gone int, changed bool, err error) {
	inv, err := st.Inventory(ctx, digest)
	if err != nil {
		return 0, 0, false, err
	}
	prev, err := st.Findings(ctx, digest)
	if err != nil {
		return 0, 0, false, err
	}
	res, err := match.Match(ctx, &inventory.Inventory{Distro: inv.Distro, Packages: inv.Packages}, db)
	if err != nil {
		return 0, 0, false, fmt.Errorf("rematch %s: %w", digest, err)
	}
	fs := res.Findings
	if fs == nil {
		fs = []match.Finding{}
	}
	carry(fs, prev, opts.Enrich == nil)
	if opts.Enrich != nil {
		opts.Enrich(ctx, fs)
	}
	if same(prev, fs) {
		return 0, 0, false, nil
	}
	changes, err := st.ReplaceFindingsAt(ctx, digest, fs, opts.Version, opts.Now())
	if err != nil {
		return 0, 0, false, err
	}
	for _, c := range changes {
		if c.Kind == store.ChangeAppeared {
			appeared++
		} else {
			gone++
		}
	}
	return appeared, gone, true, nil
}

// findingKey names a finding within its image.
func findingKey(f *match.Finding) string {
	p := &f.Package
	return f.ID + "\x00" + p.Ecosystem + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.Location
}

// carry gives each new finding what the scan had added to the same
// finding before: Go symbol reachability always, and exploitation data
// when threats is set (no Enrich to add it again).
func carry(fs, prev []match.Finding, threats bool) {
	byKey := make(map[string]*match.Finding, len(prev))
	for i := range prev {
		byKey[findingKey(&prev[i])] = &prev[i]
	}
	for i := range fs {
		p := byKey[findingKey(&fs[i])]
		if p == nil {
			continue
		}
		f := &fs[i]
		if p.Symbols != nil && f.Symbols != nil {
			f.Symbols.Checked, f.Symbols.Linked, f.Symbols.Reachable, f.Symbols.Binaries = p.Symbols.Checked, p.Symbols.Linked, p.Symbols.Reachable, p.Symbols.Binaries
		}
		if threats {
			f.EPSS, f.KEV, f.SSVC, f.CWEs = p.EPSS, p.KEV, p.SSVC, p.CWEs
		}
	}
}

// same reports whether two finding lists say the same (as JSON).
func same(a, b []match.Finding) bool {
	if len(a) != len(b) {
		return false
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// rerank ranks again, in each cluster running one of the changed
// digests, only those images (PartialDocument: the workloads running
// them and their new findings) with the cluster's options, and stores
// their risks alone (ReplaceRisks, cause db-update); the cluster's other
// risks are left as they are. FullRerank ranks the whole latest result
// instead.
func rerank(ctx context.Context, st store.Store, changed []string, opts Options, rep *Report) error {
	if len(changed) == 0 {
		return nil
	}
	imgs, err := st.Images(ctx)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, d := range changed {
		want[d] = true
	}
	byCluster := map[string][]string{}
	for _, im := range imgs {
		if want[im.Digest] {
			for _, c := range im.Clusters {
				byCluster[c] = append(byCluster[c], im.Digest)
			}
		}
	}
	for c := range byCluster {
		rep.Clusters = append(rep.Clusters, c)
	}
	slices.Sort(rep.Clusters)
	db := &result.Database{BuiltAt: opts.Version.BuiltAt, Advisories: opts.Version.Advisories}
	if opts.FullRerank {
		for _, c := range rep.Clusters {
			ro, err := rankOptions(ctx, c, opts)
			if err != nil {
				return err
			}
			if err := rerankWhole(ctx, st, c, ro, db, opts, rep); err != nil {
				return err
			}
		}
		return nil
	}
	// Clusters are read and ranked two at a time ahead of the store,
	// which writes them one by one, in order.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const ahead = 2
	slots := make(chan struct{}, ahead)
	ready := make([]chan rankedPart, len(rep.Clusters))
	for i := range ready {
		ready[i] = make(chan rankedPart, 1)
	}
	go func() {
		for i, c := range rep.Clusters {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				doc, err := rankPart(ctx, st, c, byCluster[c], db, opts)
				ready[i] <- rankedPart{doc, err}
			}()
		}
	}()
	for i, c := range rep.Clusters {
		var part rankedPart
		select {
		case part = <-ready[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if part.err != nil {
			return part.err
		}
		acts, err := remediationAfter(ctx, st, c, byCluster[c], part.doc)
		if err != nil {
			<-slots
			return fmt.Errorf("rematch: remediation of %s: %w", c, err)
		}
		changes, err := st.ReplaceRisks(ctx, store.RiskUpdate{Cluster: c, Digests: byCluster[c], Risks: part.doc.Risks,
			Cause: store.CauseDBUpdate, Source: "db-update", Database: db, At: opts.Now(), Remediation: acts})
		<-slots
		if err != nil {
			return fmt.Errorf("rematch: cluster %s: %w", c, err)
		}
		for _, ch := range changes {
			if ch.Kind == store.ChangeAppeared {
				rep.RisksAppeared++
			} else {
				rep.RisksDisappeared++
			}
		}
	}
	return nil
}

// rankedPart is a cluster's partial document, ranked, or why not.
type rankedPart struct {
	doc *result.Document
	err error
}

// rankPart ranks the images of digests alone in cluster c's latest
// result (the workloads running them, their new findings).
func rankPart(ctx context.Context, st store.Store, c string, digests []string, db *result.Database, opts Options) (*result.Document, error) {
	ro, err := rankOptions(ctx, c, opts)
	if err != nil {
		return nil, err
	}
	doc, err := st.PartialDocument(ctx, c, digests)
	if err != nil {
		return nil, fmt.Errorf("rematch: cluster %s: %w", c, err)
	}
	doc.Database = db
	if err := risk.Rank(doc, ro); err != nil {
		return nil, fmt.Errorf("rematch: rank %s: %w", c, err)
	}
	for i := range doc.Risks {
		if doc.Risks[i].Cluster == "" {
			doc.Risks[i].Cluster = c // an image no workload of the cluster runs
		}
	}
	return doc, nil
}

// rankOptions are the ranking options of cluster c.
func rankOptions(ctx context.Context, c string, opts Options) (risk.Options, error) {
	if opts.RankFor == nil {
		return opts.Rank, nil
	}
	ro, err := opts.RankFor(ctx, c)
	if err != nil {
		return ro, fmt.Errorf("rematch: cluster %s: %w", c, err)
	}
	return ro, nil
}

// rerankWhole ranks the cluster's whole latest result again and stores
// it as a new result with cause db-update.
func rerankWhole(ctx context.Context, st store.Store, c string, ro risk.Options, db *result.Database, opts Options, rep *Report) error {
	doc, err := st.LatestDocument(ctx, c)
	if err != nil {
		return fmt.Errorf("rematch: cluster %s: %w", c, err)
	}
	doc.Database = db
	doc.Recount()
	if err := risk.Rank(doc, ro); err != nil {
		return fmt.Errorf("rematch: rank %s: %w", c, err)
	}
	stats, err := st.IngestResult(ctx, store.Ingest{Cluster: c, Source: "db-update", Cause: store.CauseDBUpdate, Document: doc, At: opts.Now()})
	if err != nil {
		return fmt.Errorf("rematch: cluster %s: %w", c, err)
	}
	rep.RisksAppeared += stats.Appeared
	rep.RisksDisappeared += stats.Disappeared
	return nil
}
