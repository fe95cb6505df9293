package vulndb

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
)

// ImportBundle installs the database carried by the bundle at path into
// dir. Before anything is swapped in it checks the manifest (format,
// bundle and schema versions), the size and SHA-256 of the database member,
// the end of the archive (a truncated bundle fails), and then verifies the
// extracted file exactly as Import verifies a freshly built one; it also
// applies the same collapse check. The swap is Import's: a temp file in
// dir, renamed over the live one under the directory lock. On any error
// the current database is left untouched.
func (im *Importer) ImportBundle(ctx context.Context, dir, path string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("import bundle: %w", err)
	}
	defer f.Close()
	unlock, prev, err := beginSwap(ctx, dir)
	if err != nil {
		return Manifest{}, fmt.Errorf("import bundle: %w", err)
	}
	defer unlock()

	zr, err := zstd.NewReader(bufio.NewReaderSize(f, 1<<20), zstd.WithDecoderMaxMemory(1<<28))
	if err != nil {
		return Manifest{}, fmt.Errorf("import bundle %s: %w: %v", path, ErrBundle, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	m, err := readManifest(tr)
	if err != nil {
		return Manifest{}, fmt.Errorf("import bundle %s: %w", path, err)
	}
	want := m.Members[0]
	if max := im.limits().MaxDownloadBytes; want.Size > max {
		return Manifest{}, fmt.Errorf("import bundle %s: %w", path, bundleErr("%s is %d bytes, more than the limit of %d", want.Name, want.Size, max))
	}

	tmp, err := os.CreateTemp(dir, tempPrefix+"bundle-*")
	if err != nil {
		return Manifest{}, fmt.Errorf("import bundle: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := extractMember(ctx, tr, tmp, want); err != nil {
		return Manifest{}, fmt.Errorf("import bundle %s: %w; the current database is kept", path, err)
	}
	if err := closeTemp(tmp); err != nil {
		return Manifest{}, fmt.Errorf("import bundle: %w", err)
	}
	if err := im.swapIn(ctx, dir, tmp.Name(), m.Database, prev); err != nil {
		return Manifest{}, fmt.Errorf("import bundle %s: %w", path, err)
	}
	done = true
	return m, nil
}

// extractMember copies the next tar member to w, checking its name, size
// and SHA-256 against the manifest and that nothing follows it.
func extractMember(ctx context.Context, tr *tar.Reader, w io.Writer, want BundleMember) error {
	hdr, err := tr.Next()
	if err != nil {
		return bundleErr("reading %s: %v (truncated?)", want.Name, err)
	}
	if hdr.Name != want.Name || hdr.Typeflag != tar.TypeReg {
		return bundleErr("member %q, the manifest lists %s", hdr.Name, want.Name)
	}
	if hdr.Size != want.Size {
		return bundleErr("%s is %d bytes in the archive, %d in the manifest", want.Name, hdr.Size, want.Size)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), &ctxReader{ctx: ctx, r: tr})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return bundleErr("reading %s after %d of %d bytes: %v (truncated or corrupt)", want.Name, n, want.Size, err)
	}
	if n != want.Size {
		return bundleErr("%s: %d of %d bytes (truncated)", want.Name, n, want.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
		return bundleErr("%s: SHA-256 %s, the manifest says %s", want.Name, got, want.SHA256)
	}
	// The zstd frame checksum and the tar trailer are only checked by
	// reading to the end: a bundle cut inside its trailer must fail too.
	if hdr, err := tr.Next(); err != io.EOF {
		if err == nil {
			return bundleErr("unexpected member %q after %s", hdr.Name, want.Name)
		}
		return bundleErr("after %s: %v (truncated or corrupt)", want.Name, err)
	}
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// beginSwap takes the directory's update lock, removes temp files left by
// killed imports and reads the current database's metadata (nil when there
// is none) for the collapse check.
func beginSwap(ctx context.Context, dir string) (unlock func(), prev *Metadata, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	unlock, err = lockDir(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	// We hold the lock, so any temp file is a leftover of a killed import.
	if old, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(old) > 0 {
		for _, p := range old {
			os.Remove(p)
		}
	}
	if db, err := Open(ctx, dir); err == nil {
		m := db.Metadata()
		prev = &m
		db.Close()
	}
	return unlock, prev, nil
}

// swapIn verifies a complete, closed temp file in dir against meta and the
// collapse rule, then renames it over the live database. The caller holds
// the lock from beginSwap.
func (im *Importer) swapIn(ctx context.Context, dir, tmp string, meta Metadata, prev *Metadata) error {
	if err := verifyFile(ctx, tmp, meta); err != nil {
		return fmt.Errorf("the new database failed verification, the current one is kept: %w", err)
	}
	if err := sameBuild(tmp, meta); err != nil {
		return err
	}
	if !im.Force {
		if meta.Advisories == 0 {
			return fmt.Errorf("%w: the new database holds no advisories; the current database is kept", ErrCollapse)
		}
		if prev != nil && meta.Advisories < prev.Advisories/2 {
			return fmt.Errorf("%w: %d advisories, the current one has %d; the current database is kept (force to override)", ErrCollapse, meta.Advisories, prev.Advisories)
		}
	}
	if err := os.Rename(tmp, filepath.Join(dir, FileName)); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// sameBuild checks that the file's own metadata is the build meta
// describes, so a manifest cannot relabel another database.
func sameBuild(path string, meta Metadata) error {
	f, db, err := openVerify(path)
	if err != nil {
		return err
	}
	defer f.Close()
	defer db.Close()
	got := db.Metadata()
	if !got.BuiltAt.Equal(meta.BuiltAt) || got.Advisories != meta.Advisories || got.Packages != meta.Packages {
		return bundleErr("the database was built at %s with %d advisories, the manifest says %s with %d",
			got.BuiltAt.Format("2006-01-02T15:04:05Z"), got.Advisories, meta.BuiltAt.Format("2006-01-02T15:04:05Z"), meta.Advisories)
	}
	return nil
}
