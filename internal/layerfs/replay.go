package layerfs

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"
)

// LayerCache stores layer replays: every tar entry of a layer (names,
// types, modes, sizes, link targets, whiteouts) with the contents of only
// the files Want kept. Flatten applies a replay exactly as it would the
// layer itself, so an image sharing base layers with one read before does
// not fetch or decompress them again. Extraction still sees the whole
// merged filesystem; only the layer reading is cached.
type LayerCache interface {
	// Get returns the replay stored under key. A missing, unreadable or
	// corrupt entry is ok == false.
	Get(ctx context.Context, key string) (replay io.ReadCloser, ok bool)
	// Put starts recording a replay under key; it becomes visible only on
	// Commit, atomically.
	Put(ctx context.Context, key string) (ReplayWriter, error)
}

// ReplayWriter receives one replay being recorded.
type ReplayWriter interface {
	io.Writer
	// Commit makes the replay visible under its key.
	Commit() error
	// Abort discards what was written.
	Abort()
}

// replayFormat names the replay encoding; it is part of every key.
const replayFormat = "layerfs-replay-1"

// PAX records of the replay encoding. Flatten builds every recorded header
// itself, so a layer cannot smuggle these in.
const (
	// paxSize is the real size of a regular file whose contents the
	// replay does not hold (the entry itself has size 0).
	paxSize = "RUNLENS.size"
	// paxEnd marks the final entry; its value is the number of
	// uncompressed bytes the layer had.
	paxEnd = "RUNLENS.end"
)

// errReplayShort means a replayed entry is wanted now but the replay has
// not its contents (Want or the lower layers differ from the recording).
var errReplayShort = errors.New("replay lacks the contents of a wanted file")

// badReplayError makes Flatten start again without the replay of diffID.
type badReplayError struct {
	diffID string
	err    error
}

func (e *badReplayError) Error() string {
	return fmt.Sprintf("layerfs: replay of layer %s unusable: %v", e.diffID, e.err)
}

func (e *badReplayError) Unwrap() error { return e.err }

// cacheable reports whether diffID can key a replay: only a sha256 digest,
// which recording verifies, so a config naming another layer's diffID
// cannot plant contents under it.
func cacheable(diffID string) bool {
	hexPart, ok := strings.CutPrefix(diffID, "sha256:")
	if !ok || len(hexPart) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil && strings.ToLower(hexPart) == hexPart
}

func (f *flattener) cacheKey(diffID string) string {
	return diffID + "|" + replayFormat + "|" + f.opts.LayerCacheKey
}

// startLayer resets the per-layer state before layer idx is applied.
func (f *flattener) startLayer(idx int) {
	f.t.layer = int32(idx)
	f.t.pruned = nil
	f.absNoted = false
	f.lossy = false
	f.noData = false
}

// apply applies layer idx from its cached replay when there is one, and
// otherwise reads the layer (recording it when a cache is set).
func (f *flattener) apply(ctx context.Context, idx int, l Layer) error {
	if f.opts.LayerCache != nil && cacheable(l.DiffID) && !f.skip[l.DiffID] {
		if rc, ok := f.opts.LayerCache.Get(ctx, f.cacheKey(l.DiffID)); ok {
			err := f.replay(ctx, idx, l.DiffID, rc)
			rc.Close()
			return err
		}
	}
	return f.layer(ctx, idx, l)
}

// replay applies a recorded layer through the same entry code as reading
// it. Anything unexpected is a *badReplayError (never a layer error): the
// layer itself may be fine, so Flatten reads it instead.
func (f *flattener) replay(ctx context.Context, idx int, diff string, r io.Reader) error {
	f.startLayer(idx)
	bad := func(err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return &badReplayError{diffID: diff, err: err}
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return bad(errors.New("no end record"))
		}
		if err != nil {
			return bad(err)
		}
		if v, ok := h.PAXRecords[paxEnd]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return bad(fmt.Errorf("bad end record %q", v))
			}
			if n > f.lim.MaxLayerBytes {
				// Recorded under a larger cap: reading the layer reports it.
				return bad(errors.New("layer exceeds MaxLayerBytes"))
			}
			if f.readTotal+n > f.lim.MaxImageBytes {
				// Reading the layer stops at the image cap where this
				// replay cannot: read it, so the view is the same.
				return bad(errors.New("layer exceeds what MaxImageBytes leaves"))
			}
			if _, err := tr.Next(); err != io.EOF {
				return bad(errors.New("data after the end record"))
			}
			f.readTotal += n
			if f.opts.Progress != nil {
				f.opts.Progress(idx, f.readTotal)
			}
			return nil
		}
		if v, ok := h.PAXRecords[paxSize]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 || h.Size != 0 || h.Typeflag != tar.TypeReg {
				return bad(fmt.Errorf("bad size record %q", v))
			}
			h.Size = n
			f.noData = true
		}
		err = f.entry(tr, h, diff)
		f.noData = false
		if err != nil {
			if errors.Is(err, errStop) || f.fatal != nil {
				return err
			}
			return bad(err)
		}
	}
}

// recorder writes the replay of the layer being read. Any failure to
// record only disables recording; reading goes on.
type recorder struct {
	w      ReplayWriter
	tw     *tar.Writer
	hash   hash.Hash
	diffID string
	failed bool

	h     *tar.Header // entry being applied
	src   io.Reader
	wrote bool // h was written with its contents
}

// record starts recording layer l, or returns nil when there is no cache
// or l cannot be cached.
func (f *flattener) record(ctx context.Context, l Layer) *recorder {
	if f.opts.LayerCache == nil || !cacheable(l.DiffID) {
		return nil
	}
	w, err := f.opts.LayerCache.Put(ctx, f.cacheKey(l.DiffID))
	if err != nil {
		return nil
	}
	r := &recorder{w: w, tw: tar.NewWriter(w), diffID: l.DiffID}
	if !l.DiffIDVerified {
		r.hash = sha256.New()
	}
	return r
}

// entry notes the header being applied and returns the reader its
// contents must be read through, so kept contents are recorded too.
func (r *recorder) entry(h *tar.Header, src io.Reader) io.Reader {
	r.h, r.src, r.wrote = h, src, false
	return r
}

// Read passes contents on, writing the entry's header with its full size
// before the first bytes.
func (r *recorder) Read(p []byte) (int, error) {
	if !r.wrote {
		r.wrote = true
		r.writeHeader(true)
	}
	n, err := r.src.Read(p)
	if n > 0 && !r.failed {
		if _, werr := r.tw.Write(p[:n]); werr != nil {
			r.failed = true
		}
	}
	return n, err
}

// entryDone records the entry without contents if they were not read.
func (r *recorder) entryDone() {
	if r == nil || r.h == nil {
		return
	}
	if !r.wrote {
		r.writeHeader(false)
	}
	r.h, r.src = nil, nil
}

func (r *recorder) writeHeader(withData bool) {
	if r.failed {
		return
	}
	h := r.h
	out := &tar.Header{
		Typeflag: h.Typeflag,
		Name:     h.Name,
		Linkname: h.Linkname,
		Mode:     h.Mode & 0o7777, // all modeOf looks at
		ModTime:  time.Unix(h.ModTime.Unix(), 0),
		Format:   tar.FormatPAX,
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		out.Typeflag = tar.TypeReg // entry treats them alike
		if withData {
			out.Size = h.Size
		} else if h.Size > 0 {
			out.PAXRecords = map[string]string{paxSize: strconv.FormatInt(h.Size, 10)}
		}
	}
	if err := r.tw.WriteHeader(out); err != nil {
		r.failed = true
	}
}

// finish commits the replay when the layer was read completely (ok), with
// every wanted file kept, and its bytes match the diffID; else discards it.
func (r *recorder) finish(ok bool, layerBytes int64) {
	if r == nil {
		return
	}
	ok = ok && !r.failed && (r.hash == nil || "sha256:"+hex.EncodeToString(r.hash.Sum(nil)) == r.diffID)
	if ok {
		end := &tar.Header{Typeflag: tar.TypeReg, Name: paxEnd, Format: tar.FormatPAX,
			PAXRecords: map[string]string{paxEnd: strconv.FormatInt(layerBytes, 10)}}
		if r.tw.WriteHeader(end) == nil && r.tw.Close() == nil && r.w.Commit() == nil {
			return
		}
	}
	r.w.Abort()
}
