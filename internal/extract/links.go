package extract

import (
	"context"
	"fmt"

	"github.com/google/osv-scalibr/extractor/filesystem"
	scalibrinv "github.com/google/osv-scalibr/inventory"
	scalibrplugin "github.com/google/osv-scalibr/plugin"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

// linked is what the extractors found through in-image symlinks.
type linked struct {
	inv      scalibrinv.Inventory
	statuses []*scalibrplugin.Status
	errs     []inventory.FileError
	// targets maps a path reached through a symlink to the file's own
	// path, for layer attribution.
	targets map[string]string
}

// throughLinks runs the extractors on the files they want that scalibr's
// walk never offers them: files behind an in-image symlink
// (var/lib/dpkg -> ../../opt/dpkg, or a status linked to /opt/status),
// resolved inside the root by layerfs. Wanted paths that are fifos,
// devices or sockets, and symlinked trees too large to search, become
// FileErrors (Skipped when they would list packages).
func throughLinks(ctx context.Context, cfg *filesystem.Config, root layerfs.RootFS, exts []filesystem.Extractor, byName map[string]plugin) (*linked, error) {
	als, aerr := layerfs.Aliases(ctx, root, extractorsWant(exts))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := &linked{targets: map[string]string{}}
	if aerr != nil {
		out.errs = append(out.errs, inventory.FileError{Path: "/", Reason: aerr.Error(), Skipped: true})
	}
	var paths []string
	for _, a := range als {
		if a.Mode.IsRegular() {
			paths = append(paths, a.Path)
			out.targets[a.Path] = a.Target
			continue
		}
		info, err := root.Stat(a.Path)
		if err != nil {
			continue
		}
		for _, e := range exts {
			if e.FileRequired(&fileAPI{path: a.Path, info: info}) {
				out.errs = append(out.errs, inventory.FileError{
					Path: "/" + a.Path, Extractor: e.Name(),
					Reason:  fmt.Sprintf("%v (%s)", layerfs.ErrNotRegular, layerfs.TypeName(a.Mode)),
					Skipped: byName[e.Name()].kind.listsPackages(),
				})
			}
		}
	}
	if len(paths) == 0 {
		return out, nil
	}
	c := *cfg
	c.PathsToExtract = paths
	sinv, statuses, err := filesystem.Run(ctx, &c)
	if err != nil {
		return nil, fmt.Errorf("extract: files reached through symlinks: %w", err)
	}
	out.inv, out.statuses = sinv, statuses
	return out, nil
}
