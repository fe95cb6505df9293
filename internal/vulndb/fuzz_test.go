package vulndb

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzDB is a small real database (npm and Debian advisories, EPSS, KEV,
// one NVD and one CVE 5 record)
// and every answer it gives, built once per fuzz process.
var fuzzDB struct {
	once    sync.Once
	err     error
	file    []byte
	hdr     *header
	answers map[string]any
}

func loadFuzzDB(tb testing.TB) ([]byte, *header, map[string]any) {
	tb.Helper()
	fuzzDB.once.Do(func() {
		dir, err := os.MkdirTemp("", "vulndb-fuzz-")
		if err != nil {
			fuzzDB.err = err
			return
		}
		defer os.RemoveAll(dir)
		_, err = fixedImporter().Import(context.Background(), dir,
			OSVDir(filepath.Join(osvDir, "npm")), OSVDir(filepath.Join(osvDir, "debian")), EPSS(epssFile), KEV(kevFile),
			NVD(filepath.Join(nvdDir, "CVE-2022-1292.json")), CVE5(filepath.Join(cve5Dir, "2021", "44xxx")))
		if err != nil {
			fuzzDB.err = err
			return
		}
		if fuzzDB.file, err = os.ReadFile(filepath.Join(dir, FileName)); err != nil {
			fuzzDB.err = err
			return
		}
		fuzzDB.hdr, _ = parseHeader(fuzzDB.file, int64(len(fuzzDB.file)))
		db, err := Open(context.Background(), dir)
		if err != nil {
			fuzzDB.err = err
			return
		}
		defer db.Close()
		fuzzDB.answers = map[string]any{}
		for q := range questions(db) {
			a, err := answer(db, q)
			if err != nil {
				fuzzDB.err = err
				return
			}
			fuzzDB.answers[q] = a
		}
	})
	if fuzzDB.err != nil {
		tb.Fatal(fuzzDB.err)
	}
	return fuzzDB.file, fuzzDB.hdr, fuzzDB.answers
}

// questions lists everything a scan may ask of db, as "kind\x00arg" keys.
func questions(db *DB) map[string]bool {
	qs := map[string]bool{"meta\x00": true}
	for i := range db.pkgs.n {
		qs["lookup\x00"+db.pkgs.key(i)] = true
	}
	for i := range db.ids.n {
		id := db.ids.key(i)
		qs["get\x00"+id], qs["aliases\x00"+id], qs["related\x00"+id], qs["threat\x00"+id] = true, true, true, true
	}
	for i := range db.threat.n {
		qs["threat\x00"+db.threat.key(i)] = true
	}
	for i := range db.metrics.n {
		qs["metrics\x00"+db.metrics.key(i)] = true
	}
	return qs
}

// answer asks db one question; only Lookup and Get can fail.
func answer(db *DB, q string) (any, error) {
	ctx := context.Background()
	kind, arg, _ := strings.Cut(q, "\x00")
	switch kind {
	case "meta":
		return db.Metadata(), nil
	case "lookup":
		eco, name, _ := strings.Cut(arg, "\x00")
		vs, err := db.Lookup(ctx, eco, name)
		return ids(vs), err
	case "get":
		v, ok, err := db.Get(ctx, arg)
		return []any{v, ok}, err
	case "aliases":
		return db.Aliases(arg), nil
	case "related":
		return db.Related(arg), nil
	case "metrics":
		m, ok := db.Metrics(ctx, arg)
		return []any{m, ok}, nil
	default:
		th, ok := db.Threat(ctx, arg)
		return []any{th, ok}, nil
	}
}

// openBytes opens a database held in memory with the checks Open makes
// when no verified marker vouches for the file (no file I/O, so the
// fuzzers run fast).
func openBytes(b []byte) (*DB, error) {
	return openChecked("fuzz", b, func() error { return nil }, func(h *header) (bool, error) {
		return false, verifySections(context.Background(), bytes.NewReader(b), h, openCheckedKinds(h))
	})
}

// FuzzFlippedDB flips one byte anywhere in a real database. Open must fail
// with ErrCorrupt, or every question must get the pristine answer or an
// ErrCorrupt error: a damaged file never answers "fewer advisories".
func FuzzFlippedDB(f *testing.F) {
	file, h, _ := loadFuzzDB(f)
	for _, s := range h.sections {
		for _, off := range []uint64{s.off, s.off + s.len/3, s.off + s.len - 1} {
			f.Add(uint32(off), byte(0x01))
		}
	}
	f.Add(uint32(20), byte(0xff))
	f.Add(uint32(len(file)-1), byte(0x80))
	f.Fuzz(func(t *testing.T, off uint32, mask byte) {
		file, _, want := loadFuzzDB(t)
		if mask == 0 {
			return
		}
		b := append([]byte(nil), file...)
		b[int(off)%len(b)] ^= mask
		db, err := openBytes(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
			return
		}
		defer db.Close()
		for q, w := range want {
			got, err := answer(db, q)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%q: %v, want ErrCorrupt", q, err)
				}
				continue
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Fatalf("%q answered differently without an error (-pristine +flipped):\n%s", q, diff)
			}
		}
	})
}

// withSection lays file out again with the content of the section of the
// given kind replaced, and every size and checksum made valid, so the
// fuzzer reaches the section decoders behind them.
func withSection(file []byte, h *header, kind uint32, content []byte) []byte {
	out := append([]byte(nil), file[:headerSize]...)
	nh := header{}
	for _, s := range h.sections {
		b := file[s.off : s.off+s.len]
		if s.kind == kind {
			b = content
		}
		nh.sections = append(nh.sections, section{kind: s.kind, crc: crc32.Checksum(b, castagnoli), off: uint64(len(out)), len: uint64(len(b))})
		out = append(out, b...)
	}
	nh.fileSize = uint64(len(out))
	copy(out, nh.marshal())
	return out
}

// FuzzResealedDB decodes arbitrary contents of one section behind valid
// checksums: Open and every question must return an error or an answer,
// never panic or hang, and every error about the content is ErrCorrupt.
func FuzzResealedDB(f *testing.F) {
	file, h, _ := loadFuzzDB(f)
	for _, s := range h.sections {
		if s.kind != secRecords { // records: FuzzDecodeVuln and FuzzFlippedDB
			f.Add(uint8(s.kind), file[s.off:s.off+s.len])
		}
	}
	f.Add(uint8(secPkgs), []byte{1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, kind uint8, content []byte) {
		file, h, _ := loadFuzzDB(t)
		b := withSection(file, h, uint32(kind), content)
		db, err := openBytes(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
			return
		}
		defer db.Close()
		db.Ecosystems()
		for q := range questions(db) {
			if _, err := answer(db, q); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%q: %v, want ErrCorrupt", q, err)
			}
		}
	})
}
