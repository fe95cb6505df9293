// Package layerfstest holds conformance checks shared by every
// layerfs.RootFS implementation (Flatten and Dir): the same fixture is built
// as a tar layer and as a host directory, and Run checks fs behaviour and
// confinement against a sentinel file placed outside the root.
package layerfstest

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/runlens/runlens/internal/layerfs"
)

// Entry is one fixture path. Exactly one of the kinds applies: a directory
// (Mode has fs.ModeDir), a symlink (Mode has fs.ModeSymlink, Link is the
// target), a hardlink (Hardlink names an earlier entry) or a regular file
// with Body.
type Entry struct {
	Name     string
	Mode     fs.FileMode
	Body     string
	Link     string
	Hardlink string
}

// ModTime is the modification time given to tar entries.
var ModTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Tar encodes entries, in order, as an uncompressed tar stream.
func Tar(t testing.TB, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: int64(e.Mode.Perm()), ModTime: ModTime, Format: tar.FormatPAX}
		switch {
		case e.Mode.IsDir():
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		case e.Mode&fs.ModeSymlink != 0:
			h.Typeflag = tar.TypeSymlink
			h.Linkname = e.Link
		case e.Hardlink != "":
			h.Typeflag = tar.TypeLink
			h.Linkname = e.Hardlink
		default:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %q: %v", e.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.Body); err != nil {
				t.Fatalf("tar body %q: %v", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WriteDir creates entries under root on the host.
func WriteDir(t testing.TB, root string, entries []Entry) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(root, filepath.FromSlash(e.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case e.Mode.IsDir():
			err = os.MkdirAll(p, 0o755)
			if err == nil {
				err = os.Chmod(p, e.Mode.Perm())
			}
		case e.Mode&fs.ModeSymlink != 0:
			err = os.Symlink(e.Link, p)
		case e.Hardlink != "":
			err = os.Link(filepath.Join(root, filepath.FromSlash(e.Hardlink)), p)
		default:
			err = os.WriteFile(p, []byte(e.Body), 0o600)
			if err == nil {
				err = os.Chmod(p, e.Mode.Perm())
			}
		}
		if err != nil {
			t.Fatalf("write %s: %v", e.Name, err)
		}
	}
}

// Sentinel is a host file outside the root whose contents must never be
// read through a RootFS.
type Sentinel struct {
	Path string // absolute host path
	Body string
}

// NewSentinel writes a sentinel file into dir (which must not be inside
// the root under test).
func NewSentinel(t testing.TB, dir string) Sentinel {
	t.Helper()
	s := Sentinel{Path: filepath.Join(dir, "sentinel-secret"), Body: fmt.Sprintf("SENTINEL-%d", time.Now().UnixNano())}
	if err := os.WriteFile(s.Path, []byte(s.Body), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// big is a file large enough to need several reads.
var big = strings.Repeat("0123456789abcdef", 8192)

// Fixture returns the conformance tree. Everything under "good/" is
// well-formed (fstest.TestFS runs on it); "evil/" holds symlinks that try
// to reach s on the host or loop.
func Fixture(s Sentinel) []Entry {
	hostRel := strings.TrimPrefix(filepath.ToSlash(s.Path), "/")
	dir := fs.ModeDir | 0o755
	link := fs.ModeSymlink | 0o777
	return []Entry{
		{Name: "good", Mode: dir},
		{Name: "good/etc", Mode: dir},
		{Name: "good/etc/os-release", Mode: 0o644, Body: "ID=debian\nVERSION_ID=12\n"},
		{Name: "good/etc/passwd", Mode: 0o644, Body: "root:x:0:0:root:/root:/bin/sh\n"},
		{Name: "good/etc/passwd-hard", Hardlink: "good/etc/passwd"},
		{Name: "good/usr", Mode: dir},
		{Name: "good/usr/lib", Mode: dir},
		{Name: "good/usr/lib/libfoo.so.1", Mode: 0o755, Body: "\x7fELF libfoo"},
		{Name: "good/usr/lib/libfoo.so", Mode: link, Link: "libfoo.so.1"},
		{Name: "good/usr/bin", Mode: dir},
		{Name: "good/usr/bin/tool", Mode: link, Link: "/good/usr/lib/libfoo.so.1"},
		{Name: "good/usr/bin/up", Mode: link, Link: "../../../../../../../good/etc/passwd"},
		{Name: "good/lib", Mode: link, Link: "usr/lib"},
		{Name: "good/empty", Mode: dir},
		{Name: "good/big", Mode: 0o644, Body: big},
		{Name: "good/deep/a/b/c", Mode: dir},
		{Name: "good/deep/a/b/c/file", Mode: 0o600, Body: "deep"},
		{Name: "evil", Mode: dir},
		{Name: "evil/abs", Mode: link, Link: s.Path},
		{Name: "evil/root", Mode: link, Link: "/"},
		{Name: "evil/up", Mode: link, Link: strings.Repeat("../", 40)},
		{Name: "evil/updir", Mode: link, Link: "../../../../" + path.Dir(hostRel)},
		{Name: "evil/dotdot", Mode: link, Link: "../" + strings.Repeat("x/../../", 20) + hostRel},
		{Name: "evil/etc", Mode: link, Link: "/etc"},
		{Name: "evil/loop1", Mode: link, Link: "loop2"},
		{Name: "evil/loop2", Mode: link, Link: "loop1"},
		{Name: "evil/self", Mode: link, Link: "self/x"},
		{Name: "evil/dangling", Mode: link, Link: "/does/not/exist"},
	}
}

// Run checks fsys, built from Fixture(s), for fs conformance and
// confinement.
func Run(t *testing.T, fsys layerfs.RootFS, s Sentinel) {
	t.Helper()
	hostRel := strings.TrimPrefix(filepath.ToSlash(s.Path), "/")

	t.Run("fstest", func(t *testing.T) {
		sub, err := fs.Sub(fsys, "good")
		if err != nil {
			t.Fatal(err)
		}
		if err := fstest.TestFS(sub, "etc/os-release", "etc/passwd", "etc/passwd-hard", "usr/lib/libfoo.so.1",
			"usr/lib/libfoo.so", "usr/bin/tool", "lib", "empty", "big", "deep/a/b/c/file"); err != nil {
			t.Error(err)
		}
	})

	t.Run("contents", func(t *testing.T) {
		for name, want := range map[string]string{
			"good/etc/os-release":          "ID=debian\nVERSION_ID=12\n",
			"good/etc/passwd-hard":         "root:x:0:0:root:/root:/bin/sh\n",
			"good/lib/libfoo.so":           "\x7fELF libfoo",
			"good/usr/bin/tool":            "\x7fELF libfoo",
			"good/usr/bin/up":              "root:x:0:0:root:/root:/bin/sh\n",
			"evil/root/good/big":           big,
			"evil/up/good/deep/a/b/c/file": "deep",
		} {
			got, err := fs.ReadFile(fsys, name)
			if err != nil || string(got) != want {
				t.Errorf("ReadFile(%q) = %.40q, %v; want %.40q", name, got, err, want)
			}
		}
	})

	t.Run("readerat", func(t *testing.T) {
		f, err := fsys.Open("good/big")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ra, ok := f.(io.ReaderAt)
		if !ok {
			t.Fatal("opened file is not an io.ReaderAt")
		}
		p := make([]byte, 16)
		for _, off := range []int64{0, 17, 65536, int64(len(big)) - 16} {
			if _, err := ra.ReadAt(p, off); err != nil || string(p) != big[off:off+16] {
				t.Errorf("ReadAt(%d) = %q, %v", off, p, err)
			}
		}
		sk, ok := f.(io.Seeker)
		if !ok {
			t.Fatal("opened file is not an io.Seeker")
		}
		if _, err := sk.Seek(-16, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(f); err != nil || string(b) != big[len(big)-16:] {
			t.Errorf("read after Seek = %q, %v", b, err)
		}
	})

	t.Run("links", func(t *testing.T) {
		for name, want := range map[string]string{
			"good/usr/lib/libfoo.so": "libfoo.so.1",
			"good/lib":               "usr/lib",
			"evil/abs":               s.Path,
		} {
			if got, err := fsys.ReadLink(name); err != nil || got != want {
				t.Errorf("ReadLink(%q) = %q, %v; want %q", name, got, err, want)
			}
			if fi, err := fsys.Lstat(name); err != nil || fi.Mode().Type() != fs.ModeSymlink {
				t.Errorf("Lstat(%q) = %v, %v; want a symlink", name, fi, err)
			}
		}
		if _, err := fsys.ReadLink("good/etc/passwd"); err == nil {
			t.Error("ReadLink on a regular file succeeded")
		}
		if fi, err := fsys.Stat("good/lib"); err != nil || !fi.IsDir() || fi.Name() != "lib" {
			t.Errorf("Stat(good/lib) = %v, %v; want directory named lib", fi, err)
		}
	})

	t.Run("confinement", func(t *testing.T) {
		for _, name := range []string{
			"evil/abs", "evil/root/" + hostRel, "evil/up/" + hostRel, "evil/updir/" + path.Base(hostRel),
			"evil/dotdot", "evil/etc/passwd", "evil/etc/hostname", "evil/root/etc/passwd",
		} {
			if b, err := fs.ReadFile(fsys, name); err == nil && strings.Contains(string(b), s.Body) {
				t.Errorf("ReadFile(%q) read the host sentinel", name)
			} else if err == nil {
				t.Errorf("ReadFile(%q) = %.40q; want an error (nothing there inside the root)", name, b)
			}
			if _, err := fsys.Stat(name); err == nil {
				t.Errorf("Stat(%q) succeeded; want not found inside the root", name)
			}
		}
		for _, name := range []string{"evil/root", "evil/up"} {
			ents, err := fsys.ReadDir(name)
			if err != nil {
				t.Fatalf("ReadDir(%q): %v", name, err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{"evil", "good"}) {
				t.Errorf("ReadDir(%q) = %v; want the image root [evil good]", name, names)
			}
		}
	})

	t.Run("loops", func(t *testing.T) {
		for _, name := range []string{"evil/loop1", "evil/loop2", "evil/self", "evil/loop1/x"} {
			_, err := fsys.Open(name)
			if !errors.Is(err, layerfs.ErrSymlinkLoop) {
				t.Errorf("Open(%q) = %v; want ErrSymlinkLoop", name, err)
			}
			if _, err := fsys.Stat(name); err == nil {
				t.Errorf("Stat(%q) succeeded", name)
			}
		}
		if _, err := fsys.Lstat("evil/loop1"); err != nil {
			t.Errorf("Lstat(loop) = %v", err)
		}
		if _, err := fsys.Open("evil/dangling"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(dangling) = %v; want ErrNotExist", err)
		}
	})

	t.Run("invalid names", func(t *testing.T) {
		for _, name := range []string{"/etc/passwd", "../x", "good/../good", "good/", "", `good\..\..`} {
			if f, err := fsys.Open(name); err == nil {
				f.Close()
				if name != `good\..\..` {
					t.Errorf("Open(%q) succeeded", name)
				}
			}
		}
	})
}

// Listing returns "path type perm [size]" for every path in fsys, for
// comparing two implementations built from the same fixture.
func Listing(t testing.TB, fsys fs.FS) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", p, fi.Mode())
		if !fi.IsDir() {
			line += fmt.Sprintf(" %d", fi.Size())
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
