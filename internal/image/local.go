package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlens/runlens/internal/layerfs"
)

// LocalOptions configure OpenArchive and OpenLayout.
type LocalOptions struct {
	// Tag selects the image when the source holds several: "repo:tag",
	// "tag", or a full reference, matched against the names the source
	// records. OpenArchive also accepts it as "PATH:TAG".
	Tag string
	// Platform picks from a multi-platform index; "" means
	// registry.DefaultPlatform().
	Platform string
	// MaxManifestBytes and MaxConfigBytes cap the JSON read before any
	// layer; 0 means the defaults.
	MaxManifestBytes int64
	MaxConfigBytes   int64
}

func (o LocalOptions) limits() limits {
	return limits{manifest: o.MaxManifestBytes, config: o.MaxConfigBytes}.withDefaults()
}

// blobOpener is a store whose manifests are ordinary blobs (OCI layout and
// OCI tarball): readManifest is openBlob plus the cap and the digest check.
type blobOpener struct {
	open func(d v1.Descriptor) (io.ReadCloser, error)
}

func (b blobOpener) openBlob(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.open(d)
}

func (b blobOpener) readManifest(ctx context.Context, d v1.Descriptor, max int64) ([]byte, error) {
	what := "manifest " + d.Digest.String()
	if d.Size < 0 || d.Size > max {
		return nil, fmt.Errorf("%s: %w: descriptor declares %d bytes, cap is %d", what, ErrTooLarge, d.Size, max)
	}
	rc, err := b.openBlob(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return readAllVerified(rc, d, max, what)
}

// blobPath is where OCI image-layout keeps a blob. d.Digest was parsed by
// v1.Hash, so Algorithm is a known hash name and Hex is pure hex.
func blobPath(d v1.Descriptor) string {
	return "blobs/" + d.Digest.Algorithm + "/" + d.Digest.Hex
}

// openOCI opens the image selected from an OCI layout's index.json, whose
// blobs s reads (from a layout directory or from inside a tarball).
func openOCI(ctx context.Context, ref, source string, indexJSON []byte, s blobOpener, opts LocalOptions) (*layered, error) {
	lim := opts.limits()
	idx, err := v1.ParseIndexManifest(bytes.NewReader(indexJSON))
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", source, err)
	}
	entry, err := selectEntry(idx, opts.Tag, opts.Platform, source)
	if err != nil {
		return nil, err
	}
	raw, err := s.readManifest(ctx, entry, lim.manifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	md, raw, indexDigest, err := descend(ctx, s, entry, raw, opts.Platform, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	img, err := build(ctx, s, ref, md, raw, indexDigest, lim)
	if err != nil {
		return nil, err
	}
	img.desc.RepoTags = refNames(entry)
	return img, nil
}

// OpenLayout opens an image from an OCI image-layout directory. Every file
// is opened through an os.Root, so symlinks in the layout cannot reach
// outside dir, and only regular files are opened (a fifo in place of
// index.json or a blob is refused instead of blocking forever).
func OpenLayout(ctx context.Context, dir string, opts LocalOptions) (Image, error) {
	root, err := layerfs.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	lim := opts.limits()
	indexJSON, err := readCapped(root, "index.json", lim.manifest)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	s := blobOpener{open: func(d v1.Descriptor) (io.ReadCloser, error) {
		f, err := layerfs.OpenFileIn(root, blobPath(d))
		if err != nil {
			return nil, fmt.Errorf("blob %s: %w", d.Digest, err)
		}
		return f, nil
	}}
	ref := dir
	if opts.Tag != "" {
		ref = dir + ":" + opts.Tag
	}
	img, err := openOCI(ctx, ref, "oci layout "+dir, indexJSON, s, opts)
	if err != nil {
		root.Close()
		return nil, err
	}
	img.closeFn = root.Close
	return img, nil
}

// readCapped reads a small regular file, refusing it if larger than max.
func readCapped(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := layerfs.OpenFileIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, max, name)
}

func readLimited(r io.Reader, max int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w: over %d bytes", what, ErrTooLarge, max)
	}
	return b, nil
}

var errNotDir = errors.New("not a directory")
