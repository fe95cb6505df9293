package testimage

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// DirOptions fix everything in a layer tar that would otherwise vary
// between two packings of the same directory.
type DirOptions struct {
	// MTime is written as every entry's modification time.
	MTime time.Time
	// KeepOwner keeps the numeric uid/gid of each file; otherwise 0/0.
	KeepOwner bool
	// GzipLevel is the compress/gzip level of the written blob.
	GzipLevel int
	// OCI selects the OCI layer media type, else Docker's (DirLayer).
	OCI bool
}

// Packed describes a gzip-compressed layer tar PackDir wrote.
type Packed struct {
	// DiffID is the sha256 of the uncompressed tar ("sha256:...").
	DiffID string
	// Entries is the number of tar entries written.
	Entries int
	// Skipped lists files that a tar cannot carry (sockets), with the reason.
	Skipped []string
}

// DirLayer packs dir with PackDir into the file blob and returns the layer
// that file holds. The file must stay until the layer is no longer used.
func DirLayer(ctx context.Context, dir, blob string, opts DirOptions) (v1.Layer, Packed, error) {
	f, err := os.Create(blob)
	if err != nil {
		return nil, Packed{}, fmt.Errorf("create %s: %w", blob, err)
	}
	p, err := PackDir(ctx, dir, f, opts)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", blob, cerr)
	}
	if err != nil {
		return nil, p, err
	}
	l, err := tarball.LayerFromFile(blob, tarball.WithMediaType(layerType(opts.OCI)))
	if err != nil {
		return nil, p, fmt.Errorf("layer %s: %w", blob, err)
	}
	return l, p, nil
}

// PackDir writes dir as a deterministic gzip-compressed layer tar into out.
// Entries are sorted by path, carry fixed times and owners, and files that
// share an inode become hardlink entries pointing at the first path seen,
// so the same tree always yields the same bytes with the same Go toolchain.
// Names like ".wh.foo" are packed verbatim, which lets callers build
// whiteout and opaque-directory layers from plain directories.
func PackDir(ctx context.Context, dir string, out io.Writer, opts DirOptions) (Packed, error) {
	var res Packed
	gz, err := gzip.NewWriterLevel(out, opts.GzipLevel)
	if err != nil {
		return res, fmt.Errorf("gzip writer: %w", err)
	}
	sum := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(gz, sum))

	paths, err := sortedTree(ctx, dir)
	if err != nil {
		return res, err
	}
	seen := map[fileID]string{} // first tar name of each multiply linked inode
	for _, rel := range paths {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		skipped, err := writeEntry(tw, dir, rel, opts, seen)
		if err != nil {
			return res, err
		}
		if skipped != "" {
			res.Skipped = append(res.Skipped, rel+": "+skipped)
			continue
		}
		res.Entries++
	}
	if err := tw.Close(); err != nil {
		return res, fmt.Errorf("closing tar: %w", err)
	}
	if err := gz.Close(); err != nil {
		return res, fmt.Errorf("closing gzip: %w", err)
	}
	res.DiffID = "sha256:" + hex.EncodeToString(sum.Sum(nil))
	return res, nil
}

// sortedTree lists every path under dir (relative, slash-separated, without
// dir itself) in byte order of the full path, which is what tar readers and
// layer diffing tools expect a parent to precede its children in.
func sortedTree(ctx context.Context, dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walking %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("relative path of %s: %w", p, err)
		}
		if rel != "." {
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// WalkDir already visits in lexical order per directory; a global sort
	// would put "a.b" before "a/x" and split a directory from its children.
	return paths, nil
}

// writeEntry writes one tar entry for dir/rel. It returns a non-empty reason
// instead of an entry for file types a layer cannot hold.
func writeEntry(tw *tar.Writer, dir, rel string, opts DirOptions, seen map[fileID]string) (string, error) {
	full := filepath.Join(dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(full)
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", full, err)
	}
	if fi.Mode()&fs.ModeSocket != 0 {
		return "socket", nil
	}
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(full); err != nil {
			return "", fmt.Errorf("readlink %s: %w", full, err)
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return "", fmt.Errorf("tar header for %s: %w", full, err)
	}
	hdr.Name = rel
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Format = tar.FormatPAX
	hdr.ModTime = opts.MTime
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	hdr.Uname, hdr.Gname = "", ""
	// FileInfoHeader filled uid/gid and device numbers from the stat.
	if !opts.KeepOwner {
		hdr.Uid, hdr.Gid = 0, 0
	}
	st := statOf(fi)
	if fi.Mode().IsRegular() && st.nlink > 1 {
		if first, ok := seen[st.id]; ok {
			hdr.Typeflag = tar.TypeLink
			hdr.Linkname = first
			hdr.Size = 0
			return "", writeHeader(tw, hdr)
		}
		seen[st.id] = rel
	}
	if err := writeHeader(tw, hdr); err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", nil
	}
	f, err := os.Open(full)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", full, err)
	}
	defer f.Close()
	n, err := io.Copy(tw, f)
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", full, err)
	}
	if n != hdr.Size {
		return "", fmt.Errorf("copy %s: size changed while packing (%d != %d)", full, n, hdr.Size)
	}
	return "", nil
}

func writeHeader(tw *tar.Writer, hdr *tar.Header) error {
	// PAX records would carry sub-second times and xattrs; we want neither.
	hdr.PAXRecords = nil
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("tar header %s: %w", hdr.Name, err)
	}
	return nil
}

// fileID identifies an inode for hardlink detection.
type fileID struct{ dev, ino uint64 }

// fileStat is the part of a platform stat that packing uses.
type fileStat struct {
	id    fileID
	nlink uint64
}
