// Package scan runs one image through the pipeline: identify it, reuse or
// build its inventory (flatten layers, extract packages), match it against
// the advisory store, and return a result.Image. It never reports a
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
	"github.com/runlens/runlens/internal/result"
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

// Identity is the cache identity of an opened image: what its source
// verified before the layers were read. A manifest digest is set only by
// sources that hashed the manifest's bytes (registries, OCI layouts and
// archives); a docker-save archive proves only its config digest, so its
// entries live in another key space. A directory has no identity and is
// never cached.
func Identity(d image.Descriptor) (cache.Identity, bool) {
	diffIDs := make([]string, 0, len(d.Layers))
	for _, l := range d.Layers {
		diffIDs = append(diffIDs, l.DiffID)
	}
	switch {
	case d.Digest != "" && d.ConfigDigest != "":
		return cache.Identity{Kind: cache.KindManifest, Digest: d.Digest, ConfigDigest: d.ConfigDigest, DiffIDs: diffIDs}, true
	case d.ConfigDigest != "":
		return cache.Identity{Kind: cache.KindConfig, Digest: d.ConfigDigest, ConfigDigest: d.ConfigDigest, DiffIDs: diffIDs}, true
	}
	return cache.Identity{}, false
}

// Scan scans one opened image. Errors about the image itself are recorded in
// the result (status failed or partial); the returned error is only for
// cancellation.
func (s *Scanner) Scan(ctx context.Context, img image.Image) (*result.Image, error) {
	start := time.Now()
	desc := img.Descriptor()
	res := &result.Image{Target: desc, Status: result.StatusScanned, Findings: []match.Finding{}}
	defer func() { res.DurationMS = time.Since(start).Milliseconds() }()

	// A freshly read image is matched while its root is open, so that Go
	// findings are checked against the functions their binary links.
	matched := false
	var merr error
	inv, cached, err := s.inventory(ctx, img, res, func(root layerfs.RootFS, inv *inventory.Inventory) {
		matched, merr = true, s.match(ctx, inv, res)
		if merr == nil {
			checkGoSymbols(ctx, root, inv, res.Findings)
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res.Status = result.StatusFailed
		res.Error = err.Error()
		return res, nil
	}
	res.Cached = cached
	if !matched {
		merr = s.match(ctx, inv, res)
	}
	if err := merr; err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res.Status = result.StatusFailed
		res.Error = err.Error()
	}
	return res, nil
}

// inventory returns the image's packages from the cache or by extraction.
// A partial extraction is returned with res marked partial and not cached.
// withRoot, if set, is called with an extracted inventory before the
// image's root is closed (never for a cached one).
func (s *Scanner) inventory(ctx context.Context, img image.Image, res *result.Image, withRoot func(layerfs.RootFS, *inventory.Inventory)) (*inventory.Inventory, bool, error) {
	id, cacheable := Identity(res.Target)
	cacheable = cacheable && s.Cache != nil
	if cacheable {
		e, ok, err := s.Cache.Get(ctx, id, extract.Version)
		if err == nil && ok {
			res.LayerIssues = e.LayerIssues
			return e.Inventory, true, nil
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
		res.Status = result.StatusPartial
		res.Error = ferr.Error()
	}
	res.LayerIssues = root.Issues()
	s.Progress.Printf("extracting packages from %s", res.Target.Reference)
	inv, err := extract.Extract(ctx, root, extract.Options{})
	if err != nil {
		return nil, false, fmt.Errorf("extracting packages: %w", err)
	}
	if why := extract.Incomplete(inv); why != "" {
		// A package database left unread hides its packages: never clean.
		if res.Error != "" {
			why = res.Error + "; " + why
		}
		res.Status, res.Error = result.StatusPartial, why
	}
	if cacheable && res.Status == result.StatusScanned {
		// A failed cache write only costs the next scan time.
		_ = s.Cache.Put(ctx, &cache.Entry{Identity: id, Version: extract.Version, Inventory: inv, LayerIssues: res.LayerIssues})
	}
	if withRoot != nil {
		withRoot(root, inv)
	}
	return inv, false, nil
}

func (s *Scanner) match(ctx context.Context, inv *inventory.Inventory, res *result.Image) error {
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
func (s *Scanner) ScanDigest(ctx context.Context, ref, digest string, open func(context.Context) (image.Image, error)) (*result.Image, error) {
	start := time.Now()
	desc := image.Descriptor{Reference: ref, Digest: digest}
	if s.Cache != nil {
		// Only an entry written by a source that hashed this very manifest
		// answers a lookup by manifest digest.
		want := cache.Identity{Kind: cache.KindManifest, Digest: digest}
		if e, ok, err := s.Cache.Get(ctx, want, extract.Version); err == nil && ok {
			res := &result.Image{Target: desc, Status: result.StatusScanned, Cached: true, Findings: []match.Finding{}, LayerIssues: e.LayerIssues}
			if err := s.match(ctx, e.Inventory, res); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				res.Status = result.StatusFailed
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
		return result.Incomplete(desc, result.StatusFailed, err), nil
	}
	defer img.Close()
	return s.Scan(ctx, img)
}

// Inventory reads img's packages without matching them: the node agent
// maps the files processes use to packages with it. The result says
// whether the read was complete (status partial or failed, with the
// reason); the error is set when nothing could be read.
func (s *Scanner) Inventory(ctx context.Context, img image.Image) (*inventory.Inventory, *result.Image, error) {
	res := &result.Image{Target: img.Descriptor(), Status: result.StatusScanned, Findings: []match.Finding{}}
	inv, cached, err := s.inventory(ctx, img, res, nil)
	res.Cached = cached
	if err != nil {
		res.Status, res.Error = result.StatusFailed, err.Error()
		return nil, res, err
	}
	res.PackageCount = len(inv.Packages)
	return inv, res, nil
}
