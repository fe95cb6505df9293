// Package scan runs one image through the pipeline: identify it, reuse or
// build its inventory (flatten layers, extract packages), match it against
// the advisory store, and return a report.ImageResult. It never reports a
// failed or partial scan as clean.
package scan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/extract"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/progress"
	"github.com/runlens/runlens/internal/report"
)

// Scanner holds what every image scan shares.
type Scanner struct {
	// Advisories is the vulnerability store to match against.
	Advisories match.Source
	// Threats, if set, adds EPSS and KEV data to findings.
	Threats Threats
	// Cache, if set, stores inventories by image digest.
	Cache *cache.Cache
	// LayerCache, if set, replays layers read before (by diffID), so an
	// image sharing base layers with an earlier one skips fetching them.
	LayerCache layerfs.LayerCache
	// TempDir is where layer contents are spooled ("" = os.TempDir()).
	TempDir string
	// Limits bound what one image may cost.
	Limits layerfs.Limits
	// IncludePackages keeps the full package list in results.
	IncludePackages bool
	// Progress, if set, shows what is happening on a terminal.
	Progress *progress.Line
}

// CacheKey is the inventory cache key of an image: its digest (or image ID
// when the source has no manifest digest) and the extractor-set version, so
// a new extractor release re-extracts.
func CacheKey(d image.Descriptor) string {
	id := d.Digest
	if id == "" {
		id = d.ConfigDigest
	}
	if id == "" {
		return ""
	}
	return id + "|" + extract.Version
}

// Scan scans one opened image. Errors about the image itself are recorded in
// the result (status failed or partial); the returned error is only for
// cancellation.
func (s *Scanner) Scan(ctx context.Context, img image.Image) (*report.ImageResult, error) {
	start := time.Now()
	desc := img.Descriptor()
	res := &report.ImageResult{Target: desc, Status: report.StatusScanned, Findings: []match.Finding{}}
	defer func() { res.DurationMS = time.Since(start).Milliseconds() }()

	inv, cached, err := s.inventory(ctx, img, res)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res.Status = report.StatusFailed
		res.Error = err.Error()
		return res, nil
	}
	res.Cached = cached
	if err := s.match(ctx, inv, res); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res.Status = report.StatusFailed
		res.Error = err.Error()
	}
	return res, nil
}

// inventory returns the image's packages from the cache or by extraction.
// A partial extraction is returned with res marked partial and not cached.
func (s *Scanner) inventory(ctx context.Context, img image.Image, res *report.ImageResult) (*inventory.Inventory, bool, error) {
	key := CacheKey(res.Target)
	if s.Cache != nil && key != "" {
		inv, ok, err := s.Cache.Get(ctx, key)
		if err == nil && ok {
			return inv, true, nil
		}
		// An unreadable entry is not fatal: rescan and overwrite it.
	}
	s.Progress.Printf("reading %s", res.Target.Reference)
	opts := layerfs.Options{
		Want:    extract.Want(),
		Limits:  s.Limits,
		TempDir: s.TempDir,
		// Want is extract.Want(): its version keys the layer replays.
		LayerCache:    s.LayerCache,
		LayerCacheKey: extract.Version,
		Progress: func(layer int, read int64) {
			s.Progress.Printf("reading %s: layer %d/%d, %s", res.Target.Reference, layer+1, len(res.Target.Layers), progress.Bytes(read))
		},
	}
	root, ferr := img.RootFS(ctx, opts)
	if root == nil {
		if ferr == nil {
			ferr = errors.New("no filesystem")
		}
		return nil, false, fmt.Errorf("reading image: %w", ferr)
	}
	defer root.Close()
	if ferr != nil {
		// The view is usable but incomplete (a layer too large, a corrupt
		// layer): scan what was read and say the result is partial.
		res.Status = report.StatusPartial
		res.Error = ferr.Error()
	}
	res.LayerIssues = root.Issues()
	s.Progress.Printf("extracting packages from %s", res.Target.Reference)
	inv, err := extract.Extract(ctx, root, extract.Options{})
	if err != nil {
		return nil, false, fmt.Errorf("extracting packages: %w", err)
	}
	if s.Cache != nil && key != "" && res.Status == report.StatusScanned {
		// A failed cache write only costs the next scan time.
		_ = s.Cache.Put(ctx, key, inv)
	}
	return inv, false, nil
}

func (s *Scanner) match(ctx context.Context, inv *inventory.Inventory, res *report.ImageResult) error {
	res.Distro = inv.Distro
	res.PackageCount = len(inv.Packages)
	res.FileErrors = inv.Errors
	if s.IncludePackages {
		res.Packages = inv.Packages
	}
	s.Progress.Printf("matching %d packages", len(inv.Packages))
	m, err := match.Match(ctx, inv, s.Advisories)
	if err != nil {
		return fmt.Errorf("matching advisories: %w", err)
	}
	res.Findings = m.Findings
	if res.Findings == nil {
		res.Findings = []match.Finding{}
	}
	res.MatchErrors = m.Errors
	if s.Threats != nil {
		addThreats(ctx, s.Threats, res.Findings)
	}
	return nil
}

// ScanDigest scans an image whose manifest digest is already known (a
// cluster reports the digest each container runs). A cached inventory
// answers without contacting the registry; otherwise open is called.
func (s *Scanner) ScanDigest(ctx context.Context, ref, digest string, open func(context.Context) (image.Image, error)) (*report.ImageResult, error) {
	start := time.Now()
	desc := image.Descriptor{Reference: ref, Digest: digest}
	if s.Cache != nil {
		if inv, ok, err := s.Cache.Get(ctx, CacheKey(desc)); err == nil && ok {
			res := &report.ImageResult{Target: desc, Status: report.StatusScanned, Cached: true, Findings: []match.Finding{}}
			if err := s.match(ctx, inv, res); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				res.Status = report.StatusFailed
				res.Error = err.Error()
			}
			res.DurationMS = time.Since(start).Milliseconds()
			return res, nil
		}
	}
	img, err := open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return &report.ImageResult{Target: desc, Status: report.StatusFailed, Error: err.Error(), Findings: []match.Finding{}}, nil
	}
	defer img.Close()
	return s.Scan(ctx, img)
}
