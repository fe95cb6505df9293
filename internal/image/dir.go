package image

import (
	"context"
	"fmt"
	"os"

	"github.com/runlens/runlens/internal/layerfs"
)

// OpenDir opens a root-filesystem directory (an unpacked image, a
// debootstrap tree, a mounted snapshot) as an image without layers; its
// Descriptor carries only the Reference.
func OpenDir(ctx context.Context, dir string) (Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("root filesystem %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("root filesystem %s: %w", dir, errNotDir)
	}
	return &dirImage{dir: dir}, nil
}

type dirImage struct{ dir string }

// Descriptor implements Image.
func (d *dirImage) Descriptor() Descriptor { return Descriptor{Reference: d.dir} }

// RootFS implements Image; the directory is read in place through
// layerfs.Dir, which confines symlinks to it.
func (d *dirImage) RootFS(ctx context.Context, _ layerfs.Options) (layerfs.RootFS, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return layerfs.Dir(d.dir)
}

// Close implements Image.
func (d *dirImage) Close() error { return nil }
