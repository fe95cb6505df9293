package layerfs_test

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
)

// rawTar writes headers as given (names are not cleaned by archive/tar).
func rawTar(t testing.TB, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "body of " + h.Name
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("header %.60q: %v", h.Name, err)
		}
		if body != "" {
			tw.Write([]byte(body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func reg(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeReg} }
func hard(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target}
}
func sym(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}
}

// TestHostileEntries covers hostile entry names and links: every
// hostile entry is refused (or cleaned into the root) and reported, the
// good file beside it survives, nothing from the host is ever read, and
// nothing but the (already unlinked) spool is written to the host.
func TestHostileEntries(t *testing.T) {
	tmp := t.TempDir()
	s := layerfstest.NewSentinel(t, tmp)
	deep := strings.Repeat("a/", 300) + "f"
	tests := []struct {
		name    string
		hdrs    []*tar.Header
		present map[string]string // path -> dump line
		reason  string            // substring of an Issue reason ("" = no issue)
	}{
		{name: "dotdot", hdrs: []*tar.Header{reg("../../x")}, reason: "escapes the root"},
		{name: "inner dotdot", hdrs: []*tar.Header{reg("a/../../x")}, reason: "escapes the root"},
		{name: "backslash dotdot", hdrs: []*tar.Header{reg(`..\x`)}, reason: `..\`},
		{name: "inner backslash dotdot", hdrs: []*tar.Header{reg(`a\..\..\x`)}, reason: `..\`},
		{name: "legit backslash kept", hdrs: []*tar.Header{reg(`dev-disk-by\x2duuid.swap`)},
			present: map[string]string{`dev-disk-by\x2duuid.swap`: `file L <not kept>`}},
		{name: "absolute cleaned into root", hdrs: []*tar.Header{reg("/etc/passwd")},
			present: map[string]string{"etc": "dir L", "etc/passwd": "file L <not kept>"}, reason: "absolute"},
		{name: "long component", hdrs: []*tar.Header{reg(strings.Repeat("n", 256))}, reason: "255"},
		{name: "path over 4 KB", hdrs: []*tar.Header{reg(strings.Repeat("abcdefg/", 512) + "x")}, reason: "MaxPathLen"},
		{name: "300 deep", hdrs: []*tar.Header{reg(deep)}, reason: "MaxDepth"},
		{name: "hardlink out of root", hdrs: []*tar.Header{hard("h", "../../etc/shadow")}, reason: "escapes the root"},
		{name: "hardlink to host sentinel", hdrs: []*tar.Header{hard("h", s.Path)}, reason: "hardlink skipped"},
		{name: "hardlink through symlink to host", hdrs: []*tar.Header{
			sym("esc", filepath.Dir(s.Path)), hard("h", "esc/"+filepath.Base(s.Path))},
			present: map[string]string{"esc": "link L -> " + filepath.Dir(s.Path)}, reason: "hardlink skipped"},
		{name: "hardlink to directory", hdrs: []*tar.Header{{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}, hard("h", "d")},
			present: map[string]string{"d": "dir L"}, reason: "directory"},
		{name: "symlink then write through it", hdrs: []*tar.Header{sym("a", "/etc"), reg("a/pwn")},
			present: map[string]string{"a": "link L -> /etc", "etc": "dir L", "etc/pwn": "file L <not kept>"}},
		{name: "symlink dotdot then write through it", hdrs: []*tar.Header{sym("up", "../../../.."), reg("up/tmp/pwn")},
			present: map[string]string{"up": "link L -> ../../../..", "tmp": "dir L", "tmp/pwn": "file L <not kept>"}},
		{name: "write through a symlink loop", hdrs: []*tar.Header{sym("l1", "l2"), sym("l2", "l1"), reg("l1/x")},
			present: map[string]string{"l1": "link L -> l2", "l2": "link L -> l1"}, reason: "too many levels"},
		{name: "file below a file", hdrs: []*tar.Header{reg("f"), reg("f/x")},
			present: map[string]string{"f": "file L <not kept>"}, reason: "not a directory"},
		{name: "unsupported type", hdrs: []*tar.Header{{Name: "v", Typeflag: 'V'}}, reason: "unsupported"},
		{name: "empty whiteout", hdrs: []*tar.Header{reg(".wh.")}, reason: "invalid whiteout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spool := t.TempDir()
			hdrs := append(tc.hdrs, reg("good"))
			opts := layerfs.Options{TempDir: spool, Want: func(p string, _ fs.FileInfo) bool { return p == "good" }}
			fsys := mustFlatten(t, opts, memLayer("L", rawTar(t, hdrs...)))

			want := map[string]string{"good": "file L body of good"}
			for k, v := range tc.present {
				want[k] = v
			}
			got := dump(t, fsys)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("view (-want +got):\n%s", diff)
			}
			for p, line := range got {
				if strings.Contains(line, s.Body) {
					t.Errorf("%s exposes the host sentinel", p)
				}
			}
			var reasons []string
			for _, is := range fsys.Issues() {
				reasons = append(reasons, is.Reason)
			}
			if tc.reason != "" && !strings.Contains(strings.Join(reasons, "\n"), tc.reason) {
				t.Errorf("issues %q; want one containing %q", reasons, tc.reason)
			}
			if tc.reason == "" && len(reasons) > 0 {
				t.Errorf("unexpected issues %q", reasons)
			}
			if ents, _ := os.ReadDir(spool); len(ents) != 0 {
				t.Errorf("files left in TempDir: %v", ents)
			}
			if _, err := os.Stat("/etc/pwn"); err == nil {
				t.Fatal("/etc/pwn was created on the host")
			}
		})
	}
}

// TestHardlinkSharesKeptContents: a hardlink reads the kept contents of its
// target (same spool bytes), and a wanted link to an unwanted target is
// reported instead of silently failing later.
func TestHardlinkSharesKeptContents(t *testing.T) {
	want := func(p string, _ fs.FileInfo) bool {
		return p == "usr/bin/python3.11" || p == "usr/bin/python3" || p == "link-to-unwanted"
	}
	fsys := mustFlatten(t, layerfs.Options{Want: want}, tarLayer(t, "L",
		F("usr/bin/python3.11", "ELF python"),
		H("usr/bin/python3", "usr/bin/python3.11"),
		H("usr/bin/py-alias", "usr/bin/python3.11"),
		F("unwanted", "u"),
		H("link-to-unwanted", "unwanted"),
	))
	got := dump(t, fsys)
	wantDump := map[string]string{
		"usr": "dir L", "usr/bin": "dir L",
		"usr/bin/python3.11": "file L ELF python",
		"usr/bin/python3":    "file L ELF python",
		"usr/bin/py-alias":   "file L ELF python", // not wanted, but shares kept bytes for free
		"unwanted":           "file L <not kept>",
		"link-to-unwanted":   "file L <not kept>",
	}
	if diff := cmp.Diff(wantDump, got); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
	if is := fsys.Issues(); len(is) != 1 || is[0].Path != "link-to-unwanted" {
		t.Errorf("issues = %+v; want one for link-to-unwanted", is)
	}
}
