package extract

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rpmdb "github.com/erikvarga/go-rpmdb/pkg"
	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
)

// rpmSqliteRoot is the committed sqlite rpmdb (hack/fixtures/rpmdb.sh:
// tool and tool-libs) with the files it lists, except the README, so that
// the list is seen filtered to what the image holds.
func rpmSqliteRoot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, "testdata/rootfs/rpmsqlite", dir)
	writeFile(t, dir, "etc/os-release", []byte("NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n"), 0o644)
	writeFile(t, dir, "usr/bin/tool", []byte("#!/bin/sh\n"), 0o755)
	writeFile(t, dir, "etc/tool.conf", []byte("k=v\n"), 0o644)
	writeFile(t, dir, "usr/lib64/libtool.so.1", []byte("x\n"), 0o644)
	if err := os.MkdirAll(filepath.Join(dir, "usr/lib/tool"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("tool", filepath.Join(dir, "usr/bin/tool-alias")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func filesByName(inv *inventory.Inventory) map[string][]string {
	out := map[string][]string{}
	for _, p := range inv.Packages {
		if len(p.Files) > 0 {
			out[p.Name] = p.Files
		}
	}
	return out
}

// TestExtractRPMSqlite: a sqlite rpmdb (RHEL 9, Fedora) gives its packages
// and each one's files: regular files and symlinks the image holds, not
// directories (%dir) nor files absent from it.
func TestExtractRPMSqlite(t *testing.T) {
	inv, err := Extract(context.Background(), newDirRoot(t, rpmSqliteRoot(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "rpm-sqlite.json", inv)
	if len(inv.Errors) != 0 {
		t.Errorf("file errors: %+v", inv.Errors)
	}
	want := map[string][]string{
		"tool":      {"/etc/tool.conf", "/usr/bin/tool", "/usr/bin/tool-alias"},
		"tool-libs": {"/usr/lib64/libtool.so.1"},
	}
	if diff := cmp.Diff(want, filesByName(inv)); diff != "" {
		t.Errorf("owned files (-want +got):\n%s", diff)
	}
}

// TestOwnedFileCaps: every owner's list stops at the file-count and the
// name-bytes caps, keeps what came before, and says so in a FileError.
func TestOwnedFileCaps(t *testing.T) {
	dpkgRoot := func(t *testing.T) string {
		dir := t.TempDir()
		writeFile(t, dir, "etc/os-release", []byte("ID=debian\nVERSION_ID=12\n"), 0o644)
		writeFile(t, dir, "var/lib/dpkg/status", []byte("Package: tool\nStatus: install ok installed\nVersion: 1.0-1\n"), 0o644)
		writeFile(t, dir, "var/lib/dpkg/info/tool.list", []byte("/usr/bin/a\n/usr/bin/b\n/usr/bin/c\n"), 0o644)
		for _, f := range []string{"a", "b", "c"} {
			writeFile(t, dir, "usr/bin/"+f, []byte("#!/bin/sh\n"), 0o755)
		}
		return dir
	}
	apkRoot := func(t *testing.T) string {
		dir := t.TempDir()
		writeFile(t, dir, "etc/os-release", []byte("ID=alpine\nVERSION_ID=3.20.3\n"), 0o644)
		writeFile(t, dir, "lib/apk/db/installed", []byte("P:tool\nV:1.0-r0\nA:x86_64\nF:usr/bin\nR:a\nR:b\nR:c\n\n"), 0o644)
		for _, f := range []string{"a", "b", "c"} {
			writeFile(t, dir, "usr/bin/"+f, []byte("#!/bin/sh\n"), 0o755)
		}
		return dir
	}
	owners := []struct {
		name    string
		root    func(t *testing.T) string
		errPath string
		prefix  string // of the FileError's reason
		// inBytes is how many of the package's files fit in 24 bytes of
		// names: two of "/usr/bin/[abc]", one of rpm's (the 23 bytes of
		// tool-libs' one file fit).
		inBytes int
	}{
		{"dpkg", dpkgRoot, "/var/lib/dpkg/info/tool.list", "", 2},
		{"apk", apkRoot, "/lib/apk/db/installed", "package tool: ", 2},
		{"rpm", rpmSqliteRoot, "/var/lib/rpm/rpmdb.sqlite", "package tool-2:1.4.2-3.fx1: ", 1},
	}
	caps := []struct {
		name   string
		files  int
		bytes  int
		reason string
	}{
		{"count", 2, 1 << 20, "more than 2 files; list truncated"},
		{"bytes", 1000, 24, "file names over 24 bytes; list truncated"},
	}
	for _, o := range owners {
		for _, c := range caps {
			t.Run(o.name+"/"+c.name, func(t *testing.T) {
				defer func(f, b int) { maxOwnedFiles, maxOwnedBytes = f, b }(maxOwnedFiles, maxOwnedBytes)
				maxOwnedFiles, maxOwnedBytes = c.files, c.bytes
				inv, err := Extract(context.Background(), newDirRoot(t, o.root(t)), Options{})
				if err != nil {
					t.Fatal(err)
				}
				kept := 2
				if c.name == "bytes" {
					kept = o.inBytes
				}
				if got := len(filesByName(inv)["tool"]); got != kept {
					t.Errorf("kept %d of the 3 files; want %d", got, kept)
				}
				want := []inventory.FileError{{Path: o.errPath, Extractor: "ownership/" + o.name, Reason: o.prefix + c.reason}}
				if diff := cmp.Diff(want, inv.Errors); diff != "" {
					t.Errorf("errors (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestRPMPackageFiles: a header's file list is joined under the database's
// budget, and an inconsistent one is refused with a reason.
func TestRPMPackageFiles(t *testing.T) {
	all := func(string) bool { return true }
	tests := []struct {
		name   string
		info   rpmdb.PackageInfo
		listed int // the budget already spent: entries
		bytes  int // and bytes
		want   []string
		cut    string
	}{
		{
			name: "joined and sorted, long names left out",
			info: rpmdb.PackageInfo{
				DirNames:   []string{"/usr/bin/", "/etc/", "/" + strings.Repeat("d", maxListLine) + "/"},
				BaseNames:  []string{"tool", "tool.conf", "x", "tool"},
				DirIndexes: []int32{0, 1, 2, 0},
			},
			want: []string{"/etc/tool.conf", "/usr/bin/tool"},
		},
		{
			name: "more base names than directory indexes",
			info: rpmdb.PackageInfo{DirNames: []string{"/usr/bin/"}, BaseNames: []string{"a", "b"}, DirIndexes: []int32{0}},
			cut:  "file list inconsistent: 2 base names, 1 directory indexes",
		},
		{
			name: "directory index out of range",
			info: rpmdb.PackageInfo{DirNames: []string{"/usr/bin/"}, BaseNames: []string{"a", "b"}, DirIndexes: []int32{0, 7}},
			want: []string{"/usr/bin/a"},
			cut:  "file list inconsistent: directory index 7 of 1",
		},
		{
			name:   "database budget spent",
			info:   rpmdb.PackageInfo{DirNames: []string{"/usr/bin/"}, BaseNames: []string{"a", "b"}, DirIndexes: []int32{0, 0}},
			listed: maxRPMListed - 1,
			want:   []string{"/usr/bin/a"},
			cut:    "database lists more than 5000000 files; list truncated",
		},
		{
			name:  "database bytes spent",
			info:  rpmdb.PackageInfo{DirNames: []string{"/usr/bin/"}, BaseNames: []string{"a", "b"}, DirIndexes: []int32{0, 0}},
			bytes: maxRPMBytes - len("/usr/bin/a"),
			want:  []string{"/usr/bin/a"},
			cut:   "database names more than 268435456 bytes of files; list truncated",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, cut := rpmPackageFiles(&tc.info, &rpmBudget{listed: tc.listed, bytes: tc.bytes}, all)
			if diff := cmp.Diff(tc.want, files); diff != "" || cut != tc.cut {
				t.Errorf("files (-want +got):\n%s\ncut %q, want %q", diff, cut, tc.cut)
			}
		})
	}
}
