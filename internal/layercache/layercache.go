// Package layercache keeps layer replays (layerfs.LayerCache) on disk, so
// an image sharing base layers with one scanned before does not download
// or decompress those layers again.
//
// One file per key: a magic line, the key, the zstd-compressed replay and
// a SHA-256 of everything before it. Writes are atomic (temporary file and
// rename); a file that is too large, damaged, truncated or stored under
// another key is a miss, never wrong data.
package layercache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"github.com/runlens/runlens/internal/layerfs"
)

// magic starts every entry; a new encoding gets a new magic.
const magic = "runlens-layercache-1\n"

// Defaults for Options.
const (
	// DefaultMaxFileBytes caps one stored entry.
	DefaultMaxFileBytes = 2 << 30
	// DefaultMaxReplayBytes caps what one entry may decompress to.
	DefaultMaxReplayBytes = 8 << 30
)

// maxKeyLen bounds the stored key.
const maxKeyLen = 4096

// Options tune a Cache; zero values mean the defaults.
type Options struct {
	MaxFileBytes   int64
	MaxReplayBytes int64
}

// Cache is a directory of layer replays. It implements layerfs.LayerCache
// and is safe for concurrent use by several scans and processes.
type Cache struct {
	dir  string
	opts Options
}

var _ layerfs.LayerCache = (*Cache)(nil)

// Open returns a cache rooted at dir, creating it if needed.
func Open(dir string, opts Options) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("layercache: creating %s: %w", dir, err)
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.MaxReplayBytes <= 0 {
		opts.MaxReplayBytes = DefaultMaxReplayBytes
	}
	return &Cache{dir: dir, opts: opts}, nil
}

// path names key's file; the key is hashed, so no key reaches the file
// system as a path.
func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.dir, "layer-"+hex.EncodeToString(sum[:16])+".rlc")
}

// Get implements layerfs.LayerCache. The whole file is checked against its
// checksum before any of it is returned.
func (c *Cache) Get(ctx context.Context, key string) (io.ReadCloser, bool) {
	if ctx.Err() != nil {
		return nil, false
	}
	// A fifo planted in the cache directory must not hang the scan.
	f, err := layerfs.OpenFile(c.path(key))
	if err != nil {
		return nil, false
	}
	rc, err := c.verify(f, key)
	if err != nil {
		f.Close()
		return nil, false
	}
	return rc, true
}

// verify checks f's size, checksum and key, and returns its replay.
func (c *Cache) verify(f *os.File, key string) (io.ReadCloser, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	hdr := int64(len(magic)) + binary.MaxVarintLen64 + int64(len(key))
	if !fi.Mode().IsRegular() || size > c.opts.MaxFileBytes || size < int64(len(magic))+1+sha256.Size {
		return nil, errors.New("bad size")
	}
	body := size - sha256.Size
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, body)); err != nil {
		return nil, err
	}
	var sum [sha256.Size]byte
	if _, err := f.ReadAt(sum[:], body); err != nil {
		return nil, err
	}
	if !bytes.Equal(sum[:], h.Sum(nil)) {
		return nil, errors.New("checksum mismatch")
	}
	head := make([]byte, min(hdr, body))
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, err
	}
	rest, ok := bytes.CutPrefix(head, []byte(magic))
	if !ok {
		return nil, errors.New("bad magic")
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n != uint64(len(key)) || int(n) > len(rest)-k || string(rest[k:k+int(n)]) != key {
		return nil, errors.New("key mismatch")
	}
	start := int64(len(magic) + k + int(n))
	zr, err := zstd.NewReader(io.NewSectionReader(f, start, body-start),
		zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20), zstd.WithDecoderMaxWindow(32<<20))
	if err != nil {
		return nil, err
	}
	return &reader{f: f, zr: zr, left: c.opts.MaxReplayBytes}, nil
}

// reader decompresses a verified entry, within the replay cap.
type reader struct {
	f    *os.File
	zr   *zstd.Decoder
	left int64
}

func (r *reader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, errors.New("layercache: replay exceeds MaxReplayBytes")
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.zr.Read(p)
	r.left -= int64(n)
	return n, err
}

func (r *reader) Close() error {
	r.zr.Close()
	return r.f.Close()
}

// Put implements layerfs.LayerCache.
func (c *Cache) Put(ctx context.Context, key string) (layerfs.ReplayWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(key) > maxKeyLen {
		return nil, errors.New("layercache: key too long")
	}
	tmp, err := os.CreateTemp(c.dir, ".layer-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("layercache: %w", err)
	}
	w := &writer{c: c, key: key, f: tmp, h: sha256.New()}
	w.out = io.MultiWriter(tmp, w.h)
	head := append([]byte(magic), binary.AppendUvarint(nil, uint64(len(key)))...)
	head = append(head, key...)
	if _, err := w.out.Write(head); err != nil {
		w.Abort()
		return nil, fmt.Errorf("layercache: %w", err)
	}
	if w.zw, err = zstd.NewWriter(w.out, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20)); err != nil {
		w.Abort()
		return nil, fmt.Errorf("layercache: %w", err)
	}
	return w, nil
}

// writer records one entry into a temporary file.
type writer struct {
	c    *Cache
	key  string
	f    *os.File
	h    hash.Hash
	out  io.Writer
	zw   *zstd.Encoder
	n    int64
	done bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("layercache: write after commit or abort")
	}
	if w.n += int64(len(p)); w.n > w.c.opts.MaxReplayBytes {
		return 0, errors.New("layercache: replay exceeds MaxReplayBytes")
	}
	return w.zw.Write(p)
}

// Commit implements layerfs.ReplayWriter.
func (w *writer) Commit() error {
	if w.done {
		return errors.New("layercache: commit after commit or abort")
	}
	err := w.zw.Close()
	if err == nil {
		_, err = w.f.Write(w.h.Sum(nil))
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if fi, serr := os.Stat(w.f.Name()); serr == nil && fi.Size() > w.c.opts.MaxFileBytes {
			err = errors.New("entry exceeds MaxFileBytes")
		}
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.c.path(w.key))
	}
	w.done = true
	if err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("layercache: %w", err)
	}
	return nil
}

// Abort implements layerfs.ReplayWriter.
func (w *writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	if w.zw != nil {
		w.zw.Close()
	}
	w.f.Close()
	os.Remove(w.f.Name())
}
