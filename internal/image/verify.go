package image

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/runlens/runlens/internal/registry"
)

// Default caps on the JSON (manifests, configs) read before any layer.
const (
	DefaultMaxManifestBytes = 4 << 20
	DefaultMaxConfigBytes   = 8 << 20
)

// Errors callers can match with errors.Is to classify a failed image.
var (
	// ErrBadDigest: a digest string is not "algo:hex" of the right length.
	ErrBadDigest = errors.New("invalid digest")
	// ErrTooLarge: a manifest, config or blob exceeds its cap or
	// descriptor. It is registry.ErrTooLarge, so a cap hit in the transport
	// matches too.
	ErrTooLarge = registry.ErrTooLarge
	// ErrDigestMismatch: content does not hash to the digest that named it.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrNotFound: the source has no such image, or several and none chosen.
	ErrNotFound = errors.New("image not found")
)

// ParseDigest validates s as "sha256:<64 hex>" or "sha512:<128 hex>"
// (lower-case) so that a hostile value such as "sha256:../../x" is refused
// before any path or URL is built from it.
func ParseDigest(s string) (v1.Hash, error) {
	h, err := v1.NewHash(s)
	if err != nil {
		if len(s) > 80 {
			s = s[:80] + "..."
		}
		return v1.Hash{}, fmt.Errorf("%w %q", ErrBadDigest, s)
	}
	return h, nil
}

// verifier caps a stream at size bytes (size < 0: no cap) and checks its
// digest at EOF. Close reports a stream that was not read to the end, so a
// reader that stops early cannot mistake unverified bytes for verified ones.
type verifier struct {
	rc   io.ReadCloser
	h    hash.Hash
	want v1.Hash
	size int64
	n    int64
	what string
	eof  bool
	err  error
}

func newVerifier(rc io.ReadCloser, want v1.Hash, size int64, what string) (*verifier, error) {
	h, err := v1.Hasher(want.Algorithm)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &verifier{rc: rc, h: h, want: want, size: size, what: what}, nil
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.eof {
		return 0, io.EOF
	}
	if v.size >= 0 && int64(len(p)) > v.size-v.n+1 {
		p = p[:v.size-v.n+1]
	}
	n, err := v.rc.Read(p)
	v.n += int64(n)
	if v.size >= 0 && v.n > v.size {
		v.err = fmt.Errorf("%s: %w: more than the %d bytes its descriptor declares", v.what, ErrTooLarge, v.size)
		return 0, v.err
	}
	v.h.Write(p[:n])
	if err == io.EOF {
		v.eof = true
		if v.size >= 0 && v.n != v.size {
			v.err = fmt.Errorf("%s: truncated: got %d of %d bytes: %w", v.what, v.n, v.size, io.ErrUnexpectedEOF)
			return n, v.err
		}
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.Hex {
			v.err = fmt.Errorf("%s: %w: content hashes to %s:%s", v.what, ErrDigestMismatch, v.want.Algorithm, got)
			return n, v.err
		}
	}
	return n, err
}

func (v *verifier) Close() error {
	cerr := v.rc.Close()
	switch {
	case v.err != nil:
		return v.err
	case !v.eof:
		return fmt.Errorf("%s: closed before the end; content not verified", v.what)
	}
	return cerr
}

// readAllVerified reads one small JSON blob, refusing it before reading if
// its descriptor claims more than max, and failing if it carries more bytes
// than declared or hashes differently.
func readAllVerified(rc io.ReadCloser, d v1.Descriptor, max int64, what string) ([]byte, error) {
	if d.Size < 0 || d.Size > max {
		rc.Close()
		return nil, fmt.Errorf("%s: %w: descriptor declares %d bytes, cap is %d", what, ErrTooLarge, d.Size, max)
	}
	v, err := newVerifier(rc, d.Digest, d.Size, what)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(v)
	if cerr := v.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// checkBytes verifies bytes already in memory against d.
func checkBytes(b []byte, d v1.Descriptor, max int64, what string) error {
	_, err := readAllVerified(io.NopCloser(bytes.NewReader(b)), d, max, what)
	return err
}

// decompress returns the uncompressed stream of a layer blob, recognising
// gzip and zstd by their magic bytes (media types lie; "uncompressed"
// layers in docker-save archives are plain tar).
func decompress(rc io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		rc.Close()
		return nil, err
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return &stacked{Reader: zr, closers: []func() error{zr.Close, rc.Close}}, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return &stacked{Reader: zr, closers: []func() error{func() error { zr.Close(); return nil }, rc.Close}}, nil
	}
	return &stacked{Reader: br, closers: []func() error{rc.Close}}, nil
}

// stacked closes every layer of a reader stack and returns the last error,
// which is the verifier's: the one that says whether the blob was genuine.
type stacked struct {
	io.Reader
	closers []func() error
}

func (s *stacked) Close() error {
	var err error
	for _, c := range s.closers {
		if e := c(); e != nil {
			err = e
		}
	}
	return err
}
