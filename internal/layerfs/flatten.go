package layerfs

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// maxIssues bounds the recorded issues; further ones are only counted.
const maxIssues = 1000

// progressEvery is how many bytes pass between Progress calls.
const progressEvery = 4 << 20

// errStop aborts all remaining layers (entry or metadata caps).
var errStop = errors.New("stop")

// Flatten reads each layer's uncompressed tar stream once, base first, and
// returns the squashed view with whiteouts applied and each path attributed
// to the layer that last wrote it.
//
// Every entry's metadata is kept in memory; the contents of regular files
// accepted by opts.Want are spooled to one unlinked temporary file, so
// memory stays small whatever the image size.
//
// Errors: a layer that cannot be opened, is corrupt or truncated, or hits
// MaxLayerBytes yields a *LayerError; a cap yields a *LimitError
// (errors.Is(err, ErrLimit)). In those cases the RootFS is still returned,
// holding everything read so far, and every problem is also listed in
// Issues: callers should report the result as partial. Per-entry refusals
// (hostile names, oversized files) are only Issues. The RootFS is nil only
// when ctx is cancelled or the spool cannot be created.
func Flatten(ctx context.Context, layers []Layer, opts Options) (RootFS, error) {
	var skip map[string]bool
	for {
		fsys, err := flatten(ctx, layers, opts, skip)
		var bad *badReplayError
		if !errors.As(err, &bad) || skip[bad.diffID] {
			return fsys, err
		}
		// A cached replay could not stand in for its layer (damaged, or
		// lacking contents this Want needs): start again reading that
		// layer itself. Applied entries cannot be taken back.
		if skip == nil {
			skip = map[string]bool{}
		}
		skip[bad.diffID] = true
	}
}

// flatten is one Flatten attempt; layers in skip are never replayed.
func flatten(ctx context.Context, layers []Layer, opts Options, skip map[string]bool) (RootFS, error) {
	lim := opts.Limits.withDefaults()
	f := &flattener{
		opts:   opts,
		lim:    lim,
		t:      newTree(lim.MaxDepth),
		diffs:  make([]string, len(layers)),
		skip:   skip,
		buf:    make([]byte, 64<<10),
		stack:  make([]*node, 0, 64),
		stack2: make([]*node, 0, 64),
	}
	f.t.maxLinkSteps = 8 * int64(lim.MaxEntries)
	var errs []error
	// capped holds layers that hit MaxLayerBytes: listed again, they would
	// only hit it again, so they are not read twice.
	var capped map[string]error
	failed := map[int]bool{}
	for i, l := range layers {
		f.diffs[i] = l.DiffID
		if err := ctx.Err(); err != nil {
			f.discard()
			return nil, fmt.Errorf("layerfs: flatten: %w", err)
		}
		if prev, ok := capped[l.DiffID]; ok {
			f.issue(l.DiffID, "", "not read again: "+prev.Error())
			errs = append(errs, &LayerError{Index: i, DiffID: l.DiffID, Err: prev})
			failed[i] = true
			continue
		}
		err := f.apply(ctx, i, l)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			f.discard()
			return nil, fmt.Errorf("layerfs: flatten: %w", ctx.Err())
		}
		if bad := (*badReplayError)(nil); errors.As(err, &bad) {
			f.discard()
			return nil, bad
		}
		if f.fatal != nil {
			f.discard()
			return nil, f.fatal
		}
		stop := errors.Is(err, errStop)
		if stop {
			err = f.stopErr
		}
		f.issue(l.DiffID, "", err.Error())
		errs = append(errs, &LayerError{Index: i, DiffID: l.DiffID, Err: err})
		failed[i] = true
		if stop {
			break
		}
		if le := (*LimitError)(nil); errors.As(err, &le) && le.Limit == "MaxLayerBytes" {
			if capped == nil {
				capped = map[string]error{}
			}
			capped[l.DiffID] = err
		}
	}
	f.t.freeze()
	f.t.maxLinkSteps = 0 // lookups on the finished view are bounded per call
	if f.opts.Want != nil {
		if err := f.keepAliases(ctx, layers, failed); err != nil {
			if cerr := ctx.Err(); cerr != nil {
				f.discard()
				return nil, fmt.Errorf("layerfs: flatten: %w", cerr)
			}
			if f.fatal != nil {
				f.discard()
				return nil, f.fatal
			}
			errs = append(errs, err)
		}
	}
	if f.totalHit {
		errs = append(errs, &LimitError{Limit: "MaxTotalBytes", Max: lim.MaxTotalBytes})
	}
	if f.spoolErr != nil {
		errs = append(errs, fmt.Errorf("layerfs: spool: %w", f.spoolErr))
	}
	if f.bw != nil {
		if err := f.bw.Flush(); err != nil {
			f.discard()
			return nil, fmt.Errorf("layerfs: spool: %w", err)
		}
	}
	if f.dropped > 0 {
		f.issues = append(f.issues, Issue{Reason: fmt.Sprintf("%d more issues not recorded", f.dropped)})
	}
	v := &flatFS{t: f.t, layers: f.diffs, spool: f.spool, spoolName: f.spoolName, issues: f.issues}
	return v, errors.Join(errs...)
}

// flattener holds the state of one Flatten call.
type flattener struct {
	opts Options
	lim  Limits
	t    *tree

	diffs   []string
	skip    map[string]bool // diffIDs whose replay failed; read them instead
	issues  []Issue
	dropped int

	entries  int // tar headers seen, all layers
	absNoted bool

	spool     *os.File
	spoolName string // non-empty while the spool still has a name on disk
	bw        *bufio.Writer
	br        *bufio.Reader
	spoolOff  int64
	spoolErr  error
	kept      int64
	totalHit  bool
	fatal     error
	stopErr   error
	readTotal int64 // bytes read from all previous layers
	// lossy is set when a wanted file of the current layer was not kept
	// (a cap, a spool failure): such a layer is not cached.
	lossy bool
	// noData is set while replaying an entry whose contents the replay
	// does not hold.
	noData bool

	buf           []byte
	stack, stack2 []*node
}

func (f *flattener) issue(layer, path, reason string) {
	if len(f.issues) >= maxIssues {
		f.dropped++
		return
	}
	if len(path) > 256 {
		path = path[:256] + "..."
	}
	f.issues = append(f.issues, Issue{Layer: layer, Path: path, Reason: reason})
}

// discard releases the spool after a failed Flatten.
func (f *flattener) discard() {
	if f.spool != nil {
		f.spool.Close()
		if f.spoolName != "" {
			os.Remove(f.spoolName)
		}
	}
}

// layer applies one layer. It returns nil, a stream/limit error for this
// layer, or an error wrapping errStop when no further layer may be read.
func (f *flattener) layer(ctx context.Context, idx int, l Layer) (err error) {
	f.startLayer(idx)
	if l.Open == nil {
		return errors.New("layer has no Open function")
	}
	rc, err := l.Open(ctx)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	// Buffer below the counting reader: archive/tar reads headers 512
	// bytes at a time, one syscall each on an unbuffered file.
	if f.br == nil {
		f.br = bufio.NewReaderSize(rc, 64<<10)
	} else {
		f.br.Reset(rc)
	}
	defer f.br.Reset(nil)
	lr := &layerReader{r: f.br, ctx: ctx, max: f.lim.MaxLayerBytes, imageMax: f.lim.MaxImageBytes,
		progress: f.opts.Progress, index: idx, base: f.readTotal}
	rec := f.record(ctx, l)
	if rec != nil {
		lr.hash = rec.hash
	}
	defer func() {
		f.readTotal += lr.n
		if f.opts.Progress != nil {
			f.opts.Progress(idx, f.readTotal)
		}
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close: %w", cerr)
		}
		rec.finish(err == nil && !f.lossy, lr.n)
	}()
	tr := tar.NewReader(lr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			// archive/tar also reports a clean EOF when the stream simply
			// stops between entries; only a trailing zero block proves the
			// archive ended rather than being cut short.
			if lr.n > 0 && !lr.endsWithZeroBlock() {
				return fmt.Errorf("corrupt or truncated layer: no end-of-archive marker after %d bytes", lr.n)
			}
			break
		}
		if err != nil {
			return f.readErr(lr, l.DiffID, "read tar", err)
		}
		var data io.Reader = tr
		if rec != nil {
			data = rec.entry(h, tr)
		}
		err = f.entry(data, h, l.DiffID)
		rec.entryDone()
		if err != nil {
			if errors.Is(err, errStop) || f.fatal != nil {
				return err
			}
			return f.readErr(lr, l.DiffID, "read "+h.Name, err)
		}
	}
	// Read to the end so a verifying reader below (digest check at EOF)
	// gets to report a mismatch; trailing data still counts toward the cap.
	if _, err := io.CopyBuffer(io.Discard, lr, f.buf); err != nil {
		return f.readErr(lr, l.DiffID, "read after end of archive", err)
	}
	return nil
}

// readErr classifies a stream error: the layer cap, the image cap (which
// stops every later layer too), cancellation, or a corrupt/truncated stream.
func (f *flattener) readErr(lr *layerReader, diff, what string, err error) error {
	if lr.over {
		return &LimitError{Limit: "MaxLayerBytes", Max: f.lim.MaxLayerBytes, Layer: diff}
	}
	if lr.imageOver {
		return f.stop("MaxImageBytes", f.lim.MaxImageBytes)
	}
	if cerr := lr.ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("corrupt or truncated layer: %s: %w", what, err)
}

// stop records a cap that ends the whole Flatten.
func (f *flattener) stop(limit string, max int64) error {
	f.stopErr = &LimitError{Limit: limit, Max: max}
	return errStop
}

// layerReader counts bytes, enforces the layer and image caps, checks ctx
// and reports progress.
type layerReader struct {
	r      io.Reader
	ctx    context.Context
	n, max int64
	over   bool
	// imageMax caps base+n, the bytes read from this and earlier layers.
	imageMax  int64
	imageOver bool
	progress  func(int, int64)
	hash      hash.Hash // if set, sees every byte read (to check the diffID)
	index     int
	base      int64
	next      int64
	probe     [1]byte
	tail      [512]byte // last bytes read, to recognise the end marker
}

// remember keeps the last 512 bytes read in tail.
func (l *layerReader) remember(b []byte) {
	if len(b) >= len(l.tail) {
		copy(l.tail[:], b[len(b)-len(l.tail):])
		return
	}
	copy(l.tail[:], l.tail[len(b):])
	copy(l.tail[len(l.tail)-len(b):], b)
}

// endsWithZeroBlock reports whether the last 512 bytes read were zeros.
func (l *layerReader) endsWithZeroBlock() bool {
	if l.n < int64(len(l.tail)) {
		return false
	}
	for _, c := range l.tail {
		if c != 0 {
			return false
		}
	}
	return true
}

func (l *layerReader) Read(p []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	limit := min(l.max, l.imageMax-l.base)
	if l.n >= limit {
		// At a cap: the layer is too large only if more data follows.
		n, err := l.r.Read(l.probe[:])
		if n > 0 {
			if limit == l.max {
				l.over = true
				return 0, &LimitError{Limit: "MaxLayerBytes", Max: l.max}
			}
			l.imageOver = true
			return 0, &LimitError{Limit: "MaxImageBytes", Max: l.imageMax}
		}
		return 0, err
	}
	if rem := limit - l.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.hash != nil {
		l.hash.Write(p[:n])
	}
	l.remember(p[:n])
	if l.progress != nil && l.n >= l.next {
		l.next = l.n + progressEvery
		l.progress(l.index, l.base+l.n)
	}
	return n, err
}
