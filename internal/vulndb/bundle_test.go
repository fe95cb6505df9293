package vulndb

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
)

// everything answers every question the store can be asked, keyed by the
// question, so two databases can be compared whole.
func everything(t *testing.T, db *DB) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{"meta": db.Metadata(), "ecosystems": db.Ecosystems()}
	for i := 0; i < db.pkgs.n; i++ {
		eco, name, _ := strings.Cut(db.pkgs.key(i), "\x00")
		vs, err := db.Lookup(ctx, eco, name)
		if err != nil {
			t.Fatal(err)
		}
		out["lookup "+eco+" "+name] = vs
	}
	for i := 0; i < db.ids.n; i++ {
		id := db.ids.key(i)
		th, ok := db.Threat(ctx, id)
		out["threat "+id] = []any{th, ok}
		out["aliases "+id] = db.Aliases(id)
		out["related "+id] = db.Related(id)
	}
	return out
}

func exportTo(t *testing.T, dir string) (string, Manifest) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "db.bundle")
	m, err := ExportBundle(context.Background(), dir, file, "runlens test")
	if err != nil {
		t.Fatal(err)
	}
	return file, m
}

func TestBundleRoundTrip(t *testing.T) {
	src := t.TempDir()
	md := importTestdata(t, src)
	file, m := exportTo(t, src)
	if !IsBundle(file) {
		t.Fatal("IsBundle(exported file) = false")
	}
	if IsBundle(epssFile) || IsBundle(kevFile) || IsBundle(filepath.Join(src, FileName)) {
		t.Error("IsBundle true for a non-bundle")
	}
	if diff := cmp.Diff(md, m.Database); diff != "" {
		t.Errorf("manifest database metadata (-import +manifest):\n%s", diff)
	}
	if m.SchemaVersion != SchemaVersion || m.Format != BundleFormat || len(m.Members) != 1 || m.Members[0].Name != FileName {
		t.Errorf("manifest header: %+v", m)
	}
	rm, err := ReadManifest(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, rm); diff != "" {
		t.Errorf("ReadManifest (-export +read):\n%s", diff)
	}

	dst := t.TempDir()
	got, err := (&Importer{}).ImportBundle(context.Background(), dst, file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("ImportBundle manifest (-export +import):\n%s", diff)
	}
	a, b := openDB(t, src), openDB(t, dst)
	want, have := everything(t, a), everything(t, b)
	if len(want) < 1000 {
		t.Fatalf("only %d answers compared", len(want))
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("answers after the round trip (-source +imported):\n%s", diff)
	}
	sa, _ := os.ReadFile(filepath.Join(src, FileName))
	sb, _ := os.ReadFile(filepath.Join(dst, FileName))
	if !bytes.Equal(sa, sb) {
		t.Error("imported database file differs from the exported one")
	}
	if st, err := os.Stat(filepath.Join(dst, FileName)); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("imported file mode: %v %v", st.Mode(), err)
	}
}

// rebundle rewrites a bundle's manifest with edit, keeping the database.
func rebundle(t *testing.T, file string, edit func(*Manifest), extra bool) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var m Manifest
	var db []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if h.Name == ManifestName {
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
		} else {
			db = b
		}
	}
	edit(&m)
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	mj, _ := json.Marshal(m)
	members := []struct {
		name string
		b    []byte
	}{{ManifestName, mj}, {FileName, db}}
	if extra {
		members = append(members, struct {
			name string
			b    []byte
		}{"../../evil", []byte("x")})
	}
	for _, mb := range members {
		tw.WriteHeader(&tar.Header{Name: mb.name, Mode: 0o644, Size: int64(len(mb.b)), Typeflag: tar.TypeReg})
		tw.Write(mb.b)
	}
	tw.Close()
	zw.Close()
	out := filepath.Join(t.TempDir(), "edited.bundle")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBundleRefusedKeepsOldDB(t *testing.T) {
	src := t.TempDir()
	importTestdata(t, src)
	good, _ := exportTo(t, src)
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(b []byte) string {
		p := filepath.Join(t.TempDir(), "bad.bundle")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := bytes.Clone(raw)
	flipped[len(flipped)/2] ^= 0x40
	tests := []struct {
		name string
		file string
		want string // in the error; alternatives separated by "|"
	}{
		{"truncated to half", write(raw[:len(raw)/2]), "truncated"},
		{"truncated by 8 bytes", write(raw[:len(raw)-8]), "corrupt"},
		{"truncated in the manifest", write(raw[:200]), "manifest"},
		// Caught by the zstd layer or, if the damaged block still decodes,
		// by the member's SHA-256; the bundle's exported_at moves the flip.
		{"bit flip", write(flipped), "SHA-256|corrupt"},
		{"empty", write(nil), "bundle"},
		{"wrong checksum", rebundle(t, good, func(m *Manifest) { m.Members[0].SHA256 = strings.Repeat("0", 64) }, false), "SHA-256"},
		{"wrong size", rebundle(t, good, func(m *Manifest) { m.Members[0].Size++ }, false), "bytes in the archive"},
		{"newer schema", rebundle(t, good, func(m *Manifest) { m.SchemaVersion++; m.Database.SchemaVersion++ }, false), "schema version"},
		{"newer bundle version", rebundle(t, good, func(m *Manifest) { m.BundleVersion = 9 }, false), "bundle version 9"},
		{"not a bundle manifest", rebundle(t, good, func(m *Manifest) { m.Format = "tarball" }, false), "format"},
		{"relabelled database", rebundle(t, good, func(m *Manifest) { m.Database.BuiltAt = m.Database.BuiltAt.AddDate(1, 0, 0) }, false), "the manifest says"},
		{"extra member", rebundle(t, good, func(*Manifest) {}, true), "unexpected member"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := t.TempDir()
			old := importTestdata(t, dst)
			before, _ := os.ReadFile(filepath.Join(dst, FileName))
			_, err := (&Importer{}).ImportBundle(context.Background(), dst, tc.file)
			if err == nil {
				t.Fatal("import succeeded")
			}
			if !slices.ContainsFunc(strings.Split(tc.want, "|"), func(w string) bool { return strings.Contains(err.Error(), w) }) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			after, _ := os.ReadFile(filepath.Join(dst, FileName))
			if !bytes.Equal(before, after) {
				t.Error("the database file changed")
			}
			if got := openDB(t, dst).Metadata(); got.Advisories != old.Advisories {
				t.Errorf("old DB now has %d advisories, want %d", got.Advisories, old.Advisories)
			}
			if left, _ := filepath.Glob(filepath.Join(dst, tempPrefix+"*")); len(left) != 0 {
				t.Errorf("temp files left: %v", left)
			}
		})
	}
}

func TestBundleCollapseRefused(t *testing.T) {
	small := t.TempDir()
	if _, err := fixedImporter().Import(context.Background(), small, OSVDir(filepath.Join(osvDir, "npm"))); err != nil {
		t.Fatal(err)
	}
	file, _ := exportTo(t, small)
	dst := t.TempDir()
	importTestdata(t, dst)
	if _, err := (&Importer{}).ImportBundle(context.Background(), dst, file); !errors.Is(err, ErrCollapse) {
		t.Fatalf("err = %v, want ErrCollapse", err)
	}
	if _, err := (&Importer{Force: true}).ImportBundle(context.Background(), dst, file); err != nil {
		t.Fatalf("forced: %v", err)
	}
}

func TestExportRefusesCorruptDB(t *testing.T) {
	dir := t.TempDir()
	importTestdata(t, dir)
	p := filepath.Join(dir, FileName)
	b, _ := os.ReadFile(p)
	b[len(b)/3] ^= 1 // inside the records: Open passes, Verify does not
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.bundle")
	if _, err := ExportBundle(context.Background(), dir, out, "t"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a bundle was written")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*")); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}
