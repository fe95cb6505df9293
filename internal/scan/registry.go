package scan

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/report"
)

// RegistryRequest asks for every tag of a registry, or of one repository,
// to be scanned.
type RegistryRequest struct {
	// Target is "host[:port]" for the whole registry (catalog API) or
	// "host[:port]/repo" for one repository.
	Target string
	// Options carry credentials, transport and the platform filter
	// (Options.Platforms; empty means every platform).
	Options registry.Options
	// Concurrency bounds parallel resolves and scans (default 4).
	Concurrency int
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
}

// ScanRegistry lists the repositories and tags, resolves each tag to its
// manifest digests, scans each unique digest once, and hands every result
// to emit (serially) as soon as it is ready. Repositories, tags and images
// that cannot be listed, resolved or scanned are emitted as failed results,
// never dropped. The error is for cancellation or an unusable target.
func (s *Scanner) ScanRegistry(ctx context.Context, req RegistryRequest, emit func(*report.ImageResult)) (RegistryStats, error) {
	var stats RegistryStats
	workers := req.Concurrency
	if workers <= 0 {
		workers = 4
	}
	if req.Options.Transport == nil {
		req.Options.Transport = registry.NewTransport(nil, registry.RetryOptions{})
	}
	var mu sync.Mutex
	send := func(r *report.ImageResult) {
		mu.Lock()
		defer mu.Unlock()
		emit(r)
	}

	repos, err := s.repositories(ctx, req)
	if err != nil {
		return stats, err
	}
	stats.Repositories = len(repos)

	// List tags per repository.
	var refs []string
	for i, repo := range repos {
		s.Progress.Printf("listing tags: %d/%d repositories", i+1, len(repos))
		tags, err := registry.Tags(ctx, repo, req.Options)
		if err != nil {
			if ctx.Err() != nil {
				return stats, ctx.Err()
			}
			send(failed(repo, fmt.Errorf("listing tags: %w", err)))
			continue
		}
		for _, t := range tags {
			refs = append(refs, repo+":"+t)
		}
	}
	stats.Tags = len(refs)

	// Resolve every tag to its digests, in parallel.
	byDigest := map[string]*target{}
	var done int
	err = ForEach(ctx, workers, len(refs), func(i int) {
		res, err := registry.Resolve(ctx, refs[i], req.Options)
		if err == nil && len(res) == 0 {
			err = fmt.Errorf("no manifest for platform %s", strings.Join(req.Options.Platforms, ","))
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		s.Progress.Printf("resolving tags: %d/%d", done, len(refs))
		if err != nil {
			if ctx.Err() == nil {
				r := failed(refs[i], fmt.Errorf("resolving tag: %w", err))
				r.Tags = []string{refs[i]}
				emit(r)
			}
			return
		}
		for _, r := range res {
			t := byDigest[r.Digest]
			if t == nil {
				t = &target{ref: r.Reference, digest: r.Digest, platform: r.Platform, indexDigest: r.IndexDigest}
				byDigest[r.Digest] = t
			}
			t.tags = append(t.tags, refs[i])
		}
	})
	if err != nil {
		return stats, err
	}
	targets := make([]*target, 0, len(byDigest))
	for _, t := range byDigest {
		sort.Strings(t.tags)
		targets = append(targets, t)
	}
	sort.Slice(targets, func(a, b int) bool { return targets[a].ref < targets[b].ref })
	stats.Digests = len(targets)

	// Scan each unique digest once.
	done = 0
	err = ForEach(ctx, workers, len(targets), func(i int) {
		t := targets[i]
		r := s.scanTarget(ctx, t, req.Options)
		if r == nil {
			return // cancelled
		}
		mu.Lock()
		done++
		s.Progress.Printf("scanning images: %d/%d", done, len(targets))
		mu.Unlock()
		send(r)
	})
	return stats, err
}

func (s *Scanner) scanTarget(ctx context.Context, t *target, opts registry.Options) *report.ImageResult {
	ro := image.RegistryOptions{Options: opts, Platform: t.platform}
	img, err := image.OpenRegistry(ctx, t.ref, ro)
	var r *report.ImageResult
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		r = failed(t.ref, err)
		r.Target.Digest = t.digest
	} else {
		defer img.Close()
		r, err = s.Scan(ctx, img)
		if err != nil {
			return nil
		}
	}
	r.Tags = t.tags
	if r.Target.Platform == "" {
		r.Target.Platform = t.platform
	}
	if r.Target.IndexDigest == "" {
		r.Target.IndexDigest = t.indexDigest
	}
	return r
}

// repositories returns the repositories the request covers.
func (s *Scanner) repositories(ctx context.Context, req RegistryRequest) ([]string, error) {
	target := strings.TrimSuffix(req.Target, "/")
	if strings.Contains(target, "/") {
		repo, err := name.NewRepository(target, req.Options.NameOptions()...)
		if err != nil {
			return nil, fmt.Errorf("%q is not a registry or repository: %w", req.Target, err)
		}
		return []string{repo.Name()}, nil
	}
	if _, err := name.NewRegistry(target, req.Options.NameOptions()...); err != nil {
		return nil, fmt.Errorf("%q is not a registry: %w", req.Target, err)
	}
	s.Progress.Printf("listing repositories of %s", target)
	repos, err := registry.Catalog(ctx, target, req.Options)
	if err != nil {
		return nil, fmt.Errorf("listing repositories of %s: %w", target, err)
	}
	sort.Strings(repos)
	out := make([]string, len(repos))
	for i, r := range repos {
		out[i] = target + "/" + r
	}
	return out, nil
}

func failed(ref string, err error) *report.ImageResult {
	return &report.ImageResult{
		Target: image.Descriptor{Reference: ref},
		Status: report.StatusFailed,
		Error:  err.Error(),
	}
}

// ForEach runs fn(0..n-1) on at most workers goroutines and stops handing
// out work when ctx is cancelled.
func ForEach(ctx context.Context, workers, n int, fn func(i int)) error {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers && w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			close(next)
			wg.Wait()
			return ctx.Err()
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}
