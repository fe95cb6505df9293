package vulndbtest

import (
	"encoding/binary"
	"os"
	"sort"
	"testing"
)

// Section kinds of the database file, as laid out in
// internal/vulndb/format.go (docs/vulndb.md). This package reads the format
// on its own, from the documentation, so that tests can damage chosen bytes
// of a real file; internal/vulndb's tests check it against the real parser.
const (
	SectionRecords = 1 + iota
	SectionDict
	SectionIDs
	SectionPkgs
	SectionAliases
	SectionWeak
	SectionThreat
	SectionMeta
	SectionStrings
	SectionMetrics
)

// Span is a byte range of a database file.
type Span struct {
	Off, Len int64
}

func readDB(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 512 || string(b[:8]) != "RLVULNDB" {
		t.Fatalf("%s is not a runlens database", path)
	}
	return b
}

func section(t testing.TB, b []byte, kind int) Span {
	t.Helper()
	n := int(binary.LittleEndian.Uint32(b[12:]))
	for i := range n {
		p := b[24+i*24:]
		if int(binary.LittleEndian.Uint32(p)) == kind {
			return Span{int64(binary.LittleEndian.Uint64(p[8:])), int64(binary.LittleEndian.Uint64(p[16:]))}
		}
	}
	t.Fatalf("no section %d", kind)
	return Span{}
}

// SectionSpan returns where the section of the given kind lies in the
// database file at path.
func SectionSpan(t testing.TB, path string, kind int) Span {
	t.Helper()
	return section(t, readDB(t, path), kind)
}

// table is a sorted table section: n | keyOffs[n+1] | valOffs[n+1] | keys | vals.
type table struct {
	b                           []byte
	base                        int64 // file offset of the section
	n                           int
	keyOffs, valOffs, keysStart int // offsets inside b
}

func parseTable(file []byte, s Span) table {
	b := file[s.Off : s.Off+s.Len]
	n := int(binary.LittleEndian.Uint32(b))
	return table{b: b, base: s.Off, n: n, keyOffs: 4, valOffs: 4 + 4*(n+1), keysStart: 4 + 8*(n+1)}
}

func (tb table) off(arr, i int) int { return int(binary.LittleEndian.Uint32(tb.b[arr+4*i:])) }

func (tb table) key(i int) string {
	return string(tb.b[tb.keysStart+tb.off(tb.keyOffs, i) : tb.keysStart+tb.off(tb.keyOffs, i+1)])
}

func (tb table) valsStart() int { return tb.keysStart + tb.off(tb.keyOffs, tb.n) }

// find returns the index of key, failing the test if it is absent.
func (tb table) find(t testing.TB, key string) int {
	t.Helper()
	i := sort.Search(tb.n, func(i int) bool { return tb.key(i) >= key })
	if i == tb.n || tb.key(i) != key {
		t.Fatalf("key %q not in the table", key)
	}
	return i
}

// KeySpan returns where key lies among the keys of the table section of
// the given kind (SectionIDs, SectionPkgs, SectionAliases, SectionWeak,
// SectionThreat). Package keys are "ecosystem\x00name".
func KeySpan(t testing.TB, path string, kind int, key string) Span {
	t.Helper()
	b := readDB(t, path)
	tb := parseTable(b, section(t, b, kind))
	i := tb.find(t, key)
	return Span{tb.base + int64(tb.keysStart+tb.off(tb.keyOffs, i)), int64(len(key))}
}

// RecordSpan returns where the compressed record of advisory id lies.
func RecordSpan(t testing.TB, path, id string) Span {
	t.Helper()
	b := readDB(t, path)
	tb := parseTable(b, section(t, b, SectionIDs))
	i := tb.find(t, id)
	v := tb.b[tb.valsStart()+tb.off(tb.valOffs, i):]
	rec := section(t, b, SectionRecords)
	return Span{rec.Off + int64(binary.LittleEndian.Uint64(v)), int64(binary.LittleEndian.Uint32(v[8:]))}
}

// FlipByte XORs the byte at off of the file at path with mask, in place:
// same inode, same size, as a disk or a stray write would damage it.
func FlipByte(t testing.TB, path string, off int64, mask byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= mask
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}
