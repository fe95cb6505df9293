// Package cache keeps image inventories on disk so scanning the same image
// again only re-matches.
//
// An entry is bound to what the scan that wrote it verified, not just to a
// digest string: the kind of digest (a manifest digest whose bytes were
// hashed, or only an image config digest), the config digest and the layer
// diffIDs. Digests of different kinds live in different key spaces, so an
// input that can only prove a config digest (a docker-save archive) can
// never write an entry that a lookup by manifest digest (a registry, an OCI
// layout, a cluster's running digest) will trust, even when its config is
// byte-for-byte another image's manifest.
package cache

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

// maxEntryBytes caps what one cached entry may decode to, so a corrupted or
// planted cache file cannot exhaust memory.
const maxEntryBytes = 512 << 20

// format is part of every file name and key: entries written by an older
// layout of this package are simply never found.
const format = "inv2"

// Kinds of identity. They never share a key space.
const (
	// KindManifest: the image manifest's bytes were read and hashed to
	// Digest, its config to ConfigDigest, and the config lists DiffIDs
	// (registries, OCI layouts, OCI archives).
	KindManifest = "manifest"
	// KindConfig: only the config's bytes were hashed (docker-save archives
	// carry no manifest); Digest is the config digest.
	KindConfig = "config"
)

// Identity is what a scan verified about an image before it read the
// layers: the chain manifest → config → diffIDs, as far as the source
// proves it.
type Identity struct {
	// Kind is KindManifest or KindConfig.
	Kind string `json:"kind"`
	// Digest is the manifest digest (KindManifest) or the config digest
	// (KindConfig).
	Digest string `json:"digest"`
	// ConfigDigest is the hashed config; empty in a lookup that knows only
	// a manifest digest (a running container's image ID).
	ConfigDigest string `json:"config_digest,omitempty"`
	// DiffIDs are the layers' uncompressed digests, base first; nil in a
	// lookup that knows only a manifest digest.
	DiffIDs []string `json:"diff_ids"`
}

// valid reports whether id can key an entry at all.
func (id Identity) valid() bool {
	return (id.Kind == KindManifest || id.Kind == KindConfig) && id.Digest != ""
}

// matches reports whether a stored identity satisfies a lookup: the same
// kind and digest, and the same config and layers wherever the lookup
// knows them.
func (id Identity) matches(want Identity) bool {
	if id.Kind != want.Kind || id.Digest != want.Digest {
		return false
	}
	if want.ConfigDigest != "" && id.ConfigDigest != want.ConfigDigest {
		return false
	}
	if want.DiffIDs != nil && !slices.Equal(id.DiffIDs, want.DiffIDs) {
		return false
	}
	return true
}

// Entry is what is cached for one image: its inventory and the layer issues
// of the read that built it, so a cached rescan reports the same skipped
// entries as the first scan.
type Entry struct {
	// Identity is what the writing scan verified.
	Identity Identity `json:"identity"`
	// Version is the extractor-set version that built Inventory.
	Version string `json:"version"`
	// Inventory is the extracted package list.
	Inventory *inventory.Inventory `json:"inventory"`
	// LayerIssues are the entries the layer reader skipped or cut short.
	LayerIssues []layerfs.Issue `json:"layer_issues,omitempty"`
}

// Cache is a directory of gzip-compressed JSON entries.
type Cache struct {
	dir string
}

// Open returns a cache rooted at dir, creating it if needed.
func Open(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating cache directory: %w", err)
	}
	return &Cache{dir: dir}, nil
}

// path names the file of an (identity kind, digest, version) triple. The
// kind is hashed in, so the two key spaces cannot meet.
func (c *Cache) path(id Identity, version string) string {
	sum := sha256.Sum256([]byte(format + "\x00" + id.Kind + "\x00" + id.Digest + "\x00" + version))
	return filepath.Join(c.dir, format+"-"+hex.EncodeToString(sum[:16])+".json.gz")
}

// Get returns the entry stored for want and version. A missing entry, or one
// whose stored identity does not satisfy want, returns (nil, false, nil); an
// unreadable one is an error and should be rescanned.
func (c *Cache) Get(ctx context.Context, want Identity, version string) (*Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if !want.valid() {
		return nil, false, nil
	}
	// Non-blocking, so a FIFO planted in place of an entry cannot hang the
	// open; the type is checked before any read.
	f, err := os.OpenFile(c.path(want, version), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading cache: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, false, fmt.Errorf("reading cache entry %s: not a regular file", filepath.Base(f.Name()))
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, false, fmt.Errorf("reading cache entry %s: %w", filepath.Base(f.Name()), err)
	}
	e, err := decodeEntry(io.LimitReader(zr, maxEntryBytes))
	if err != nil {
		return nil, false, fmt.Errorf("decoding cache entry %s: %w", filepath.Base(f.Name()), err)
	}
	if e.Version != version || !e.Identity.valid() || !e.Identity.matches(want) {
		// A hash collision on the file name, a damaged entry, or one for a
		// different chain (another config or layers under the same digest):
		// a miss, never a hit.
		return nil, false, nil
	}
	return e, true, nil
}

// decodeEntry parses one entry; it is separate so it can be fuzzed.
func decodeEntry(r io.Reader) (*Entry, error) {
	var e Entry
	if err := json.NewDecoder(r).Decode(&e); err != nil {
		return nil, err
	}
	if e.Inventory == nil {
		return nil, errors.New("entry has no inventory")
	}
	return &e, nil
}

// Put stores e. Its identity must be complete (a config digest, and the
// diffIDs even if empty): an entry is only ever written by a scan that read
// the whole chain. The write is atomic: readers see the old entry or the new
// one, never a partial file.
func (c *Cache) Put(ctx context.Context, e *Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e == nil || e.Inventory == nil || !e.Identity.valid() || e.Identity.ConfigDigest == "" || e.Identity.DiffIDs == nil {
		return errors.New("writing cache: entry has no complete identity")
	}
	tmp, err := os.CreateTemp(c.dir, ".inv-*.tmp")
	if err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	zw := gzip.NewWriter(tmp)
	if err := json.NewEncoder(zw).Encode(e); err != nil {
		tmp.Close()
		return fmt.Errorf("writing cache: %w", err)
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path(e.Identity, e.Version)); err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	return nil
}
