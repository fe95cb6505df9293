package vulndb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"unsafe"
)

// On-disk layout (all integers little-endian), see docs/vulndb.md:
//
//	header   512 bytes: magic, format version, file size, section table, CRC
//	records  zstd frames, one per advisory (binary codec, shared dictionary)
//	dict     the zstd raw-content dictionary
//	ids      table: advisory id            -> record offset u64, length u32
//	pkgs     table: ecosystem \0 name      -> []u32 indexes into ids
//	aliases  table: id                     -> []u32 indexes into aliases
//	weak     table: id                     -> []u32 indexes into weak (upstream/related)
//	threat   table: CVE id                 -> EPSS/KEV row
//	meta     JSON Metadata
//	strings  table: CVSS vector or scorer  -> score ×10 (vectors), see metrics_codec.go
//	metrics  table: CVE id                 -> NVD and CVE 5 metric parts
//
// Every section carries a CRC-32C. Open checks those of every section but
// records, unless the verified marker vouches for this unchanged file
// (marker.go); records are covered by a CRC checked by Verify, Check and the
// import before the swap, and each frame carries its own zstd checksum,
// checked (with the decoded id against its index key) on every read.

const (
	magic         = "RLVULNDB"
	formatVersion = 1
	headerSize    = 512
	maxSections   = 16
	sectionSize   = 24 // kind u32, crc u32, off u64, len u64
	headerCRCAt   = 24 + maxSections*sectionSize
)

const (
	secRecords uint32 = iota + 1
	secDict
	secIDs
	secPkgs
	secAliases
	secWeak
	secThreat
	secMeta
	secStrings
	secMetrics
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by every error caused by a damaged or truncated DB file.
var ErrCorrupt = errors.New("vulnerability database is corrupt")

type section struct {
	kind uint32
	crc  uint32
	off  uint64
	len  uint64
}

type header struct {
	fileSize uint64
	sections []section
}

func (h *header) marshal() []byte {
	b := make([]byte, headerSize)
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[8:], formatVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(h.sections)))
	binary.LittleEndian.PutUint64(b[16:], h.fileSize)
	for i, s := range h.sections {
		p := b[24+i*sectionSize:]
		binary.LittleEndian.PutUint32(p[0:], s.kind)
		binary.LittleEndian.PutUint32(p[4:], s.crc)
		binary.LittleEndian.PutUint64(p[8:], s.off)
		binary.LittleEndian.PutUint64(p[16:], s.len)
	}
	binary.LittleEndian.PutUint32(b[headerCRCAt:], crc32.Checksum(b[:headerCRCAt], castagnoli))
	return b
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// parseHeader validates the header against the real file size: a truncated
// download or an interrupted copy fails here, before any index is touched.
func parseHeader(b []byte, size int64) (*header, error) {
	if len(b) < headerSize {
		return nil, corrupt("file is %d bytes, shorter than the header (truncated?)", len(b))
	}
	if string(b[:8]) != magic {
		return nil, corrupt("not a runlens vulnerability database (bad magic)")
	}
	if got, want := crc32.Checksum(b[:headerCRCAt], castagnoli), binary.LittleEndian.Uint32(b[headerCRCAt:]); got != want {
		return nil, corrupt("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != formatVersion {
		return nil, fmt.Errorf("vulnerability database format %d is not supported by this runlens (wants %d): rebuild it with `runlens db update`", v, formatVersion)
	}
	h := &header{fileSize: binary.LittleEndian.Uint64(b[16:])}
	if h.fileSize != uint64(size) {
		return nil, corrupt("file is %d bytes but its header says %d (truncated or appended to)", size, h.fileSize)
	}
	n := binary.LittleEndian.Uint32(b[12:])
	if n > maxSections {
		return nil, corrupt("section count %d", n)
	}
	for i := range int(n) {
		p := b[24+i*sectionSize:]
		s := section{
			kind: binary.LittleEndian.Uint32(p[0:]),
			crc:  binary.LittleEndian.Uint32(p[4:]),
			off:  binary.LittleEndian.Uint64(p[8:]),
			len:  binary.LittleEndian.Uint64(p[16:]),
		}
		if s.off < headerSize || s.off > h.fileSize || s.len > h.fileSize-s.off {
			return nil, corrupt("section %d lies outside the file", s.kind)
		}
		h.sections = append(h.sections, s)
	}
	return h, nil
}

func (h *header) find(kind uint32) (section, bool) {
	for _, s := range h.sections {
		if s.kind == kind {
			return s, true
		}
	}
	return section{}, false
}

// table is a sorted string table: n keys, each with a byte-string value,
// found by binary search directly in the mapped file without allocating.
//
//	n u32 | keyOffs [n+1]u32 | valOffs [n+1]u32 | keys | vals
type table struct {
	n       int
	keyOffs []byte
	valOffs []byte
	keys    []byte
	vals    []byte
}

func parseTable(b []byte) (table, error) {
	if len(b) < 4 {
		return table{}, errors.New("table too short")
	}
	n := uint64(binary.LittleEndian.Uint32(b))
	idx := 4 + 2*4*(n+1)
	if idx > uint64(len(b)) {
		return table{}, errors.New("table index outside section")
	}
	t := table{n: int(n), keyOffs: b[4 : 4+4*(n+1)], valOffs: b[4+4*(n+1) : idx]}
	kl := uint64(binary.LittleEndian.Uint32(t.keyOffs[4*n:]))
	vl := uint64(binary.LittleEndian.Uint32(t.valOffs[4*n:]))
	if idx+kl+vl != uint64(len(b)) {
		return table{}, errors.New("table blob sizes do not match its section")
	}
	t.keys = b[idx : idx+kl]
	t.vals = b[idx+kl:]
	return t, nil
}

func span(offs []byte, i int, limit int) (int, int) {
	a := int(binary.LittleEndian.Uint32(offs[4*i:]))
	b := int(binary.LittleEndian.Uint32(offs[4*i+4:]))
	if a > b || b > limit {
		return 0, 0 // damaged index: behave as an empty entry, never panic
	}
	return a, b
}

// key returns key i as a string that aliases the mapped file: callers must
// copy it before it outlives the DB.
func (t *table) key(i int) string {
	a, b := span(t.keyOffs, i, len(t.keys))
	if a == b {
		return ""
	}
	return unsafe.String(&t.keys[a], b-a)
}

func (t *table) val(i int) []byte {
	a, b := span(t.valOffs, i, len(t.vals))
	return t.vals[a:b]
}

func (t *table) find(k string) (int, bool) {
	i := sort.Search(t.n, func(i int) bool { return t.key(i) >= k })
	return i, i < t.n && t.key(i) == k
}

func u32s(b []byte) []uint32 {
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}
