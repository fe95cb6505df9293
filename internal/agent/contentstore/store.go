// Package contentstore reads images straight from containerd's content
// store on the node (<root>/io.containerd.content.v1.content/blobs/sha256/<hex>),
// by manifest digest, without a registry, credentials or network: the
// manifest (or the index and then the host platform's manifest), the
// config and the layer blobs, each one verified against the digest that
// names it as it is read, so a blob changed on the node does not pass.
//
// The opened image is an image.Image, so the scan pipeline inventories it
// like any other source.
package contentstore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
)

// ContentDir is where containerd keeps its content store below its root.
const ContentDir = "io.containerd.content.v1.content"

// ErrBlobMissing is wrapped when a blob the image needs is not in the
// store (containerd can discard compressed layers once unpacked, and
// garbage-collects blobs of removed images).
var ErrBlobMissing = errors.New("blob not in the content store")

// Store is one containerd content store, opened read-only.
type Store struct {
	dir   string
	blobs *os.Root // <content>/blobs/sha256

	// Platform picks the manifest from an index ("" = this host's,
	// registry.DefaultPlatform).
	Platform string
	// MaxManifestBytes and MaxConfigBytes cap the JSON read before any
	// layer (0 = image.DefaultMaxManifestBytes, image.DefaultMaxConfigBytes).
	MaxManifestBytes, MaxConfigBytes int64
}

// Open opens the content store of the containerd whose root directory is
// root (its config's `root`, /var/lib/containerd by default); the content
// directory itself is accepted too. Blobs are opened through an os.Root:
// a symlink in the store cannot lead outside it, and only regular files
// are read.
func Open(root string) (*Store, error) {
	for _, dir := range []string{filepath.Join(root, ContentDir), root} {
		r, err := layerfs.OpenRoot(filepath.Join(dir, "blobs", "sha256"))
		if err == nil {
			return &Store{dir: dir, blobs: r}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("content store %s: %w", dir, err)
		}
	}
	return nil, fmt.Errorf("content store: neither %s nor %s holds blobs/sha256: %w",
		filepath.Join(root, ContentDir), root, fs.ErrNotExist)
}

// Dir is the content directory in use.
func (s *Store) Dir() string { return s.dir }

// Close releases the store.
func (s *Store) Close() error { return s.blobs.Close() }

func (s *Store) maxManifest() int64 {
	if s.MaxManifestBytes > 0 {
		return s.MaxManifestBytes
	}
	return image.DefaultMaxManifestBytes
}

func (s *Store) maxConfig() int64 {
	if s.MaxConfigBytes > 0 {
		return s.MaxConfigBytes
	}
	return image.DefaultMaxConfigBytes
}

// open opens the blob d names. A blob absent from the store wraps
// ErrBlobMissing; one whose size differs from what its descriptor
// declares (size >= 0) is refused before any byte is read.
func (s *Store) open(d v1.Hash, size int64) (*os.File, error) {
	if d.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s: containerd's store keeps sha256 blobs only: %w", d, ErrBlobMissing)
	}
	f, err := layerfs.OpenFileIn(s.blobs, d.Hex)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w (%s)", d, ErrBlobMissing, s.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	if size >= 0 {
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("blob %s: %w", d, err)
		}
		if st.Size() != size {
			f.Close()
			return nil, fmt.Errorf("blob %s: %w: the store holds %d bytes, its descriptor declares %d", d, image.ErrDigestMismatch, st.Size(), size)
		}
	}
	return f, nil
}

// readJSON reads a small blob whole (a manifest, an index, a config),
// capped at max and verified against d.
func (s *Store) readJSON(d v1.Hash, size, max int64, what string) ([]byte, error) {
	if size > max {
		return nil, fmt.Errorf("%s %s: %w: descriptor declares %d bytes, cap is %d", what, d, image.ErrTooLarge, size, max)
	}
	f, err := s.open(d, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, d, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s %s: %w: over %d bytes", what, d, image.ErrTooLarge, max)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != d.Hex {
		return nil, fmt.Errorf("%s %s: %w: the stored bytes hash to sha256:%x", what, d, image.ErrDigestMismatch, got)
	}
	return b, nil
}

// verified is a blob's stream, hashed as it is read: the read that reaches
// the end fails if the bytes do not hash to the blob's digest, and Close
// fails if the stream was not read to the end (bytes never checked).
type verified struct {
	f    *os.File
	h    hash.Hash
	want v1.Hash
	eof  bool
	err  error
}

func (v *verified) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && !v.eof {
		v.eof = true
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.Hex {
			v.err = fmt.Errorf("blob %s: %w: the stored bytes hash to sha256:%s", v.want, image.ErrDigestMismatch, got)
			return n, v.err
		}
	}
	return n, err
}

func (v *verified) Close() error {
	cerr := v.f.Close()
	switch {
	case v.err != nil:
		return v.err
	case !v.eof:
		return fmt.Errorf("blob %s: closed before the end; content not verified", v.want)
	}
	return cerr
}

// openLayer returns a layer blob's uncompressed tar stream: the stored
// bytes verified against d (the size was checked when opening), then
// gunzipped or un-zstd'ed by their magic bytes (media types lie).
func (s *Store) openLayer(d v1.Hash, size int64) (io.ReadCloser, error) {
	f, err := s.open(d, size)
	if err != nil {
		return nil, err
	}
	v := &verified{f: f, h: sha256.New(), want: d}
	br := bufio.NewReaderSize(v, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		v.Close()
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("blob %s: gzip: %w", d, err)
		}
		return readCloser{zr, v, func() error { zr.Close(); return v.Close() }}, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("blob %s: zstd: %w", d, err)
		}
		return readCloser{zr, v, func() error { zr.Close(); return v.Close() }}, nil
	}
	return readCloser{br, v, v.Close}, nil
}

// readCloser closes a decompressor and the verified blob under it,
// returning the blob's verdict. A decompression error is first checked
// against the blob's digest: a changed blob usually breaks the compressed
// stream before its end is reached, and "digest mismatch" is then the
// true cause to report, not "invalid checksum".
type readCloser struct {
	io.Reader
	blob  *verified
	close func() error
}

func (r readCloser) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err != nil && err != io.EOF && r.blob.err == nil {
		io.Copy(io.Discard, r.blob)
	}
	if err != nil && err != io.EOF && r.blob.err != nil {
		return n, r.blob.err
	}
	return n, err
}

func (r readCloser) Close() error { return r.close() }
