package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/errgroup"

	"github.com/runlens/runlens/internal/fanout"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
)

// ErrInvalidTarget is matched by the error ScanRegistry returns for a
// target that is neither a registry nor a repository name.
var ErrInvalidTarget = errors.New("not a registry or repository")

// RegistryRequest asks for every tag of a registry, or of one repository,
// to be scanned.
type RegistryRequest struct {
	// Target is "host[:port]" for the whole registry (catalog API) or
	// "host[:port]/repo" for one repository. Credentials written into it
	// ("user:token@host", "https://user:token@host") are used when Options
	// has none, and never reported.
	Target string
	// Options carry credentials, transport, the platform filter
	// (Options.Platforms; empty means every platform) and the listing caps:
	// Options.MaxRepositories for the catalog, Options.MaxTags for the tags
	// of the whole scan (and so of each repository).
	Options registry.Options
	// Concurrency bounds parallel resolves and scans (default 4).
	Concurrency int
	// ListConcurrency bounds the repositories whose tags are listed at
	// once (default 8).
	ListConcurrency int
	// Log, if set, gets an Info record for each image as it finishes.
	Log *slog.Logger
}

// RegistryStats counts what a registry scan saw before scanning.
type RegistryStats struct {
	Repositories int
	Tags         int
	Digests      int
}

// target is one unique digest and every tag that points at it.
type target struct {
	ref         string // repo@digest, pullable
	digest      string
	platform    string
	indexDigest string
	tags        []string
	result      *result.Image // nil until scanned
}

// ScanRegistry lists the repositories and tags, resolves each tag to its
// manifest digests, scans each unique digest once, and hands every result
// to emit (serially, sorted by reference) when the scan ends. The stages
// overlap: tags are listed as catalog pages arrive (ListConcurrency
// repositories at once), resolved as they are listed and scanned as their
// digests appear, so one slow repository holds up only itself.
//
// Nothing is dropped: repositories, tags and images that cannot be listed,
// resolved or scanned are emitted as failed results, and a listing cut
// short (a cap reached, a later page failing) as a partial result named
// after the registry or repository, with the reason. When ctx ends, what
// finished is emitted as usual, everything else as failed with the reason
// from Interrupted, and that reason is returned. The only other error is
// an unusable target (ErrInvalidTarget), before anything is contacted.
func (s *Scanner) ScanRegistry(ctx context.Context, req RegistryRequest, emit func(*result.Image)) (RegistryStats, error) {
	tgt, opts := req.Options.WithReferenceCredentials(req.Target)
	req.Options = opts
	tgt = strings.TrimSuffix(tgt, "/")
	if req.Concurrency <= 0 {
		req.Concurrency = 4
	}
	if req.ListConcurrency <= 0 {
		req.ListConcurrency = 8
	}
	if req.Options.Transport == nil {
		req.Options.Transport = registry.NewTransport(nil, registry.RetryOptions{})
	}
	var repo name.Repository
	if strings.Contains(tgt, "/") {
		r, err := name.NewRepository(tgt, req.Options.NameOptions()...)
		if err != nil {
			return RegistryStats{}, fmt.Errorf("%w: %q: %v", ErrInvalidTarget, tgt, err)
		}
		repo = r
	} else if _, err := name.NewRegistry(tgt, req.Options.NameOptions()...); err != nil {
		return RegistryStats{}, fmt.Errorf("%w: %q: %v", ErrInvalidTarget, tgt, err)
	}
	rs := &registryScan{s: s, ctx: ctx, req: req, byDigest: map[string]*target{},
		tagBudget: positive(req.Options.MaxTags, registry.DefaultMaxTags)}
	rs.listG.SetLimit(req.ListConcurrency)
	rs.resolveG.SetLimit(req.Concurrency)
	rs.scans = fanout.NewQueue(req.Concurrency, rs.scan)

	if repo.RepositoryStr() != "" {
		rs.stats.Repositories = 1
		rs.listTags(repo.Name())
	} else {
		s.Progress.Printf("listing repositories of %s", tgt)
		n, err := registry.WalkCatalog(ctx, tgt, req.Options, func(repos []string) error {
			for _, r := range repos {
				rs.listTags(tgt + "/" + r)
			}
			return nil
		})
		rs.mu.Lock()
		rs.stats.Repositories = n
		rs.mu.Unlock()
		if err != nil {
			rs.incomplete(tgt, n > 0, "listing repositories", err)
		}
	}
	_ = rs.listG.Wait()
	_ = rs.resolveG.Wait()
	rs.scans.Close()

	results := rs.finish(tgt)
	for _, r := range results {
		emit(r)
	}
	return rs.stats, Interrupted(ctx)
}

// registryScan is the state of one ScanRegistry run. mu guards everything
// below it.
type registryScan struct {
	s   *Scanner
	ctx context.Context
	req RegistryRequest

	listG, resolveG errgroup.Group
	scans           *fanout.Queue[*target] // digests to scan, Concurrency at a time

	mu        sync.Mutex
	stats     RegistryStats
	problems  []*result.Image // listing and resolving failures
	byDigest  map[string]*target
	targets   []*target
	tagBudget int
	cutRepos  int // repositories whose tags were listed only in part
	skipRepos int // repositories not listed because the tag cap was reached
	resolved  int
	scanned   int
}

// errTagBudget stops a tag listing when the scan-wide tag cap is reached.
var errTagBudget = errors.New("tag cap reached")

// incomplete records a listing that failed (nothing read) or was cut short
// (some read) as a result named after what was being listed.
func (rs *registryScan) incomplete(ref string, some bool, what string, err error) {
	if ierr := Interrupted(rs.ctx); ierr != nil {
		err = ierr
	}
	status, reason := result.StatusFailed, fmt.Errorf("%s: %w", what, err)
	if some {
		status, reason = result.StatusPartial, fmt.Errorf("%s stopped early; only what was listed before was scanned: %w", what, err)
	}
	r := result.Incomplete(image.Descriptor{Reference: ref}, status, reason)
	rs.mu.Lock()
	rs.problems = append(rs.problems, r)
	rs.mu.Unlock()
}

// listTags lists repo's tags in the listing pool and hands each page's tags
// to the resolvers.
func (rs *registryScan) listTags(repo string) {
	rs.listG.Go(func() error {
		if rs.ctx.Err() != nil {
			rs.incomplete(repo, false, "listing tags", rs.ctx.Err())
			return nil
		}
		rs.mu.Lock()
		budget := rs.tagBudget
		if budget == 0 {
			rs.skipRepos++
		}
		rs.mu.Unlock()
		if budget == 0 {
			return nil
		}
		opts := rs.req.Options
		opts.MaxTags = budget
		n, err := registry.WalkTags(rs.ctx, repo, opts, func(tags []string) error {
			rs.mu.Lock()
			take := min(len(tags), rs.tagBudget)
			rs.tagBudget -= take
			rs.stats.Tags += take
			rs.s.Progress.Printf("listing tags: %d so far", rs.stats.Tags)
			rs.mu.Unlock()
			for _, t := range tags[:take] {
				rs.resolve(repo + ":" + t)
			}
			if take < len(tags) {
				return errTagBudget
			}
			return nil
		})
		switch {
		case err == nil:
		case rs.ctx.Err() == nil && (errors.Is(err, errTagBudget) || errors.Is(err, registry.ErrTruncated)):
			rs.mu.Lock()
			rs.cutRepos++
			rs.mu.Unlock()
		default:
			rs.incomplete(repo, n > 0, "listing tags", err)
		}
		return nil
	})
}

// resolve turns one tag into its digests in the resolver pool and queues
// each digest not seen before for scanning.
func (rs *registryScan) resolve(ref string) {
	rs.resolveG.Go(func() error {
		var res []registry.Resolved
		err := Interrupted(rs.ctx)
		if err == nil {
			res, err = registry.Resolve(rs.ctx, ref, rs.req.Options)
			if err == nil && len(res) == 0 {
				err = fmt.Errorf("no manifest for platform %s", strings.Join(rs.req.Options.Platforms, ","))
			}
			if ierr := Interrupted(rs.ctx); err != nil && ierr != nil {
				err = ierr
			}
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.resolved++
		rs.s.Progress.Printf("resolving tags: %d/%d", rs.resolved, rs.stats.Tags)
		if err != nil {
			r := result.Incomplete(image.Descriptor{Reference: ref}, result.StatusFailed, fmt.Errorf("resolving tag: %w", err))
			r.Tags = []string{ref}
			rs.problems = append(rs.problems, r)
			return nil
		}
		for _, r := range res {
			t := rs.byDigest[r.Digest]
			if t == nil {
				t = &target{ref: r.Reference, digest: r.Digest, platform: r.Platform, indexDigest: r.IndexDigest}
				rs.byDigest[r.Digest] = t
				rs.targets = append(rs.targets, t)
				rs.scans.Push(t)
			}
			t.tags = append(t.tags, ref)
		}
		return nil
	})
}

// scan scans one digest; a scan cut off by ctx leaves t.result nil.
func (rs *registryScan) scan(t *target) {
	if rs.ctx.Err() != nil {
		return
	}
	ro := image.RegistryOptions{Options: rs.req.Options, Platform: t.platform}
	var r *result.Image
	img, err := image.OpenRegistry(rs.ctx, t.ref, ro)
	if err != nil {
		if rs.ctx.Err() != nil {
			return
		}
		r = result.Incomplete(image.Descriptor{Reference: t.ref, Digest: t.digest}, result.StatusFailed, err)
	} else {
		defer img.Close()
		if r, err = rs.s.Scan(rs.ctx, img); err != nil {
			return
		}
	}
	rs.mu.Lock()
	t.result = r
	rs.scanned++
	rs.s.Progress.Printf("scanning images: %d/%d", rs.scanned, len(rs.targets))
	rs.mu.Unlock()
	if rs.req.Log != nil {
		rs.req.Log.Info("image scanned", "image", t.ref, "status", r.Status)
	}
}

// finish assembles every result: each digest (scanned, or failed with the
// interruption reason), each listing or resolving problem, and a partial
// result for the registry when the tag cap cut the listing short.
func (rs *registryScan) finish(tgt string) []*result.Image {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := append([]*result.Image(nil), rs.problems...)
	if rs.cutRepos > 0 || rs.skipRepos > 0 {
		r := result.Incomplete(image.Descriptor{Reference: tgt}, result.StatusPartial, fmt.Errorf("tag listing stopped at the cap of %d tags: %d repositories listed in part, %d not listed; their other tags were not scanned",
			positive(rs.req.Options.MaxTags, registry.DefaultMaxTags), rs.cutRepos, rs.skipRepos))
		out = append(out, r)
	}
	why := Interrupted(rs.ctx)
	if why == nil {
		why = errors.New("not scanned")
	}
	for _, t := range rs.targets {
		sort.Strings(t.tags)
		r := t.result
		if r == nil {
			r = result.Incomplete(image.Descriptor{Reference: t.ref, Digest: t.digest}, result.StatusFailed, why)
		}
		r.Tags = t.tags
		if r.Target.Platform == "" {
			r.Target.Platform = t.platform
		}
		if r.Target.IndexDigest == "" {
			r.Target.IndexDigest = t.indexDigest
		}
		out = append(out, r)
	}
	rs.stats.Digests = len(rs.targets)
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a].Target, out[b].Target
		if x.Reference != y.Reference {
			return x.Reference < y.Reference
		}
		return x.Digest < y.Digest
	})
	return out
}

func positive(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
