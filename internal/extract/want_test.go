package extract

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"time"
)

type fakeInfo struct {
	name string
	mode fs.FileMode
	size int64
}

func (f fakeInfo) Name() string       { return path.Base(f.name) }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

func TestWant(t *testing.T) {
	want := Want()
	tests := []struct {
		path string
		mode fs.FileMode
		keep bool
	}{
		{"var/lib/dpkg/status", 0o644, true},
		{"/var/lib/dpkg/status", 0o644, true},
		{"./var/lib/dpkg/status", 0o644, true},
		{"var/lib/dpkg/status.d/base", 0o644, true},
		{"var/lib/dpkg/info/libssl3:amd64.list", 0o644, true},
		{"var/lib/dpkg/info/libssl3:amd64.md5sums", 0o644, false},
		{"lib/apk/db/installed", 0o644, true},
		{"var/lib/rpm/Packages", 0o644, true},
		{"usr/lib/sysimage/rpm/rpmdb.sqlite", 0o644, true},
		{"etc/os-release", 0o644, true},
		{"usr/lib/os-release", 0o644, true},
		{"usr/local/bin/kubectl", 0o755, true},
		{"usr/lib/x86_64-linux-gnu/libssl.so.3", 0o644, true},
		{"usr/bin/pip3", 0o755, true},
		{"usr/lib/python3/dist-packages/foo.py", 0o755, false},
		{"usr/share/doc/bash/README", 0o644, false},
		{"app/node_modules/lodash/package.json", 0o644, true},
		{"app/node_modules/lodash/lodash.js", 0o644, false},
		{"srv/web/package-lock.json", 0o644, true},
		{"usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", 0o644, true},
		{"usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD", 0o644, false},
		{"opt/app/lib/log4j-core-2.14.1.jar", 0o644, true},
		{"usr/local/bundle/specifications/rack-2.2.3.gemspec", 0o644, true},
		{"var/www/composer.lock", 0o644, true},
		{"app/web.deps.json", 0o644, true},
		{"etc/passwd", 0o644, false},
	}
	for _, tc := range tests {
		if got := want(tc.path, fakeInfo{tc.path, tc.mode, 100}); got != tc.keep {
			t.Errorf("Want(%q, %v) = %v, want %v", tc.path, tc.mode, got, tc.keep)
		}
	}
}

// TestWantCoversExtract checks Want against what Extract really opens: on
// the kitchen-sink root, every file a package or an owned-file check came
// from must be wanted.
func TestWantCoversExtract(t *testing.T) {
	dir := debianRoot(t)
	want := Want()
	inv, err := Extract(t.Context(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range inv.Packages {
		for _, l := range p.Locations {
			info, err := os.Stat(dir + l)
			if err != nil {
				t.Fatal(err)
			}
			if !want(strings.TrimPrefix(l, "/"), info) {
				t.Errorf("Want drops %s, where %s was found", l, p.Name)
			}
		}
	}
}

func BenchmarkWant(b *testing.B) {
	want := Want()
	paths := []string{"usr/share/doc/bash/README", "usr/bin/bash", "usr/lib/python3.11/json/decoder.py", "app/node_modules/x/package.json"}
	infos := []fs.FileInfo{fakeInfo{paths[0], 0o644, 1}, fakeInfo{paths[1], 0o755, 1}, fakeInfo{paths[2], 0o644, 1}, fakeInfo{paths[3], 0o644, 1}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		want(paths[i%4], infos[i%4])
	}
}
