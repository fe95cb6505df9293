package vulndb

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/runlens/runlens/internal/vulndb/scaletest"
)

// TestBboltCompare loads the same payload as a built database (compressed
// record bodies by id, package key -> record list) into bbolt and measures
// it, for the engine choice written down in docs/vulndb.md. It runs only
// when asked: VULNDB_BBOLT_COMPARE=<db dir>, VULNDB_SCALE_OUT=<scale set dir>.
func TestBboltCompare(t *testing.T) {
	dbDir, out := os.Getenv("VULNDB_BBOLT_COMPARE"), os.Getenv("VULNDB_SCALE_OUT")
	if dbDir == "" || out == "" {
		t.Skip("set VULNDB_BBOLT_COMPARE and VULNDB_SCALE_OUT to run")
	}
	src := openDB(t, dbDir)
	path := filepath.Join(t.TempDir(), "cmp.bolt")
	start := time.Now()
	bdb, err := bolt.Open(path, 0o644, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	// Sorted keys and a full fill factor are bbolt's best case.
	put := func(bucket string, n int, key func(int) string, val func(int) []byte) {
		for lo := 0; lo < n; lo += 20000 {
			err := bdb.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists([]byte(bucket))
				if err != nil {
					return err
				}
				b.FillPercent = 1
				for i := lo; i < min(n, lo+20000); i++ {
					if err := b.Put([]byte(key(i)), val(i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	put("rec", src.ids.n, src.ids.key, func(i int) []byte {
		ref := src.ids.val(i)
		off, n := binary.LittleEndian.Uint64(ref), binary.LittleEndian.Uint32(ref[8:])
		return src.records[off : off+uint64(n)]
	})
	put("pkg", src.pkgs.n, src.pkgs.key, src.pkgs.val)
	put("alias", src.aliases.n, src.aliases.key, src.aliases.val)
	put("threat", src.threat.n, src.threat.key, src.threat.val)
	if err := bdb.Sync(); err != nil {
		t.Fatal(err)
	}
	load := time.Since(start)
	bdb.Close()
	st, _ := os.Stat(path)

	start = time.Now()
	bdb, err = bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	openDur := time.Since(start)
	defer bdb.Close()
	pairs, err := scaletest.ReadLookups(filepath.Join(out, "lookups.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var d []time.Duration
	for _, p := range pairs {
		t0 := time.Now()
		bdb.View(func(tx *bolt.Tx) error {
			refs := tx.Bucket([]byte("pkg")).Get([]byte(pkgKey(p[0], p[1])))
			rb := tx.Bucket([]byte("rec"))
			for j := 0; j+4 <= len(refs); j += 4 {
				id := src.ids.key(int(binary.LittleEndian.Uint32(refs[j:])))
				raw, err := src.dec.DecodeAll(rb.Get([]byte(id)), nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := decodeVuln(string(raw)); err != nil {
					t.Fatal(err)
				}
			}
			return nil
		})
		d = append(d, time.Since(t0))
	}
	slices.Sort(d)
	srcSize, _ := os.Stat(src.Path())
	t.Logf("bbolt: load %v (payload already compressed), file %d MB vs %d MB, open %v, first-lookup median %v",
		load, st.Size()>>20, srcSize.Size()>>20, openDur, d[len(d)/2])

}
