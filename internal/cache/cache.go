// Package cache keeps image inventories on disk, keyed by image digest and
// extractor-set version, so scanning the same digest again only re-matches.
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

	"github.com/runlens/runlens/internal/inventory"
)

// maxEntryBytes caps what one cached entry may decode to, so a corrupted or
// planted cache file cannot exhaust memory.
const maxEntryBytes = 512 << 20

// Cache is a directory of gzip-compressed JSON inventories.
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

// Entry is what is cached for one image.
type Entry struct {
	Key       string               `json:"key"`
	Inventory *inventory.Inventory `json:"inventory"`
}

func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.dir, "inv-"+hex.EncodeToString(sum[:16])+".json.gz")
}

// Get returns the inventory stored under key. A missing entry returns
// (nil, false, nil); an unreadable one is an error and should be rescanned.
func (c *Cache) Get(ctx context.Context, key string) (*inventory.Inventory, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	f, err := os.Open(c.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading cache: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, false, fmt.Errorf("reading cache entry %s: %w", filepath.Base(f.Name()), err)
	}
	var e Entry
	if err := json.NewDecoder(io.LimitReader(zr, maxEntryBytes)).Decode(&e); err != nil {
		return nil, false, fmt.Errorf("decoding cache entry %s: %w", filepath.Base(f.Name()), err)
	}
	if e.Key != key || e.Inventory == nil {
		// A hash collision on the file name or a damaged entry: treat as a miss.
		return nil, false, nil
	}
	return e.Inventory, true, nil
}

// Put stores inv under key. The write is atomic: readers see the old entry
// or the new one, never a partial file.
func (c *Cache) Put(ctx context.Context, key string, inv *inventory.Inventory) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, ".inv-*.tmp")
	if err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	zw := gzip.NewWriter(tmp)
	if err := json.NewEncoder(zw).Encode(Entry{Key: key, Inventory: inv}); err != nil {
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
	if err := os.Rename(tmp.Name(), c.path(key)); err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	return nil
}
