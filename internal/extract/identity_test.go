package extract

import (
	"context"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
)

// buildModulelessGo compiles a tiny program the way Debian's dh-golang
// builds its Go packages: in GOPATH mode (GO111MODULE=off), so the build
// info names the package path ("example.org/tool") and the toolchain but no
// module. It returns the binary and its build info.
func buildModulelessGo(t *testing.T) ([]byte, *buildinfo.BuildInfo) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the fixture binary")
	}
	gopath := t.TempDir()
	src := filepath.Join(gopath, "src", "example.org", "tool")
	writeFile(t, src, "main.go", []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"tool\") }\n"), 0o644)
	out := filepath.Join(t.TempDir(), "tool")
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-buildid= -s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOPATH="+gopath, "GO111MODULE=off", "GOFLAGS=", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bi, err := buildinfo.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bi.Main.Path != "" || bi.Path != "example.org/tool" || len(bi.Deps) != 0 {
		t.Fatalf("fixture has module information: main %q path %q deps %d", bi.Main.Path, bi.Path, len(bi.Deps))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, bi
}

// packagesAt returns the packages of type typ, by first location.
func packagesAt(inv *inventory.Inventory, typ string) map[string]inventory.Package {
	out := map[string]inventory.Package{}
	for _, p := range inv.Packages {
		if p.Type == typ {
			out[p.Locations[0]] = p
		}
	}
	return out
}

// TestGoBinaryWithoutModuleInfo: a Go program built without module
// information is a package of its own (name from the file, version
// unknown, generic PURL, its toolchain), one per file, with the dpkg
// package that owns it, also when the .list names it through a merged-/usr
// symlink. The stdlib package is still reported, and a binary with module
// information is unchanged.
func TestGoBinaryWithoutModuleInfo(t *testing.T) {
	bin, bi := buildModulelessGo(t)
	dir := t.TempDir()
	writeFile(t, dir, "etc/os-release", []byte("ID=debian\nVERSION_ID=12\nVERSION_CODENAME=bookworm\n"), 0o644)
	writeFile(t, dir, "var/lib/dpkg/status", []byte(`Package: tool
Status: install ok installed
Architecture: amd64
Source: golang-example-tool
Version: 1.4.2-1+b2

Package: legacy
Status: install ok installed
Architecture: amd64
Version: 0.9-3
`), 0o644)
	writeFile(t, dir, "var/lib/dpkg/info/tool.list", []byte("/.\n/usr\n/usr/bin\n/usr/bin/tool\n/usr/share/doc/tool\n"), 0o644)
	writeFile(t, dir, "var/lib/dpkg/info/legacy.list", []byte("/.\n/bin\n/bin/legacy\n"), 0o644)
	writeFile(t, dir, "usr/bin/tool", bin, 0o755)
	writeFile(t, dir, "usr/bin/legacy", bin, 0o755)
	writeFile(t, dir, "usr/local/bin/tool", bin, 0o755) // same name, unowned
	if err := os.Symlink("usr/bin", filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}
	textconv, err := os.ReadFile("testdata/rootfs/debian/usr/local/bin/textconv")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "usr/bin/textconv", textconv, 0o755) // has module info

	inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Errors) != 0 {
		t.Errorf("file errors: %+v", inv.Errors)
	}
	toolchain, _, _ := strings.Cut(bi.GoVersion, " ")
	bins := packagesAt(inv, "go-binary")
	want := map[string]inventory.Package{
		"/usr/bin/tool": {
			Name: "tool", Version: "unknown", PURL: "pkg:generic/tool", Type: "go-binary",
			Locations: []string{"/usr/bin/tool"}, Toolchain: toolchain,
			Owner: &inventory.Owner{Name: "tool", Version: "1.4.2-1+b2", Type: "deb",
				PURL: "pkg:deb/debian/tool@1.4.2-1%2Bb2?arch=amd64&distro=bookworm&source=golang-example-tool"},
		},
		"/usr/bin/legacy": {
			Name: "legacy", Version: "unknown", PURL: "pkg:generic/legacy", Type: "go-binary",
			Locations: []string{"/usr/bin/legacy"}, Toolchain: toolchain,
			Owner: &inventory.Owner{Name: "legacy", Version: "0.9-3", Type: "deb",
				PURL: "pkg:deb/debian/legacy@0.9-3?arch=amd64&distro=bookworm"},
		},
		"/usr/local/bin/tool": {
			Name: "tool", Version: "unknown", PURL: "pkg:generic/tool", Type: "go-binary",
			Locations: []string{"/usr/local/bin/tool"}, Toolchain: toolchain,
		},
	}
	if diff := cmp.Diff(want, bins); diff != "" {
		t.Errorf("go-binary packages (-want +got):\n%s", diff)
	}

	stdlib := packagesAt(inv, "go-stdlib")
	if len(stdlib) != 1 {
		t.Fatalf("stdlib packages %+v", stdlib)
	}
	for _, p := range stdlib {
		if "go"+p.Version != toolchain || len(p.Locations) != 4 {
			t.Errorf("stdlib %+v; want %s at the four binaries", p, toolchain)
		}
	}
	mods := packagesAt(inv, "go-module")
	if m, ok := mods["/usr/bin/textconv"]; !ok || m.Owner != nil || m.Toolchain != "" {
		t.Errorf("go-module packages %+v; want textconv's modules as before", mods)
	}
	if _, ok := bins["/usr/bin/textconv"]; ok {
		t.Error("a binary with module information got a go-binary package")
	}
}

// TestBinaryOwnerAcrossPackageManagers: apk and rpm file lists name the
// owner of a program too.
func TestBinaryOwnerAcrossPackageManagers(t *testing.T) {
	bin, _ := buildModulelessGo(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  inventory.Owner
	}{
		{
			name: "rpm",
			setup: func(t *testing.T, dir string) {
				copyTree(t, "testdata/rootfs/rpmsqlite", dir)
				writeFile(t, dir, "etc/os-release", []byte("ID=\"rocky\"\nVERSION_ID=\"9.3\"\n"), 0o644)
			},
			want: inventory.Owner{Name: "tool", Version: "2:1.4.2-3.fx1", Type: "rpm",
				PURL: "pkg:rpm/rocky/tool@1.4.2-3.fx1?arch=x86_64&distro=rocky-9.3&epoch=2&sourcerpm=tool-1.4.2-3.fx1.src.rpm"},
		},
		{
			name: "apk",
			setup: func(t *testing.T, dir string) {
				writeFile(t, dir, "etc/os-release", []byte("ID=alpine\nVERSION_ID=3.20.3\n"), 0o644)
				writeFile(t, dir, "lib/apk/db/installed", []byte("C:Q1x=\nP:tool\nV:1.4.2-r0\nA:x86_64\no:tool\nF:usr\nF:usr/bin\nR:tool\n\n"), 0o644)
			},
			want: inventory.Owner{Name: "tool", Version: "1.4.2-r0", Type: "apk",
				PURL: "pkg:apk/alpine/tool@1.4.2-r0?arch=x86_64&distro=3.20.3&origin=tool"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			writeFile(t, dir, "usr/bin/tool", bin, 0o755)
			inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			p, ok := packagesAt(inv, "go-binary")["/usr/bin/tool"]
			if !ok || p.Owner == nil {
				t.Fatalf("no owned go-binary at /usr/bin/tool: %+v", inv.Packages)
			}
			if diff := cmp.Diff(tc.want, *p.Owner); diff != "" {
				t.Errorf("owner (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoBinaryWithoutBuildInfo: a Go program whose build info is missing
// or unreadable is still named, without a toolchain; a .go.buildinfo
// section that cannot be read is still reported.
func TestGoBinaryWithoutBuildInfo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "usr/bin/broken", corruptBuildInfo(t), 0o755)
	inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]inventory.Package{"/usr/bin/broken": {
		Name: "broken", Version: "unknown", PURL: "pkg:generic/broken", Type: "go-binary",
		Locations: []string{"/usr/bin/broken"},
	}}
	if diff := cmp.Diff(want, packagesAt(inv, "go-binary")); diff != "" {
		t.Errorf("go-binary packages (-want +got):\n%s", diff)
	}
	if !hasError(inv.Errors, "usr/bin/broken", "go/binary: Go build info unreadable") {
		t.Errorf("errors %+v; want the unreadable build info reported", inv.Errors)
	}
}
