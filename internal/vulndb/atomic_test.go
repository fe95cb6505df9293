package vulndb

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/runlens/runlens/internal/vulndb/scaletest"
)

// The test binary re-executes itself as a helper import process.
const helperEnv = "VULNDB_TEST_HELPER_IMPORT"

func TestMain(m *testing.M) {
	if args := os.Getenv(helperEnv); args != "" {
		dir, rest, _ := strings.Cut(args, "|")
		var srcs []Source
		for _, s := range strings.Split(rest, "|") {
			if strings.HasPrefix(s, "http") {
				srcs = append(srcs, OSVExport(s, "npm"))
			} else {
				srcs = append(srcs, OSVDir(s))
			}
		}
		im := &Importer{Force: true}
		if _, err := im.Import(context.Background(), dir, srcs...); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestReaderSurvivesSwap(t *testing.T) {
	dir := t.TempDir()
	importTestdata(t, dir)
	old := openDB(t, dir)
	before := snapshot(t, old)

	im := fixedImporter()
	im.Force = true
	if _, err := im.Import(context.Background(), dir, OSVDir(filepath.Join(osvDir, "npm"))); err != nil {
		t.Fatal(err)
	}
	// The old handle still sees the whole old database...
	if diff := cmp.Diff(before, snapshot(t, old)); diff != "" {
		t.Errorf("reader saw the swap (-before +after):\n%s", diff)
	}
	if err := old.Verify(context.Background()); err != nil {
		t.Errorf("old mapping no longer verifies: %v", err)
	}
	// ...and a new Open sees only the new one.
	if got := openDB(t, dir).Metadata().Advisories; got != 17 {
		t.Errorf("new DB has %d advisories, want 17", got)
	}
}

// TestKilledImportKeepsOldDB SIGKILLs an import that is mid-way through
// writing its temp file: the old database must still open and answer, and
// the next import must clean up and succeed.
func TestKilledImportKeepsOldDB(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a scale set")
	}
	dir := t.TempDir()
	old := importTestdata(t, dir)

	gen := t.TempDir()
	if _, err := scaletest.Generate(context.Background(), gen, scaletest.Options{Templates: osvDir, Advisories: 12000, EPSSRows: 10, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	// After the big local source, the helper asks this server, which
	// never answers: the process is then stuck with a half-written file.
	asked := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir+"|"+filepath.Join(gen, "osv")+"|"+srv.URL)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("helper import never reached the HTTP source")
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	var written int64
	for _, p := range tmps {
		if st, err := os.Stat(p); err == nil {
			written += st.Size()
		}
	}
	if written == 0 {
		t.Fatalf("helper has written nothing yet (%v): the test would not prove anything", tmps)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	db := openDB(t, dir)
	if got := db.Metadata(); got.Advisories != old.Advisories || !got.BuiltAt.Equal(old.BuiltAt) {
		t.Fatalf("after the kill the DB has %d advisories built %v; want the old %d", got.Advisories, got.BuiltAt, old.Advisories)
	}
	if vs, err := db.Lookup(context.Background(), "npm", "axios"); err != nil || len(vs) != 2 {
		t.Fatalf("old DB lookup after the kill = %d, %v", len(vs), err)
	}
	// The kernel dropped the dead updater's lock; the next import cleans up.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := fixedImporter().Import(ctx, dir, OSVDir(osvDir)); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(left) != 0 {
		t.Errorf("temp files survive the next import: %v", left)
	}
}

func TestCorruptDB(t *testing.T) {
	ref := t.TempDir()
	importTestdata(t, ref)
	good, err := os.ReadFile(filepath.Join(ref, FileName))
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(good, int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	sec := func(kind uint32) section { s, _ := h.find(kind); return s }
	flip := func(off uint64) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x55; return b }
	}
	tests := []struct {
		name   string
		mangle func([]byte) []byte
		// atOpen: Open fails; otherwise Open succeeds and Verify (and a
		// lookup of the damaged record) fail.
		atOpen  bool
		wantMsg string
	}{
		{"truncated by half", func(b []byte) []byte { return b[:len(b)/2] }, true, "truncated"},
		{"truncated by one byte", func(b []byte) []byte { return b[:len(b)-1] }, true, "truncated"},
		{"only the header", func(b []byte) []byte { return b[:headerSize] }, true, "truncated"},
		{"shorter than the header", func(b []byte) []byte { return b[:100] }, true, "shorter than the header"},
		{"empty file", func(b []byte) []byte { return nil }, true, "shorter than the header"},
		{"not a DB", func(b []byte) []byte { return []byte(strings.Repeat("garbage!", 100)) }, true, "bad magic"},
		{"header bit flip", flip(20), true, "header checksum"},
		{"metadata bit flip", flip(sec(secMeta).off + 5), true, "checksum mismatch"},
		{"table sizes", flip(sec(secPkgs).off + 1), true, "section 4 (package index) checksum mismatch"},
		// Every index is checksummed at Open (TestOpenChecksEverySection
		// flips each one); records are checked by Verify and on each read.
		{"package index bit flip", flip(sec(secPkgs).off + sec(secPkgs).len/2), true, "section 4 (package index) checksum mismatch"},
		{"alias index bit flip", flip(sec(secAliases).off + 10), true, "section 5 (alias index) checksum mismatch"},
		{"record body bit flip", flip(sec(secRecords).off + 40), false, "section 1 (records) checksum mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b := tc.mangle(append([]byte(nil), good...))
			if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o644); err != nil {
				t.Fatal(err)
			}
			db, err := Open(context.Background(), dir)
			if tc.atOpen {
				if err == nil {
					db.Close()
					t.Fatal("Open succeeded on a damaged file")
				}
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.wantMsg) || !strings.Contains(err.Error(), "runlens db") {
					t.Fatalf("Open error %q: want ErrCorrupt mentioning %q and how to rebuild", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Verify(context.Background()); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Verify = %v, want ErrCorrupt %q", err, tc.wantMsg)
			}
			if !strings.Contains(tc.name, "record") {
				return
			}
			// The first record in the file is damaged: reading it must fail
			// loudly, never come back as "no vulnerabilities".
			failed := 0
			for i := range db.ids.n {
				if _, err := db.record(i); err != nil {
					if !errors.Is(err, ErrCorrupt) {
						t.Errorf("record %d: %v, want ErrCorrupt", i, err)
					}
					failed++
				}
			}
			if failed == 0 {
				t.Error("no record read failed after a body bit flip")
			}
		})
	}
}

// TestParallelUpdatersAndReaders runs two importers and five readers at
// once: the importers serialize on the lock and every read sees a whole DB.
func TestParallelUpdatersAndReaders(t *testing.T) {
	dir := t.TempDir()
	full := importTestdata(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 3 {
				im := fixedImporter()
				im.Force = true
				srcs := []Source{OSVDir(osvDir), EPSS(epssFile), KEV(kevFile)}
				if (i+j)%2 == 1 {
					srcs = []Source{OSVDir(filepath.Join(osvDir, "go")), OSVDir(filepath.Join(osvDir, "npm"))}
				}
				if _, err := im.Import(ctx, dir, srcs...); err != nil {
					errs <- err
				}
			}
		}()
	}
	var readers sync.WaitGroup
	for range 5 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				db, err := Open(ctx, dir)
				if err != nil {
					errs <- err
					return
				}
				n := db.Metadata().Advisories
				vs, err := db.Lookup(ctx, "npm", "axios")
				if err != nil || len(vs) != 2 || (n != full.Advisories && n != 322) {
					errs <- errors.New("reader saw a partial database")
				}
				db.Close()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
