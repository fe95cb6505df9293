package vulndb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
)

// BundleFormat is the manifest's "format" value that marks a runlens
// database bundle.
const BundleFormat = "runlens-db-bundle"

// BundleVersion is the layout version of the bundle container itself (the
// tar members and the manifest), independent of SchemaVersion.
const BundleVersion = 1

// ManifestName is the first member of every bundle.
const ManifestName = "manifest.json"

// maxManifestBytes bounds the manifest read before anything is trusted.
const maxManifestBytes = 1 << 20

// ErrBundle is wrapped by every error caused by a damaged, truncated or
// incompatible bundle.
var ErrBundle = errors.New("invalid database bundle")

// Manifest describes a bundle: what database it carries and the checksum
// of every member, so an air-gapped site can check it before trusting it.
type Manifest struct {
	Format        string `json:"format"`
	BundleVersion int    `json:"bundle_version"`
	// SchemaVersion is the database file format; an import refuses a
	// bundle whose version this runlens does not read.
	SchemaVersion int       `json:"schema_version"`
	ExportedAt    time.Time `json:"exported_at"`
	// Generator names the program that wrote the bundle, e.g. "runlens 1.2.0".
	Generator string `json:"generator,omitempty"`
	// Database is the metadata of the carried database: built-at, sources,
	// advisory counts per ecosystem, EPSS and KEV information.
	Database Metadata `json:"database"`
	// Members lists every tar member after the manifest, in order.
	Members []BundleMember `json:"members"`
}

// BundleMember is one file of a bundle with its size and SHA-256.
type BundleMember struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func bundleErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBundle, fmt.Sprintf(format, args...))
}

// WriteBundle writes the open database as a bundle to w: a zstd-compressed
// tar holding manifest.json first, then the database file. It verifies the
// database first, so a damaged one is never exported.
func (db *DB) WriteBundle(ctx context.Context, w io.Writer, generator string) (Manifest, error) {
	if err := db.Verify(ctx); err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	sum := sha256.Sum256(db.data)
	m := Manifest{
		Format: BundleFormat, BundleVersion: BundleVersion, SchemaVersion: SchemaVersion,
		ExportedAt: time.Now().UTC(), Generator: generator, Database: db.meta,
		Members: []BundleMember{{Name: FileName, Size: int64(len(db.data)), SHA256: hex.EncodeToString(sum[:])}},
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	// The records are zstd frames already; the fastest level still halves
	// the index tables and keeps export I/O-bound.
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return Manifest{}, err
	}
	tw := tar.NewWriter(zw)
	put := func(name string, body []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: m.ExportedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		for off := 0; off < len(body); off += 8 << 20 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := tw.Write(body[off:min(len(body), off+8<<20)]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := put(ManifestName, mj); err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	if err := put(FileName, db.data); err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	if err := zw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	return m, nil
}

// ExportBundle writes the database in dir as a bundle to file, atomically:
// a failed export never leaves a partial bundle under that name.
func ExportBundle(ctx context.Context, dir, file, generator string) (Manifest, error) {
	db, err := Open(ctx, dir)
	if err != nil {
		return Manifest{}, err
	}
	defer db.Close()
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	bw := bufio.NewWriterSize(tmp, 1<<20)
	m, err := db.WriteBundle(ctx, bw, generator)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", file, err)
	}
	return m, nil
}

// IsBundle reports whether the file at path is a runlens bundle, by its
// content (zstd frame whose tar starts with manifest.json), not its name.
func IsBundle(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || !bytes.Equal(magic[:], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		return false
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false
	}
	zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<28))
	if err != nil {
		return false
	}
	defer zr.Close()
	hdr, err := tar.NewReader(zr).Next()
	return err == nil && hdr.Name == ManifestName
}

// ReadManifest reads and checks the manifest of the bundle at path without
// reading the rest.
func ReadManifest(path string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<28))
	if err != nil {
		return Manifest{}, err
	}
	defer zr.Close()
	return readManifest(tar.NewReader(zr))
}

func readManifest(tr *tar.Reader) (Manifest, error) {
	hdr, err := tr.Next()
	if err != nil {
		return Manifest{}, bundleErr("reading the manifest: %v", err)
	}
	if hdr.Name != ManifestName || hdr.Typeflag != tar.TypeReg {
		return Manifest{}, bundleErr("first member is %q, want %s", hdr.Name, ManifestName)
	}
	if hdr.Size > maxManifestBytes {
		return Manifest{}, bundleErr("manifest is %d bytes, more than %d", hdr.Size, maxManifestBytes)
	}
	b, err := io.ReadAll(io.LimitReader(tr, maxManifestBytes))
	if err != nil {
		return Manifest{}, bundleErr("reading the manifest: %v", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, bundleErr("manifest: %v", err)
	}
	switch {
	case m.Format != BundleFormat:
		return Manifest{}, bundleErr("manifest format %q, want %q", m.Format, BundleFormat)
	case m.BundleVersion != BundleVersion:
		return Manifest{}, bundleErr("bundle version %d; this runlens reads version %d", m.BundleVersion, BundleVersion)
	case m.SchemaVersion != SchemaVersion || m.Database.SchemaVersion != SchemaVersion:
		return Manifest{}, bundleErr("database schema version %d; this runlens reads version %d (export it with a matching runlens, or run db update)", m.SchemaVersion, SchemaVersion)
	case len(m.Members) != 1 || m.Members[0].Name != FileName:
		return Manifest{}, bundleErr("manifest must list exactly one member, %s", FileName)
	case m.Members[0].Size <= 0 || len(m.Members[0].SHA256) != 64:
		return Manifest{}, bundleErr("manifest member %s has no size or SHA-256", FileName)
	}
	return m, nil
}
