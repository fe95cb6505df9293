package vulndb

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/runlens/runlens/internal/osv"
)

func TestCodecRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(osvDir, "*", "*.json"))
	if len(files) < 300 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want osv.Vulnerability
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		enc, err := encodeVuln(nil, &want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeVuln(string(enc))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if diff := cmp.Diff(&want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", f, diff)
		}
		// Every strict prefix is malformed and must say so, not panic.
		for _, n := range []int{0, 1, len(enc) / 3, len(enc) / 2, len(enc) - 1} {
			if _, err := decodeVuln(string(enc[:n])); err == nil {
				t.Errorf("%s: prefix of %d/%d bytes decoded without error", f, n, len(enc))
			}
		}
	}
}

func TestCodecRejectsDeepValues(t *testing.T) {
	var v any = "leaf"
	for range maxAnyDepth + 2 {
		v = []any{v}
	}
	_, err := encodeVuln(nil, &osv.Vulnerability{ID: "X", DatabaseSpecific: map[string]any{"k": v}})
	if err == nil {
		t.Fatal("encoded a value nested deeper than the cap")
	}
}

// FuzzDecodeVuln feeds arbitrary bytes to the decoder: it must return an
// error or a record, never panic or allocate without bound.
func FuzzDecodeVuln(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(osvDir, "npm", "*.json"))
	for _, p := range files[:3] {
		b, _ := os.ReadFile(p)
		var v osv.Vulnerability
		json.Unmarshal(b, &v)
		enc, _ := encodeVuln(nil, &v)
		f.Add(enc)
	}
	f.Add([]byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeVuln(string(b))
		if err == nil {
			if _, err := encodeVuln(nil, v); err != nil {
				t.Fatalf("decoded record does not re-encode: %v", err)
			}
		}
	})
}

// BenchmarkLookup measures Lookup on the real fixtures: a package with
// advisories decoded from the file (cache evicted each time), the same
// from the record cache, and a package with none.
func BenchmarkLookup(b *testing.B) {
	dir := b.TempDir()
	importTestdata(b, dir)
	db := openDB(b, dir)
	ctx := context.Background()
	o := loadOracle(b)
	var keys [][2]string
	for k := range o.pkgs {
		keys = append(keys, k)
	}
	b.Run("decode", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			k := keys[i%len(keys)]
			if p, ok := db.pkgs.find(pkgKey(k[0], k[1])); ok {
				for _, r := range u32s(db.pkgs.val(p)) {
					db.cache[int(r)%cacheSlots].Store(nil) // force a decode from the file
				}
			}
			if _, err := db.Lookup(ctx, k[0], k[1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			k := keys[i%len(keys)]
			if _, err := db.Lookup(ctx, k[0], k[1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Lookup(ctx, "npm", "no-such-package"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			d, err := Open(ctx, dir)
			if err != nil {
				b.Fatal(err)
			}
			d.Close()
		}
	})
}
