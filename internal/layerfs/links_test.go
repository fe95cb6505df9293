package layerfs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
)

// wantStatus wants only what a dpkg extractor would.
func wantStatus(p string, _ fs.FileInfo) bool { return p == "var/lib/dpkg/status" }

// TestFilesWantedThroughSymlinksAreKept: a file wanted only under a name
// through a symlink (a directory symlink, relative or absolute, or a file
// symlink) has its contents kept, whichever layer wrote the link or the
// file and in whatever order, by reading the file's layer once more; a
// link pointing outside the root resolves inside it and reads nothing.
func TestFilesWantedThroughSymlinksAreKept(t *testing.T) {
	s := layerfstest.NewSentinel(t, t.TempDir())
	status := F("opt/dpkg/status", "Package: x\n")
	tests := []struct {
		name   string
		layers [][]layerfstest.Entry
		want   string // contents of var/lib/dpkg/status; "" = not there
		opens  []int32
	}{
		{"relative directory link, then the file", [][]layerfstest.Entry{{D("var"), D("var/lib"), L("var/lib/dpkg", "../../opt/dpkg"), status}}, "Package: x\n", []int32{2}},
		{"the file, then an absolute directory link", [][]layerfstest.Entry{{status, D("var"), D("var/lib"), L("var/lib/dpkg", "/opt/dpkg")}}, "Package: x\n", []int32{2}},
		{"file link to an absolute path", [][]layerfstest.Entry{{F("opt/status", "Package: y\n"), D("var/lib/dpkg"), L("var/lib/dpkg/status", "/opt/status")}}, "Package: y\n", []int32{2}},
		{"link in the base, file on top", [][]layerfstest.Entry{{L("var/lib/dpkg", "../../opt/dpkg")}, {status}}, "Package: x\n", []int32{1, 2}},
		{"file in the base, link on top", [][]layerfstest.Entry{{status}, {L("var/lib/dpkg", "../../opt/dpkg")}}, "Package: x\n", []int32{2, 1}},
		{"written through the link", [][]layerfstest.Entry{{L("var/lib/dpkg", "../../opt/dpkg")}, {F("var/lib/dpkg/status", "Package: z\n")}}, "Package: z\n", []int32{1, 1}},
		{"link out of the root", [][]layerfstest.Entry{{D("var/lib/dpkg"), L("var/lib/dpkg/status", s.Path)}}, "", []int32{1}},
		{"dotdot link out of the root", [][]layerfstest.Entry{{D("var/lib"), L("var/lib/dpkg", "../../../../../../"+filepath.Dir(s.Path))}}, "", []int32{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var layers []layerfs.Layer
			var counts []*atomic.Int32
			for _, es := range tc.layers {
				cl := realLayer(t, es...)
				layers = append(layers, cl.Layer)
				counts = append(counts, cl.opens)
			}
			fsys := mustFlatten(t, layerfs.Options{Want: wantStatus}, layers...)
			b, err := fs.ReadFile(fsys, "var/lib/dpkg/status")
			if tc.want != "" && (err != nil || string(b) != tc.want) {
				t.Errorf("var/lib/dpkg/status = %q, %v; want %q", b, err, tc.want)
			}
			if tc.want == "" && err == nil {
				t.Errorf("var/lib/dpkg/status = %q; want nothing (the link leaves the root)", b)
			}
			var got []int32
			for _, c := range counts {
				got = append(got, c.Load())
			}
			if !cmp.Equal(got, tc.opens) {
				t.Errorf("layer opens %v; want %v (only the file's layer read again)", got, tc.opens)
			}
			for _, is := range fsys.Issues() {
				t.Errorf("unexpected issue %+v", is)
			}
		})
	}
}

// TestAliases lists files wanted only through a symlink, and wanted paths
// that are not regular files; merged-/usr style links whose targets are
// wanted under their own names add nothing.
func TestAliases(t *testing.T) {
	want := func(p string, _ fs.FileInfo) bool {
		switch p {
		case "var/lib/dpkg/status", "lib/apk/db/installed", "usr/lib/x.so", "lib/x.so", "etc/os-release", "usr/lib/os-release":
			return true
		}
		return false
	}
	fsys := mustFlatten(t, layerfs.Options{}, realLayer(t,
		D("usr/lib"), F("usr/lib/x.so", "elf"), L("lib", "usr/lib"), F("usr/lib/os-release", "ID=x"), L("etc/os-release", "../usr/lib/os-release"),
		L("var/lib/dpkg", "/opt/dpkg"), F("opt/dpkg/status", "s"), L("loop", "."), L("up/a", ".."),
	).Layer)
	got, err := layerfs.Aliases(context.Background(), fsys, want)
	if err != nil {
		t.Fatal(err)
	}
	wantAliases := []layerfs.Alias{{Path: "var/lib/dpkg/status", Target: "opt/dpkg/status", Mode: 0o644}}
	if diff := cmp.Diff(wantAliases, got); diff != "" {
		t.Errorf("Aliases (-want +got):\n%s", diff)
	}
}

// TestFilesWantedThroughSymlinksNotKept: a file wanted through a symlink
// that reading again cannot keep (over a cap, or its layer's stream now
// failing its check) is not kept, and says so.
func TestFilesWantedThroughSymlinksNotKept(t *testing.T) {
	entries := []layerfstest.Entry{D("var/lib"), L("var/lib/dpkg", "../../opt/dpkg"), F("opt/dpkg/status", "Package: x\n")}
	good := layerfstest.Tar(t, entries)
	flaky := realLayer(t, entries...)
	flaky.Open = func(context.Context) (io.ReadCloser, error) {
		if flaky.opens.Add(1) == 1 {
			return io.NopCloser(bytes.NewReader(good)), nil
		}
		return io.NopCloser(io.MultiReader(bytes.NewReader(good), iotest.ErrReader(errors.New("digest mismatch")))), nil
	}
	for _, tc := range []struct {
		name   string
		layer  layerfs.Layer
		limits layerfs.Limits
		reason string
	}{
		{"over MaxFileBytes", realLayer(t, entries...).Layer, layerfs.Limits{MaxFileBytes: 4}, "MaxFileBytes"},
		{"stream fails when read again", flaky.Layer, layerfs.Limits{}, "digest mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, _ := flatten(t, layerfs.Options{Want: wantStatus, Limits: tc.limits}, tc.layer)
			if fsys == nil {
				t.Fatal("no view")
			}
			if _, err := fs.ReadFile(fsys, "var/lib/dpkg/status"); !errors.Is(err, layerfs.ErrNotKept) {
				t.Errorf("ReadFile = %v; want ErrNotKept", err)
			}
			if !hasIssue(fsys, tc.reason) || !hasIssue(fsys, "wanted through a symlink") {
				t.Errorf("issues %+v; want %q and the symlink", fsys.Issues(), tc.reason)
			}
		})
	}
}
