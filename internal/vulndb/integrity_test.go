package vulndb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/vulndb/vulndbtest"
)

// damageDB imports the real fixtures into a fresh directory and returns it,
// the DB file's path and its parsed header.
func damageDB(t *testing.T) (string, string, *header) {
	t.Helper()
	dir := t.TempDir()
	importTestdata(t, dir)
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(b, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return dir, path, h
}

// withFlip writes a copy of the file at path with byte off XORed by mask
// into a new directory and returns that directory.
func withFlip(t *testing.T, path string, off int64, mask byte) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= mask
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDamageHelpersMatchTheFormat checks vulndbtest's own reading of the
// file format (used by the CLI tests) against the real parser.
func TestDamageHelpersMatchTheFormat(t *testing.T) {
	dir, path, h := damageDB(t)
	for _, s := range h.sections {
		if got := vulndbtest.SectionSpan(t, path, int(s.kind)); got != (vulndbtest.Span{Off: int64(s.off), Len: int64(s.len)}) {
			t.Errorf("section %d: vulndbtest says %+v, header says off %d len %d", s.kind, got, s.off, s.len)
		}
	}
	b, _ := os.ReadFile(path)
	key := pkgKey("npm", "axios")
	if sp := vulndbtest.KeySpan(t, path, vulndbtest.SectionPkgs, key); string(b[sp.Off:sp.Off+sp.Len]) != key {
		t.Errorf("KeySpan points at %q, want %q", b[sp.Off:sp.Off+sp.Len], key)
	}
	db := openDB(t, dir)
	i, ok := db.ids.find("GHSA-8hc4-vh64-cxmj")
	if !ok {
		t.Fatal("fixture advisory missing")
	}
	rec, _ := h.find(secRecords)
	ref := db.ids.val(i)
	want := vulndbtest.Span{Off: int64(rec.off) + int64(binary.LittleEndian.Uint64(ref)), Len: int64(binary.LittleEndian.Uint32(ref[8:]))}
	if got := vulndbtest.RecordSpan(t, path, "GHSA-8hc4-vh64-cxmj"); got != want {
		t.Errorf("RecordSpan = %+v, want %+v", got, want)
	}
}

// TestOpenChecksEverySection flips the first, middle and last byte of every
// section but records, and every byte of one package key, one advisory id
// key and one CVE key: Open must refuse each file and name the section.
// (Before Open checked the indexes, a flipped package key lost that
// package's findings without any error.)
func TestOpenChecksEverySection(t *testing.T) {
	_, path, h := damageDB(t)
	type flip struct {
		name string
		off  int64
		kind uint32
	}
	var flips []flip
	for _, s := range h.sections {
		if s.kind == secRecords {
			continue
		}
		for _, off := range []uint64{s.off, s.off + s.len/2, s.off + s.len - 1} {
			flips = append(flips, flip{fmt.Sprintf("%s@%d", sectionName(s.kind), off-s.off), int64(off), s.kind})
		}
	}
	for _, k := range []struct {
		kind uint32
		key  string
	}{{secPkgs, pkgKey("npm", "axios")}, {secIDs, "GHSA-8hc4-vh64-cxmj"}, {secThreat, "CVE-2021-44228"}, {secAliases, "CVE-2021-44228"}, {secMetrics, "CVE-2022-1292"}} {
		sp := vulndbtest.KeySpan(t, path, int(k.kind), k.key)
		for j := range sp.Len {
			flips = append(flips, flip{fmt.Sprintf("%s key %q byte %d", sectionName(k.kind), k.key, j), sp.Off + j, k.kind})
		}
	}
	for _, f := range flips {
		for _, mask := range []byte{0x01, 0x80} {
			dir := withFlip(t, path, f.off, mask)
			db, err := Open(context.Background(), dir)
			if err == nil {
				db.Close()
				t.Errorf("%s ^%#x: Open succeeded", f.name, mask)
				continue
			}
			want := fmt.Sprintf("section %d (%s) checksum mismatch", f.kind, sectionName(f.kind))
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "runlens db status") {
				t.Errorf("%s ^%#x: Open error %q, want ErrCorrupt with %q and a pointer to db status", f.name, mask, err, want)
			}
		}
	}
}

// TestFlipsNeverLoseFindingsSilently flips bytes spread over the whole
// file: either Open fails, or every lookup answers what the pristine DB
// answers or fails. Never fewer advisories without an error.
func TestFlipsNeverLoseFindingsSilently(t *testing.T) {
	_, path, _ := damageDB(t)
	o := loadOracle(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	opened, lookupErrs := 0, 0
	for range 150 {
		off := rng.Int64N(st.Size())
		dir := withFlip(t, path, off, byte(1<<rng.IntN(8)))
		db, err := Open(context.Background(), dir)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("flip at %d: Open error %v is not ErrCorrupt", off, err)
			}
			continue
		}
		opened++
		for k, want := range o.pkgs {
			vs, err := db.Lookup(context.Background(), k[0], k[1])
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("flip at %d: Lookup %v: %v is not ErrCorrupt", off, k, err)
				}
				lookupErrs++
				continue
			}
			if got := ids(vs); !slices.Equal(got, want) {
				t.Errorf("flip at %d: Lookup %v = %v, want %v, without an error", off, k, got, want)
			}
		}
		db.Close()
	}
	if opened == 0 || lookupErrs == 0 {
		t.Errorf("%d flips opened, %d lookups failed: the flips missed the records section", opened, lookupErrs)
	}
}

// TestRecordByteFlipsAreErrors flips every byte of the first 25 records
// (two masks each): decoding the damaged record must fail with ErrCorrupt
// or, where the flip touched a byte the frame does not depend on, yield
// the very same advisory. Records are not checksummed at Open, so this is
// what stands between a damaged record and a missing finding.
func TestRecordByteFlipsAreErrors(t *testing.T) {
	_, path, _ := damageDB(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openMapped(path, data, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	failed, same := 0, 0
	for i := range min(25, db.ids.n) {
		orig, err := db.record(i)
		if err != nil {
			t.Fatal(err)
		}
		ref := db.ids.val(i)
		start, n := binary.LittleEndian.Uint64(ref), uint64(binary.LittleEndian.Uint32(ref[8:]))
		for p := start; p < start+n; p++ {
			for _, mask := range []byte{0x01, 0x80} {
				db.records[p] ^= mask
				db.cache[i%cacheSlots].Store(nil)
				v, err := db.record(i)
				db.records[p] ^= mask
				switch {
				case err != nil:
					if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), db.ids.key(i)) {
						t.Fatalf("record %s byte %d: %v, want ErrCorrupt naming the record", db.ids.key(i), p-start, err)
					}
					failed++
				case cmp.Equal(v, orig):
					same++
				default:
					t.Fatalf("record %s byte %d ^%#x decoded to a different advisory without an error", db.ids.key(i), p-start, mask)
				}
			}
		}
		db.cache[i%cacheSlots].Store(nil)
	}
	t.Logf("%d flips failed, %d were harmless", failed, same)
	if failed < 10*same {
		t.Errorf("only %d of %d flips were detected", failed, failed+same)
	}
}

// TestDamagedRecordFailsTheMatch damages one advisory of npm axios in
// place: Open succeeds (records are checked as they are read), the lookup
// fails naming the advisory, and so does match.Match, which the scan turns
// into a failed result (exit 2), never a clean one.
func TestDamagedRecordFailsTheMatch(t *testing.T) {
	dir, path, _ := damageDB(t)
	sp := vulndbtest.RecordSpan(t, path, "GHSA-wf5p-g6vw-rhxx")
	vulndbtest.FlipByte(t, path, sp.Off+sp.Len/2, 0x10)
	db := openDB(t, dir)
	if _, err := db.Lookup(context.Background(), "npm", "axios"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "GHSA-wf5p-g6vw-rhxx") {
		t.Fatalf("Lookup of the damaged record: %v, want ErrCorrupt naming GHSA-wf5p-g6vw-rhxx", err)
	}
	inv := &inventory.Inventory{Packages: []inventory.Package{
		{Name: "lodash", Version: "4.17.20", Ecosystem: "npm", Type: "npm"},
		{Name: "axios", Version: "0.21.0", Ecosystem: "npm", Type: "npm"},
	}}
	res, err := match.Match(context.Background(), inv, db)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("match.Match = %d findings, %v; want an ErrCorrupt error", len(res.Findings), err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("a failed match returned %d findings", len(res.Findings))
	}
}
