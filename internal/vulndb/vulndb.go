// Package vulndb is runlens's embedded vulnerability store: OSV advisories
// indexed by (ecosystem, package name), joined with EPSS scores and the CISA
// KEV catalog, in one immutable, memory-mapped file that updates replace
// atomically.
//
// Open checksums every index of a file it has not seen before (12-25 ms at
// 600k advisories) and then, for that same unchanged file, costs a fraction
// of a millisecond however large the database is: nothing is decoded until
// a Lookup asks for the advisories of one package.
package vulndb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
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
	// Metrics describes the CVE metrics (NVD, CVE 5) when any were imported.
	Metrics *MetricsInfo `json:"metrics,omitempty"`
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
	strs    table // CVSS vectors and scorer names (metrics_codec.go)
	metrics table // CVE id -> metric parts
	dec     *zstd.Decoder
	cache   []atomic.Pointer[cacheEntry]
	bufs    sync.Pool
	// trustedMarker is set when Open skipped the section checksums because
	// the verified marker vouched for this file.
	trustedMarker bool
}

type cacheEntry struct {
	rec int
	v   *osv.Vulnerability
}

// cacheSlots bounds the decoded-record cache: a direct-mapped array, so a
// long-running server never grows it and lookups never take a lock.
const cacheSlots = 1 << 14

// openFile opens the database file in dir; a missing one says which
// command makes it.
func openFile(dir, verb string) (*os.File, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: run `runlens db update` (online) or `runlens db import FILE|DIR` (offline) first", ErrNoDB, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s vulnerability database: %w", verb, err)
	}
	return f, nil
}

// Open maps the database in dir. Before a reader trusts any index it checks
// the header checksum, the file size against the header (a truncated file
// fails here), the checksum of every section but records, and the bounds
// of every table, so a damaged file errors rather than answering "no
// vulnerabilities". Records are checked one by one as they are decoded
// (zstd frame checksum, id against its index key). The section checksums
// cost about 12 ms at 600k advisories, so a verified marker beside the file
// (marker.go) lets later opens of the same unchanged file skip them; any
// write to the file through the filesystem invalidates the marker.
func Open(ctx context.Context, dir string) (*DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	f, err := openFile(dir, "open")
	if err != nil {
		return nil, err
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
	db, err := openChecked(path, data, unmap, func(h *header) (bool, error) {
		return checkAtOpen(ctx, dir, f, st, data, h)
	})
	if err != nil {
		unmap()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("open vulnerability database %s: %w", path, err)
		}
		return nil, fmt.Errorf("open vulnerability database %s: %w (run `runlens db status` for details; rebuild it with `runlens db update` or `runlens db import`)", path, err)
	}
	return db, nil
}

// openChecked parses the header, lets check verify the section checksums
// (or trust the marker), then parses the rest of the mapped file. The
// checksums come first so that damage anywhere in an index is reported as
// such, not as whatever structural check it happens to trip.
func openChecked(path string, data []byte, unmap func() error, check func(*header) (trusted bool, err error)) (*DB, error) {
	h, err := parseHeader(data, int64(len(data)))
	if err != nil {
		return nil, err
	}
	trusted, err := check(h)
	if err != nil {
		return nil, err
	}
	db, err := openMapped(path, data, unmap)
	if err != nil {
		return nil, err
	}
	db.trustedMarker = trusted
	return db, nil
}

// openMapped parses the structure of a mapped file: the header, the bounds
// of every table and the metadata (whose CRC it checks, since it decodes
// it right here). The other section checksums are the caller's: Open's
// checkAtOpen, or the full verification of a freshly built file.
func openMapped(path string, data []byte, unmap func() error) (*DB, error) {
	h, err := parseHeader(data, int64(len(data)))
	if err != nil {
		return nil, err
	}
	db := &DB{path: path, data: data, unmap: unmap, hdr: h}
	get := func(kind uint32, check bool) ([]byte, error) { // check: verify the CRC now
		s, ok := h.find(kind)
		if !ok {
			return nil, corrupt("section %d (%s) missing", kind, sectionName(kind))
		}
		b := data[s.off : s.off+s.len]
		if check && crc32.Checksum(b, castagnoli) != s.crc {
			return nil, checksumMismatch(kind)
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
			return nil, corrupt("section %d (%s): %v", t.kind, sectionName(t.kind), err)
		}
	}
	// The CVE metrics sections are absent from files built before them.
	for _, t := range []struct {
		kind uint32
		dst  *table
	}{{secStrings, &db.strs}, {secMetrics, &db.metrics}} {
		if _, ok := h.find(t.kind); !ok {
			continue
		}
		b, err := get(t.kind, false)
		if err != nil {
			return nil, err
		}
		if *t.dst, err = parseTable(b); err != nil {
			return nil, corrupt("section %d (%s): %v", t.kind, sectionName(t.kind), err)
		}
	}
	if mi := db.meta.Metrics; (mi != nil && mi.CVEs != db.metrics.n) || (mi == nil && db.metrics.n != 0) {
		return nil, corrupt("CVE metrics index holds %d CVEs, metadata says otherwise", db.metrics.n)
	}
	if db.ids.n != db.meta.Advisories {
		return nil, corrupt("index holds %d advisories, metadata says %d", db.ids.n, db.meta.Advisories)
	}
	dict, err := get(secDict, false) // checked by Open; a damaged one also fails every frame's checksum
	if err != nil {
		return nil, err
	}
	if db.dec, err = newDecoder(dict); err != nil {
		return nil, err
	}
	db.cache = make([]atomic.Pointer[cacheEntry], cacheSlots)
	return db, nil
}

func newDecoder(dict []byte) (*zstd.Decoder, error) {
	opts := []zstd.DOption{zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxRecordBytes * 2)}
	if len(dict) > 0 {
		opts = append(opts, zstd.WithDecoderDictRaw(dictID, slices.Clone(dict)))
	}
	dec, err := zstd.NewReader(nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	return dec, nil
}

// openRecords is the part of openMapped that reading records needs (the
// records, the advisory index and the dictionary), for checking the
// records of a file whose other sections may be damaged. The caller
// closes db.dec; the DB is not usable otherwise.
func openRecords(data []byte) (*DB, error) {
	h, err := parseHeader(data, int64(len(data)))
	if err != nil {
		return nil, err
	}
	db := &DB{data: data, hdr: h, cache: make([]atomic.Pointer[cacheEntry], cacheSlots)}
	part := func(kind uint32) ([]byte, error) {
		s, ok := h.find(kind)
		if !ok {
			return nil, corrupt("section %d (%s) missing", kind, sectionName(kind))
		}
		return data[s.off : s.off+s.len], nil
	}
	if db.records, err = part(secRecords); err != nil {
		return nil, err
	}
	b, err := part(secIDs)
	if err != nil {
		return nil, err
	}
	if db.ids, err = parseTable(b); err != nil {
		return nil, corrupt("section %d (%s): %v", secIDs, sectionName(secIDs), err)
	}
	dict, err := part(secDict)
	if err != nil {
		return nil, err
	}
	if db.dec, err = newDecoder(dict); err != nil {
		return nil, err
	}
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
// the name is normalized with osv.NormalizeName. No advisories is (nil, nil);
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
	v, err := db.decodeRecord(i)
	if err != nil {
		return nil, err
	}
	slot.Store(&cacheEntry{rec: i, v: v})
	return v, nil
}

// decodeRecord decodes advisory i of the ids table, checking its frame
// checksum and that it is the advisory its index key names.
func (db *DB) decodeRecord(i int) (*osv.Vulnerability, error) {
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
	defer db.bufs.Put(bp)
	raw, err := db.dec.DecodeAll(db.records[off:off+n], (*bp)[:0])
	if err != nil {
		return nil, corrupt("record %s: %v", db.ids.key(i), err)
	}
	*bp = raw
	v, err := decodeVuln(string(raw))
	if err != nil {
		return nil, corrupt("record %s: %v", db.ids.key(i), err)
	}
	if v.ID != db.ids.key(i) {
		return nil, corrupt("index entry %s points at record %s", db.ids.key(i), v.ID)
	}
	return v, nil
}

// Verify checks the checksum of every section, advisory bodies included,
// whatever the verified marker says. Open checks all but the records;
// Check (`runlens db status`), `db export` and every import (before the
// swap) check everything.
func (db *DB) Verify(ctx context.Context) error {
	if db.closed.Load() {
		return errClosed
	}
	if err := verifySections(ctx, bytes.NewReader(db.data), db.hdr, nil); err != nil {
		return fmt.Errorf("verify %s: %w", db.path, err)
	}
	return nil
}
