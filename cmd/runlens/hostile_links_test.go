package main

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"

	"github.com/runlens/runlens/internal/result"
)

// writeRootfs creates entries (files, directories and symlinks, as in an
// image layer) under a new directory and returns it.
func writeRootfs(t *testing.T, entries ...tarFile) string {
	t.Helper()
	dir := t.TempDir()
	for _, e := range entries {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch e.typ {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(e.link, p)
		default:
			err = os.WriteFile(p, []byte(e.body), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPackageFilesBehindSymlinks: a dpkg status or package.json reached
// through a symlink inside the image (directory or file link, relative or
// absolute, resolved inside the image root) is found and its findings
// reported, from an archive and from a root filesystem; a link leading
// out of the root never reads the host.
func TestPackageFilesBehindSymlinks(t *testing.T) {
	host := t.TempDir() // outside every root: must never be read
	os.MkdirAll(filepath.Join(host, "dpkg"), 0o755)
	os.WriteFile(filepath.Join(host, "dpkg", "status"), []byte(opensslStatus), 0o644)
	tests := []struct {
		name    string
		entries []tarFile
		pkg     string // package that must be found ("" = openssl must not be)
		at      string // its location
	}{
		{"relative directory link", []tarFile{directory("var/lib"), symlink("var/lib/dpkg", "../../opt/dpkg"), file("opt/dpkg/status", opensslStatus)}, "openssl", "/var/lib/dpkg/status"},
		{"absolute directory link", []tarFile{symlink("var/lib", "/opt/varlib"), file("opt/varlib/dpkg/status", opensslStatus)}, "openssl", "/var/lib/dpkg/status"},
		{"absolute file link", []tarFile{directory("var/lib/dpkg"), symlink("var/lib/dpkg/status", "/opt/status"), file("opt/status", opensslStatus)}, "openssl", "/var/lib/dpkg/status"},
		{"relative file link to package.json", []tarFile{directory("app/node_modules/lodash"), symlink("app/node_modules/lodash/package.json", "../../../opt/npm/lodash.json"), file("opt/npm/lodash.json", lodashJSON)}, "lodash", "/app/node_modules/lodash/package.json"},
		{"absolute link to a host directory", []tarFile{directory("var/lib"), symlink("var/lib/dpkg", filepath.Join(host, "dpkg"))}, "", ""},
		{"dotdot link to a host directory", []tarFile{directory("var/lib"), symlink("var/lib/dpkg", "../../../../../../../../.."+filepath.Join(host, "dpkg"))}, "", ""},
	}
	c := newCLI(t)
	for _, tc := range tests {
		entries := append([]tarFile{stretch}, tc.entries...)
		for _, src := range []struct{ kind, flag, path string }{
			{"archive", "--archive", archiveOf(t, gzTar(t, files(entries...)))},
			{"rootfs", "--rootfs", writeRootfs(t, entries...)},
		} {
			t.Run(tc.name+"/"+src.kind, func(t *testing.T) {
				code, out, stderr := c.run("", "scan", "image", src.flag, src.path, "--no-cache", "--format", "json")
				if code != 0 {
					t.Fatalf("exit %d; stderr:\n%s", code, stderr)
				}
				r := jsonResult(t, out)
				if r.Status != result.StatusScanned {
					t.Errorf("status %q: %s", r.Status, r.Error)
				}
				if tc.pkg == "" {
					if hasFinding(r, "openssl") {
						t.Errorf("a link out of the root read the host's %s: %v", host, pairs(r))
					}
					return
				}
				found := false
				for _, f := range r.Findings {
					if f.Package.Name == tc.pkg {
						found = true
						if f.Package.Location != tc.at {
							t.Errorf("%s found at %q; want %s", tc.pkg, f.Package.Location, tc.at)
						}
					}
				}
				if !found {
					t.Errorf("no finding for %s behind the link: %v", tc.pkg, pairs(r))
				}
			})
		}
	}
}
