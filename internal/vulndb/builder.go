package vulndb

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/runlens/runlens/internal/osv"
)

const (
	dictID      = 0x524c4431 // "RLD1": the raw dictionary's id in every frame
	dictSamples = 4096       // records buffered before the dictionary is cut
	dictBytes   = 112 << 10  // size of the raw-content dictionary
	maxJSONNest = 64         // deeper OSV JSON is rejected before decoding
	maxBadShown = 20
)

// decoded is one input record after a worker parsed and encoded it.
type decoded struct {
	src       int
	name      string
	bad       string // why the record was rejected; empty when good
	id        string
	modified  int64
	withdrawn bool
	aliases   []string
	weak      []string
	pkgs      []string // pkgKey values
	bin       []byte   // binary codec form
	comp      []byte   // zstd frame, when the encoder existed already
	// CVE metrics records (metrics_build.go): the decoded record, a
	// document that is no CVE record, or a malformed one (fails the import).
	metric *metricRec
	skip   string
	fatal  error
}

// recInfo is what the builder keeps in memory per stored advisory; at
// 600k advisories every byte here counts toward the import's peak RSS, so
// links are kept as one "\n"-joined string (ids hold no whitespace).
type recInfo struct {
	id        string
	off       uint64
	n         uint32
	withdrawn bool
	modified  int64
	aliases   string
	weak      string
	pkgs      []string // interned pkgKey values; the ecosystem is the part before \x00
}

type builder struct {
	im  *Importer
	f   *os.File
	w   *bufio.Writer
	pos uint64
	crc uint32
	// secStart is where the section being written began.
	secStart uint64
	hdr      header

	enc     atomic.Pointer[zstd.Encoder]
	dict    []byte
	pending []decoded

	recs   map[string]*recInfo
	intern map[string]string
	threat map[string]*threatRow
	mx     metricsState

	mu   sync.Mutex // guards meta: readers report bad records concurrently
	meta Metadata
}

func newBuilder(im *Importer, f *os.File) (*builder, error) {
	b := &builder{
		im: im, f: f, w: bufio.NewWriterSize(f, 1<<20),
		recs:   make(map[string]*recInfo),
		intern: make(map[string]string),
		threat: make(map[string]*threatRow),
		meta:   Metadata{SchemaVersion: SchemaVersion, Ecosystems: map[string]int{}},
	}
	// The header is written last, once every section is known.
	if _, err := b.w.Write(make([]byte, headerSize)); err != nil {
		return nil, err
	}
	b.pos = headerSize
	return b, nil
}

func (b *builder) addSource(s SourceInfo) {
	b.mu.Lock()
	b.meta.Sources = append(b.meta.Sources, s)
	b.mu.Unlock()
}

func (b *builder) badFromReader(src int, name, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.meta.Bad++
	b.meta.Sources[src].Bad++
	if len(b.meta.BadSamples) < maxBadShown {
		b.meta.BadSamples = append(b.meta.BadSamples, BadRecord{Source: b.meta.Sources[src].Location, Name: name, Reason: reason})
	}
}

// decode runs in a worker: it validates, parses and encodes one record.
func (b *builder) decode(r rawRecord) decoded {
	if r.kind == recMetrics {
		return b.decodeMetrics(r)
	}
	d := decoded{src: r.src, name: r.name}
	if !nestingWithin(r.data, maxJSONNest) {
		d.bad = fmt.Sprintf("JSON nested deeper than %d levels", maxJSONNest)
		return d
	}
	var v osv.Vulnerability
	if err := json.Unmarshal(r.data, &v); err != nil {
		d.bad = "invalid OSV JSON: " + err.Error()
		return d
	}
	if !validID(v.ID) {
		d.bad = "missing or invalid id"
		return d
	}
	bin, err := encodeVuln(nil, &v)
	if err != nil {
		d.bad = err.Error()
		return d
	}
	d.id, d.bin = v.ID, bin
	d.modified = v.Modified.UnixNano()
	d.withdrawn = v.Withdrawn != nil
	d.aliases = cleanIDs(v.Aliases, v.ID)
	d.weak = cleanIDs(append(slices.Clip(v.Upstream), v.Related...), v.ID)
	for _, a := range v.Affected {
		eco := a.Package.Ecosystem
		if eco == "" || a.Package.Name == "" || strings.ContainsRune(eco, 0) {
			continue // nothing to index it under; still reachable by id
		}
		if k := pkgKey(eco, a.Package.Name); !slices.Contains(d.pkgs, k) {
			d.pkgs = append(d.pkgs, k)
		}
	}
	if enc := b.enc.Load(); enc != nil {
		d.comp = enc.EncodeAll(d.bin, nil)
		d.bin = nil
	}
	return d
}

// validID accepts printable ASCII ids without spaces, up to 128 bytes.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

func cleanIDs(ids []string, self string) []string {
	var out []string
	for _, a := range ids {
		if a != self && validID(a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// nestingWithin scans JSON bytes for bracket depth, skipping strings, so a
// million-deep document is refused before encoding/json walks it.
func nestingWithin(b []byte, max int) bool {
	depth, inStr, esc := 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

// collect runs in one goroutine and writes records in arrival order.
func (b *builder) collect(ctx context.Context, d decoded) error {
	if d.metric != nil || d.skip != "" || d.fatal != nil {
		return b.collectMetric(d)
	}
	if d.bad != "" {
		b.badFromReader(d.src, d.name, d.bad)
		return nil
	}
	if d.comp == nil {
		enc := b.enc.Load()
		if enc == nil {
			b.pending = append(b.pending, d)
			if len(b.pending) >= dictSamples {
				return b.flushPending(ctx)
			}
			return nil
		}
		d.comp = enc.EncodeAll(d.bin, nil)
	}
	return b.write(d)
}

// flushPending cuts the dictionary from the buffered records (evenly
// sampled, so no single early source dominates it) and writes them.
func (b *builder) flushPending(ctx context.Context) error {
	if b.enc.Load() == nil {
		step := max(1, len(b.pending)/256)
		for i := 0; i < len(b.pending) && len(b.dict) < dictBytes; i += step {
			b.dict = append(b.dict, b.pending[i].bin...)
		}
		b.dict = b.dict[:min(len(b.dict), dictBytes)]
		opts := []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderCRC(true)}
		if len(b.dict) > 0 {
			opts = append(opts, zstd.WithEncoderDictRaw(dictID, b.dict))
		}
		enc, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			return fmt.Errorf("zstd encoder: %w", err)
		}
		b.enc.Store(enc)
	}
	enc := b.enc.Load()
	for _, d := range b.pending {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.comp = enc.EncodeAll(d.bin, nil)
		d.bin = nil
		if err := b.write(d); err != nil {
			return err
		}
	}
	b.pending = nil
	return nil
}

func (b *builder) emit(p []byte) error {
	n, err := b.w.Write(p)
	b.pos += uint64(n)
	b.crc = crc32.Update(b.crc, castagnoli, p[:n])
	return err
}

func (b *builder) write(d decoded) error {
	b.mu.Lock()
	b.meta.Sources[d.src].Records++
	if old, ok := b.recs[d.id]; ok {
		b.meta.Duplicates++
		if old.modified > d.modified {
			b.mu.Unlock()
			return nil // keep the newer one; this body is never written
		}
	}
	b.mu.Unlock()
	ri := &recInfo{id: d.id, off: b.pos - headerSize, n: uint32(len(d.comp)), modified: d.modified, withdrawn: d.withdrawn,
		aliases: strings.Join(d.aliases, "\n"), weak: strings.Join(d.weak, "\n"), pkgs: make([]string, len(d.pkgs))}
	for i, k := range d.pkgs {
		ri.pkgs[i] = b.internStr(k)
	}
	b.recs[d.id] = ri
	return b.emit(d.comp)
}

func (b *builder) internStr(s string) string {
	if v, ok := b.intern[s]; ok {
		return v
	}
	b.intern[s] = s
	return s
}

func (b *builder) readEPSS(ctx context.Context, s Source, src int) error {
	rc, err := b.im.openData(ctx, s.Location, b.im.limits().MaxThreatBytes)
	if err != nil {
		return err
	}
	defer rc.Close()
	info := &EPSSInfo{Location: redact(s.Location)}
	if err := parseEPSS(ctx, rc, b.threat, info); err != nil {
		return err
	}
	if info.Rows == 0 {
		return fmt.Errorf("EPSS file has no valid rows (%d bad)", info.Bad)
	}
	b.mu.Lock()
	b.meta.EPSS = info
	b.meta.Sources[src].Records, b.meta.Sources[src].Bad = info.Rows, info.Bad
	b.mu.Unlock()
	return nil
}

func (b *builder) readKEV(ctx context.Context, s Source) error {
	rc, err := b.im.openData(ctx, s.Location, b.im.limits().MaxThreatBytes)
	if err != nil {
		return err
	}
	defer rc.Close()
	info := &KEVInfo{Location: redact(s.Location)}
	if err := parseKEV(rc, b.threat, info); err != nil {
		return err
	}
	b.mu.Lock()
	b.meta.KEV = info
	b.meta.Sources[len(b.meta.Sources)-1].Records = info.Count
	b.mu.Unlock()
	return nil
}
