// Package vulndb is runlens's embedded vulnerability store: OSV advisories
// indexed by (ecosystem, package name), joined with EPSS scores and the CISA
// KEV catalog, in one immutable, memory-mapped file that updates replace
// atomically.
//
// Open costs a few milliseconds however large the database is: nothing is
// decoded until a Lookup asks for the advisories of one package.
package vulndb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/runlens/runlens/internal/osv"
)

// FileName is the database file inside a DB directory.
const FileName = "runlens.db"

// SchemaVersion is the version of Metadata and of the file format.
const SchemaVersion = formatVersion

// ErrNoDB is wrapped by Open when the directory holds no database.
var ErrNoDB = errors.New("no vulnerability database")

// Metadata describes how and from what a database was built.
type Metadata struct {
	SchemaVersion int       `json:"schema_version"`
	BuiltAt       time.Time `json:"built_at"`
	// Sources lists every input, in import order.
	Sources []SourceInfo `json:"sources"`
	// Advisories is the number of distinct advisory ids stored.
	Advisories int `json:"advisories"`
	// Withdrawn counts stored advisories that carry a withdrawn date.
	Withdrawn int `json:"withdrawn"`
	// Packages is the number of distinct (ecosystem, name) keys.
	Packages int `json:"packages"`
	// Ecosystems counts advisories per affected[].package.ecosystem, as given.
	Ecosystems map[string]int `json:"ecosystems"`
	// Bad counts records that were skipped; BadSamples shows the first few.
	Bad        int         `json:"bad"`
	BadSamples []BadRecord `json:"bad_samples,omitempty"`
	// Duplicates counts records whose id was already seen; the newest
	// `modified` wins.
	Duplicates int       `json:"duplicates"`
	EPSS       *EPSSInfo `json:"epss,omitempty"`
	KEV        *KEVInfo  `json:"kev,omitempty"`
}

// Age is how old the database is at now.
func (m Metadata) Age(now time.Time) time.Duration { return now.Sub(m.BuiltAt) }

// SourceInfo records one input of an import.
type SourceInfo struct {
	Kind      string    `json:"kind"`
	Location  string    `json:"location"` // path or URL, without credentials
	FetchedAt time.Time `json:"fetched_at"`
	Records   int       `json:"records"`
	Bad       int       `json:"bad"`
}

// BadRecord names one skipped input record and why.
type BadRecord struct {
	Source string `json:"source"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// EPSSInfo describes the imported EPSS file.
type EPSSInfo struct {
	Location     string    `json:"location"`
	ModelVersion string    `json:"model_version"`
	ScoreDate    time.Time `json:"score_date"`
	Rows         int       `json:"rows"`
	Bad          int       `json:"bad"`
}

// KEVInfo describes the imported CISA KEV catalog.
type KEVInfo struct {
	Location       string    `json:"location"`
	CatalogVersion string    `json:"catalog_version"`
	DateReleased   time.Time `json:"date_released"`
	Count          int       `json:"count"`
}

// DB is an open, read-only database. It is safe for concurrent use. The
// records it returns are shared between callers and must not be modified.
type DB struct {
	path    string
	data    []byte
	unmap   func() error
	closed  atomic.Bool
	hdr     *header
	meta    Metadata
	records []byte
	ids     table
	pkgs    table
	aliases table
	weak    table
	threat  table
	dec     *zstd.Decoder
	cache   []atomic.Pointer[cacheEntry]
	bufs    sync.Pool
}

type cacheEntry struct {
	rec int
	v   *osv.Vulnerability
}

// cacheSlots bounds the decoded-record cache: a direct-mapped array, so a
// long-running server never grows it and lookups never take a lock.
const cacheSlots = 1 << 14

// Open maps the database in dir. It checks the header checksum, the file
// size against the header (a truncated file fails here), the metadata
// checksum and the bounds of every index, so a damaged file errors rather
// than answering "no vulnerabilities". Checksumming every index would cost
// ~50 ms at 600k advisories, more than the whole open budget; Verify does
// it, and every import does it before swapping a file in.
func Open(ctx context.Context, dir string) (*DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: run `runlens db update` (online) or `runlens db import FILE|DIR` (offline) first", ErrNoDB, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database: %w", err)
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database: %w", err)
	}
	data, unmap, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database %s: %w", path, err)
	}
	db, err := openMapped(path, data, unmap)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("open vulnerability database %s: %w (rebuild it with `runlens db update` or `runlens db import`)", path, err)
	}
	return db, nil
}

func openMapped(path string, data []byte, unmap func() error) (*DB, error) {
	h, err := parseHeader(data, int64(len(data)))
	if err != nil {
		return nil, err
	}
	db := &DB{path: path, data: data, unmap: unmap, hdr: h}
	get := func(kind uint32, check bool) ([]byte, error) { // check: verify the CRC now
		s, ok := h.find(kind)
		if !ok {
			return nil, corrupt("section %d missing", kind)
		}
		b := data[s.off : s.off+s.len]
		if check && crc32.Checksum(b, castagnoli) != s.crc {
			return nil, corrupt("section %d checksum mismatch", kind)
		}
		return b, nil
	}
	if db.records, err = get(secRecords, false); err != nil {
		return nil, err
	}
	metaB, err := get(secMeta, true)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(metaB, &db.meta); err != nil {
		return nil, corrupt("metadata: %v", err)
	}
	for _, t := range []struct {
		kind uint32
		dst  *table
	}{{secIDs, &db.ids}, {secPkgs, &db.pkgs}, {secAliases, &db.aliases}, {secWeak, &db.weak}, {secThreat, &db.threat}} {
		b, err := get(t.kind, false)
		if err != nil {
			return nil, err
		}
		if *t.dst, err = parseTable(b); err != nil {
			return nil, corrupt("section %d: %v", t.kind, err)
		}
	}
	if db.ids.n != db.meta.Advisories {
		return nil, corrupt("index holds %d advisories, metadata says %d", db.ids.n, db.meta.Advisories)
	}
	dict, err := get(secDict, false) // a damaged dictionary fails every frame's checksum
	if err != nil {
		return nil, err
	}
	opts := []zstd.DOption{zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxRecordBytes * 2)}
	if len(dict) > 0 {
		opts = append(opts, zstd.WithDecoderDictRaw(dictID, slices.Clone(dict)))
	}
	if db.dec, err = zstd.NewReader(nil, opts...); err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	db.cache = make([]atomic.Pointer[cacheEntry], cacheSlots)
	return db, nil
}

// Close releases the mapping. Records already returned stay valid.
func (db *DB) Close() error {
	if db == nil || !db.closed.CompareAndSwap(false, true) {
		return nil
	}
	db.dec.Close()
	return db.unmap()
}

var errClosed = errors.New("vulnerability database is closed")

// Metadata describes the open database.
func (db *DB) Metadata() Metadata { return db.meta }

// Path is the file the database was opened from.
func (db *DB) Path() string { return db.path }

// Ecosystems lists the ecosystems present, sorted ("Debian:12", "Go", "npm", ...).
func (db *DB) Ecosystems() []string {
	out := make([]string, 0, len(db.meta.Ecosystems))
	for e := range db.meta.Ecosystems {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

// Lookup returns the advisories affecting the package name in ecosystem,
// ordered by id, withdrawn ones included (matching decides what to do with
// them). The ecosystem must be spelled as in the advisories ("Debian:12");
// the name is normalized with NormalizeName. No advisories is (nil, nil);
// a damaged record is an error, never a silent omission.
func (db *DB) Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if db.closed.Load() {
		return nil, errClosed
	}
	i, ok := db.pkgs.find(pkgKey(ecosystem, name))
	if !ok {
		return nil, nil
	}
	refs := db.pkgs.val(i)
	out := make([]*osv.Vulnerability, 0, len(refs)/4)
	for j := 0; j+4 <= len(refs); j += 4 {
		v, err := db.record(int(binary.LittleEndian.Uint32(refs[j:])))
		if err != nil {
			return nil, fmt.Errorf("lookup %s/%s: %w", ecosystem, name, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Get returns the advisory with the given id, or (nil, false, nil).
func (db *DB) Get(ctx context.Context, id string) (*osv.Vulnerability, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if db.closed.Load() {
		return nil, false, errClosed
	}
	i, ok := db.ids.find(id)
	if !ok {
		return nil, false, nil
	}
	v, err := db.record(i)
	if err != nil {
		return nil, false, fmt.Errorf("get %s: %w", id, err)
	}
	return v, true, nil
}

// Aliases returns the ids that are true aliases of id (its own `aliases`
// and every record that lists it among theirs), sorted, without id itself.
func (db *DB) Aliases(id string) []string { return db.links(&db.aliases, id) }

// Related returns the weak links of id: `upstream` and `related` in either
// direction. They are not the same vulnerability and are kept apart from
// Aliases so findings are not merged on them.
func (db *DB) Related(id string) []string { return db.links(&db.weak, id) }

func (db *DB) links(t *table, id string) []string {
	if db.closed.Load() {
		return nil
	}
	i, ok := t.find(id)
	if !ok {
		return nil
	}
	refs := t.val(i)
	out := make([]string, 0, len(refs)/4)
	for j := 0; j+4 <= len(refs); j += 4 {
		k := int(binary.LittleEndian.Uint32(refs[j:]))
		if k < t.n {
			out = append(out, strings.Clone(t.key(k)))
		}
	}
	return out
}

// record decodes advisory i of the ids table, through the cache.
func (db *DB) record(i int) (*osv.Vulnerability, error) {
	slot := &db.cache[i%cacheSlots]
	if e := slot.Load(); e != nil && e.rec == i {
		return e.v, nil
	}
	if i < 0 || i >= db.ids.n {
		return nil, corrupt("record index %d out of range", i)
	}
	ref := db.ids.val(i)
	if len(ref) != 12 {
		return nil, corrupt("record reference of %d bytes", len(ref))
	}
	off, n := binary.LittleEndian.Uint64(ref), uint64(binary.LittleEndian.Uint32(ref[8:]))
	if off > uint64(len(db.records)) || n > uint64(len(db.records))-off {
		return nil, corrupt("record %s lies outside the file", db.ids.key(i))
	}
	bp, _ := db.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	raw, err := db.dec.DecodeAll(db.records[off:off+n], (*bp)[:0])
	if err != nil {
		return nil, corrupt("record %s: %v", db.ids.key(i), err)
	}
	v, err := decodeVuln(string(raw))
	*bp = raw
	db.bufs.Put(bp)
	if err != nil {
		return nil, corrupt("record %s: %v", db.ids.key(i), err)
	}
	if v.ID != db.ids.key(i) {
		return nil, corrupt("index entry %s points at record %s", db.ids.key(i), v.ID)
	}
	slot.Store(&cacheEntry{rec: i, v: v})
	return v, nil
}

// Verify checks the checksum of the whole file, advisory bodies included.
// Open checks only the indexes, to stay fast; `runlens db verify` and every
// import (before the swap) call this.
func (db *DB) Verify(ctx context.Context) error {
	if db.closed.Load() {
		return errClosed
	}
	if err := verifyChecksums(ctx, bytes.NewReader(db.data), db.hdr); err != nil {
		return fmt.Errorf("verify %s: %w", db.path, err)
	}
	return nil
}

// verifyChecksums checks every section's CRC, reading through r in chunks.
func verifyChecksums(ctx context.Context, r io.ReaderAt, h *header) error {
	buf := make([]byte, 1<<20)
	for _, s := range h.sections {
		c := uint32(0)
		for off := s.off; off < s.off+s.len; {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := r.ReadAt(buf[:min(uint64(len(buf)), s.off+s.len-off)], int64(off))
			if n == 0 && err != nil {
				return err
			}
			c = crc32.Update(c, castagnoli, buf[:n])
			off += uint64(n)
		}
		if c != s.crc {
			return corrupt("section %d checksum mismatch", s.kind)
		}
	}
	return nil
}
