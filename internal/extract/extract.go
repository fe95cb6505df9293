// Package extract turns a flattened image filesystem into an inventory of
// installed packages, using osv-scalibr's filesystem extractors from an
// explicit list (plugins.go), and records which files each OS package owns.
//
// Every file that cannot be read or parsed becomes an inventory.FileError and
// the scan goes on; only a failed walk (or a cancelled context) fails Extract.
package extract

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	scalibrfs "github.com/google/osv-scalibr/fs"
	"github.com/google/osv-scalibr/stats"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

// Options bound what one extraction may cost. Zero values mean the defaults.
type Options struct {
	// MaxFileBytes caps manifests and package databases that extractors read
	// whole into memory (dpkg status, package.json, METADATA, ...).
	// Default 64 MiB.
	MaxFileBytes int64
	// MaxBinaryBytes caps executables and rpm databases, which are read
	// through io.ReaderAt or copied to disk rather than loaded.
	// Default 1 GiB.
	MaxBinaryBytes int64
	// MaxArchiveBytes caps one Java archive: its own size and, together,
	// the nested archives opened from it (those are read into memory).
	// Default 256 MiB.
	MaxArchiveBytes int64
	// MaxArchiveDepth caps jar-in-jar nesting. Default 8.
	MaxArchiveDepth int
	// MaxInodes stops the walk after this many files and directories; the
	// scan then fails. Default 0: no limit (layerfs already caps entries).
	MaxInodes int
}

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = 64 << 20
	}
	if o.MaxBinaryBytes <= 0 {
		o.MaxBinaryBytes = 1 << 30
	}
	if o.MaxArchiveBytes <= 0 {
		o.MaxArchiveBytes = 256 << 20
	}
	if o.MaxArchiveDepth <= 0 {
		o.MaxArchiveDepth = 8
	}
	return o
}

// Extract walks root once with every extractor and returns the packages
// found, the distribution, and the files that failed. Files the extractors
// want under a name through an in-image symlink are extracted too (see
// layerfs.Aliases). Packages are sorted
// deterministically; the same root always yields the same inventory.
func Extract(ctx context.Context, root layerfs.RootFS, opts Options) (*inventory.Inventory, error) {
	if root == nil {
		return nil, errors.New("extract: nil root")
	}
	quietScalibr()
	opts = opts.withDefaults()
	exts, byName, err := buildExtractors(opts)
	if err != nil {
		return nil, err
	}
	skips := newSkipLog()
	for _, e := range exts {
		e.(*guard).skips = skips
	}
	cfg := &filesystem.Config{
		Extractors: exts,
		ScanRoots:  []*scalibrfs.ScanRoot{{FS: watchedFS{RootFS: root, log: skips}}},
		Stats:      stats.NoopCollector{},
		MaxInodes:  opts.MaxInodes,
	}
	sinv, statuses, err := filesystem.Run(ctx, cfg)
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("extract: %w", cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("extract: walking root: %w", err)
	}
	links, err := throughLinks(ctx, cfg, root, exts, byName)
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("extract: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	sinv.Append(links.inv)
	statuses = append(statuses, links.statuses...)

	inv := &inventory.Inventory{Packages: []inventory.Package{}, Errors: links.errs}
	rel, relErr := readOSRelease(root)
	if relErr != nil {
		inv.Errors = append(inv.Errors, inventory.FileError{Path: "/etc/os-release", Extractor: "os-release", Reason: relErr.Error()})
	}
	inv.Distro = rel.distro()

	for _, p := range sinv.Packages {
		inv.Packages = append(inv.Packages, convert(p, byName, rel))
	}
	inv.Packages = dedupe(inv.Packages)
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if len(p.Locations) > 0 {
			loc := strings.TrimPrefix(p.Locations[0], "/")
			if t, ok := links.targets[loc]; ok {
				loc = t // the layer that wrote the file, not the link
			}
			p.Layer = root.LayerOf(loc)
		}
	}
	inv.Errors = append(inv.Errors, addOwnership(ctx, root, inv.Packages, opts)...)
	setOwners(ctx, root, inv.Packages)
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("extract: %w", cerr)
	}

	for _, st := range statuses {
		if st.Status == nil {
			continue
		}
		for _, fe := range st.Status.FileErrors {
			p := strings.TrimPrefix(fe.FilePath, "/")
			inv.Errors = append(inv.Errors, inventory.FileError{
				Path: "/" + p, Extractor: st.Name, Reason: fe.ErrorMessage,
				Skipped: byName[st.Name].kind.listsPackages() && skips.skipped(st.Name, p),
			})
		}
	}
	slices.SortFunc(inv.Errors, func(a, b inventory.FileError) int {
		return cmpStrings(a.Path, b.Path, a.Extractor, b.Extractor, a.Reason, b.Reason)
	})
	return inv, nil
}

// locations returns the image-absolute path a scalibr package was found
// through. scalibr's "related" paths (a pom.properties inside a nested jar)
// are not files in the image, so they are left out: a nested jar's package
// is located at the outer archive.
func locations(p *extractor.Package) []string {
	if d := p.Location.PathOrEmpty(); d != "" {
		return []string{"/" + strings.TrimPrefix(d, "/")}
	}
	return nil
}

// dedupe merges packages that are the same (a gem found through two
// gemspecs, one npm version in two node_modules) into one with all their
// locations, and sorts the result. Programs found without module
// information are one package per file: two files of one name are not
// known to be the same program, and each may have its own owner.
func dedupe(pkgs []inventory.Package) []inventory.Package {
	key := func(p *inventory.Package) string {
		k := p.Type + "\x00" + p.Ecosystem + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.SourceName + "\x00" + p.SourceVersion
		if isBinaryType(p.Type) {
			k += "\x00" + first(p.Locations)
		}
		return k
	}
	idx := make(map[string]int, len(pkgs))
	out := pkgs[:0]
	for _, p := range pkgs {
		k := key(&p)
		if i, ok := idx[k]; ok {
			out[i].Locations = append(out[i].Locations, p.Locations...)
			continue
		}
		idx[k] = len(out)
		out = append(out, p)
	}
	for i := range out {
		slices.Sort(out[i].Locations)
		out[i].Locations = slices.Compact(out[i].Locations)
	}
	slices.SortFunc(out, func(a, b inventory.Package) int {
		return cmpStrings(a.Ecosystem, b.Ecosystem, a.Name, b.Name, a.Version, b.Version, a.Type, b.Type,
			first(a.Locations), first(b.Locations))
	})
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// cmpStrings compares pairs (a0,b0), (a1,b1), ... in order.
func cmpStrings(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}
