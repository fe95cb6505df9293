package vulndb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/vulndb/vulndbtest"
)

// shortRacyMargin lets a test trust a marker for a file written a moment
// ago: the margin must exceed the filesystem's timestamp granularity
// (jiffies here), and the test sleeps twice the margin after each write.
func shortRacyMargin(t *testing.T) time.Duration {
	t.Helper()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("no file identity: every Open verifies")
	}
	old := racyMargin
	racyMargin = 30 * time.Millisecond
	t.Cleanup(func() { racyMargin = old })
	return 2 * racyMargin
}

func openTrusted(t *testing.T, dir string) bool {
	t.Helper()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.trustedMarker
}

// TestVerifiedMarker: the first Open verifies and writes the marker, the
// next trusts it; an in-place flip afterwards (same inode and size, mtime
// even put back) is still caught, because the marker is bound to ctime too.
func TestVerifiedMarker(t *testing.T) {
	settle := shortRacyMargin(t)
	dir, path, h := damageDB(t)
	time.Sleep(settle)
	if openTrusted(t, dir) {
		t.Fatal("first Open trusted a marker nobody wrote")
	}
	m, ok := readMarker(dir)
	if want := len(h.sections) - 1; !ok || !m.BuiltAt.Equal(builtAt) || len(m.Sections) != want {
		t.Fatalf("marker after the first Open: %+v (ok %v); want one for %d sections (all but records) built %v", m, ok, want, builtAt)
	}
	if !openTrusted(t, dir) {
		t.Fatal("second Open did not trust the marker")
	}

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sp := vulndbtest.KeySpan(t, path, vulndbtest.SectionPkgs, pkgKey("npm", "axios"))
	vulndbtest.FlipByte(t, path, sp.Off+1, 0x04)
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(path); st2.Size() != st.Size() || !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("the flip changed size or mtime: the test would not prove the ctime binding")
	}
	_, err = Open(context.Background(), dir)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "section 4 (package index) checksum mismatch") {
		t.Fatalf("Open after an in-place flip = %v, want the package index checksum mismatch", err)
	}

	// Repaired in place: verified again (the marker is stale), then trusted.
	vulndbtest.FlipByte(t, path, sp.Off+1, 0x04)
	time.Sleep(settle)
	if openTrusted(t, dir) {
		t.Error("Open trusted the marker of the file before the repair")
	}
	if !openTrusted(t, dir) {
		t.Error("Open after re-verification did not trust the new marker")
	}
}

// TestMarkerBoundToTheFile: a marker of another generation, of a copy of
// the same bytes (another inode), or a damaged marker is never trusted;
// and a file changed within racyMargin gets no marker at all.
func TestMarkerBoundToTheFile(t *testing.T) {
	settle := shortRacyMargin(t)
	dir, path, _ := damageDB(t)
	time.Sleep(settle)
	openTrusted(t, dir)
	if !openTrusted(t, dir) {
		t.Fatal("marker not trusted")
	}

	// The same bytes in a new inode, renamed over the file: verified again.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "copy")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settle)
	if openTrusted(t, dir) {
		t.Error("marker of the old inode trusted for a new one")
	}

	// A new generation (import) gets a new inode and header.
	im := fixedImporter()
	im.Force = true
	im.Now = func() time.Time { return builtAt.Add(time.Hour) }
	if _, err := im.Import(context.Background(), dir, OSVDir(filepath.Join(osvDir, "npm"))); err != nil {
		t.Fatal(err)
	}
	if openTrusted(t, dir) {
		t.Error("marker of the previous generation trusted")
	}

	// Damaged markers are ignored, never an error.
	time.Sleep(settle)
	for _, junk := range []string{"", "{", `{"version":1}`, strings.Repeat("x", maxMarkerBytes+10)} {
		if err := os.WriteFile(filepath.Join(dir, markerName), []byte(junk), 0o644); err != nil {
			t.Fatal(err)
		}
		if openTrusted(t, dir) {
			t.Errorf("marker %.20q trusted", junk)
		}
	}

	// Racy: with the real margin a file changed just now gets no marker.
	racyMargin = time.Hour
	os.Remove(filepath.Join(dir, markerName))
	openTrusted(t, dir)
	if _, ok := readMarker(dir); ok {
		t.Error("marker written for a file changed within the racy margin")
	}
}

// TestUnwritableMarkerVerifiesEveryOpen: when the marker cannot be written
// (here a directory squats its name, as a read-only DB directory would
// refuse it even to root), every Open checksums the indexes and still
// works, and leaves no temp file behind.
func TestUnwritableMarkerVerifiesEveryOpen(t *testing.T) {
	settle := shortRacyMargin(t)
	dir, _, _ := damageDB(t)
	time.Sleep(settle)
	if err := os.Mkdir(filepath.Join(dir, markerName), 0o755); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if openTrusted(t, dir) {
			t.Error("trusted a marker that could not be written")
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(left) != 0 {
		t.Errorf("temp files left behind: %v", left)
	}
}

// TestCheckReportsDamage: Check names every damaged section and, for a
// damaged records section, the unreadable advisories (the first
// MaxUnreadableShown, with the count).
func TestCheckReportsDamage(t *testing.T) {
	ctx := context.Background()
	dir, path, h := damageDB(t)
	in, err := Check(ctx, dir)
	if err != nil || !in.OK() || in.Err() != nil || len(in.Sections) != len(h.sections) {
		t.Fatalf("pristine file: %+v, %v", in, err)
	}

	// A package index flip and three damaged records.
	sp := vulndbtest.KeySpan(t, path, vulndbtest.SectionPkgs, pkgKey("npm", "axios"))
	vulndbtest.FlipByte(t, path, sp.Off, 0x02)
	damaged := []string{"GHSA-8hc4-vh64-cxmj", "GHSA-wf5p-g6vw-rhxx", "DLA-3008-1"}
	for _, id := range damaged {
		r := vulndbtest.RecordSpan(t, path, id)
		vulndbtest.FlipByte(t, path, r.Off+r.Len/2, 0x20)
	}
	in, err = Check(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, s := range in.Sections {
		if !s.OK {
			bad = append(bad, s.Name)
		}
	}
	if fmt.Sprint(bad) != "[records package index]" {
		t.Errorf("damaged sections %v, want records and package index", bad)
	}
	if in.Unreadable != 3 || in.RecordsChecked != len(loadOracle(t).recs) {
		t.Errorf("unreadable %d of %d checked (%v), want 3 of every record", in.Unreadable, in.RecordsChecked, in.UnreadableIDs)
	}
	msg := fmt.Sprint(in.Err())
	for _, want := range append([]string{"section 4 (package index) checksum mismatch", "section 1 (records) checksum mismatch", "3 of "}, damaged...) {
		if !strings.Contains(msg, want) {
			t.Errorf("Check error %q lacks %q", msg, want)
		}
	}
	if !errors.Is(in.Err(), ErrCorrupt) {
		t.Errorf("Check error %v is not ErrCorrupt", in.Err())
	}
	if _, ok := readMarker(dir); ok {
		t.Error("a marker was written for a damaged file")
	}
}

// TestCheckListsAtMostMaxUnreadable damages more records than are listed.
func TestCheckListsAtMostMaxUnreadable(t *testing.T) {
	dir, path, _ := damageDB(t)
	o := loadOracle(t)
	n := 0
	for id := range o.recs {
		if n == MaxUnreadableShown+5 {
			break
		}
		r := vulndbtest.RecordSpan(t, path, id)
		vulndbtest.FlipByte(t, path, r.Off+r.Len-1, 0x01) // the frame checksum
		n++
	}
	in, err := Check(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if in.Unreadable != n || len(in.UnreadableIDs) != MaxUnreadableShown || !strings.Contains(in.Err().Error(), "and 5 more") {
		t.Errorf("unreadable %d, listed %d, error %v; want %d, %d and \"and 5 more\"", in.Unreadable, len(in.UnreadableIDs), in.Err(), n, MaxUnreadableShown)
	}
}

// TestCheckRefusesADamagedHeader: no section can be trusted, Check errors.
func TestCheckRefusesADamagedHeader(t *testing.T) {
	_, path, _ := damageDB(t)
	dir := withFlip(t, path, 30, 0x01)
	if _, err := Check(context.Background(), dir); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "header checksum") {
		t.Errorf("Check of a damaged header = %v", err)
	}
	if _, err := Check(context.Background(), t.TempDir()); !errors.Is(err, ErrNoDB) {
		t.Errorf("Check of an empty directory = %v, want ErrNoDB", err)
	}
}

// TestCheckWritesACompleteMarker: Check verifies everything, records
// included, and its marker lets the next Open skip the checksums.
func TestCheckWritesACompleteMarker(t *testing.T) {
	settle := shortRacyMargin(t)
	dir, _, h := damageDB(t)
	time.Sleep(settle)
	if in, err := Check(context.Background(), dir); err != nil || !in.OK() {
		t.Fatalf("Check = %+v, %v", in, err)
	}
	m, ok := readMarker(dir)
	if !ok || len(m.Sections) != len(h.sections) || m.Sections[0] != "records" {
		t.Fatalf("marker after Check: %+v", m)
	}
	if !openTrusted(t, dir) {
		t.Error("Open did not trust Check's marker")
	}
}
