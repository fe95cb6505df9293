package extract

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/inventory"
)

// Hostile package files and executables: every one becomes a FileError
// naming the file, the scan goes on, and memory stays bounded.

const lodashJSON = `{"name":"lodash","version":"4.17.15"}`

func longLine(n int) []byte {
	return bytes.Repeat([]byte("A"), n)
}

func goBinary(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/rootfs/debian/usr/local/bin/textconv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corruptBuildInfo makes the inline version string's varint length absurd.
func corruptBuildInfo(t *testing.T) []byte {
	b := goBinary(t)
	i := bytes.Index(b, []byte("\xff Go buildinf:"))
	if i < 0 {
		t.Fatal("no build info magic in fixture")
	}
	copy(b[i+32:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	return b
}

// hugeSections sets every section header's size to 1 TiB.
func hugeSections(t *testing.T) []byte {
	b := goBinary(t)
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	shoff := int(le64(b[0x28:]))
	shentsize := int(le16(b[0x3a:]))
	for i := range f.Sections {
		off := shoff + i*shentsize + 0x20 // sh_size in Elf64_Shdr
		putLE64(b[off:], 1<<40)
	}
	return b
}

// rustBomb turns the binary's .rodata into a cargo-auditable section (same
// name length) holding zlib data that inflates to 64 MiB.
func rustBomb(t *testing.T) []byte {
	b := goBinary(t)
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section(".rodata")
	if s == nil {
		t.Skip("fixture has no .rodata")
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(make([]byte, 64<<20))
	zw.Close()
	if uint64(z.Len()) > s.Size {
		t.Skipf(".rodata (%d) too small for the bomb (%d)", s.Size, z.Len())
	}
	copy(b[s.Offset:], z.Bytes())
	i := bytes.Index(b, []byte(".rodata\x00"))
	copy(b[i:], ".dep-v0")
	return b
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
func putLE64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// zipBomb is a jar whose nested jar declares and holds 64 MiB of zeros.
func zipBomb(t *testing.T) []byte {
	return makeZip(t,
		pomProperties("com.example", "outer", "1.0"),
		zipEntry{"BOOT-INF/lib/bomb.jar", make([]byte, 64<<20)},
	)
}

// deepJar nests depth jars, each with its own pom.properties.
func deepJar(t *testing.T, depth int) []byte {
	var cur []byte
	for i := depth; i >= 0; i-- {
		entries := []zipEntry{pomProperties("com.example", "level"+itoa(i), "1.0")}
		if cur != nil {
			entries = append(entries, zipEntry{"lib/level" + itoa(i+1) + ".jar", cur})
		}
		cur = makeZip(t, entries...)
	}
	return cur
}

func itoa(i int) string { return fmt.Sprintf("%02d", i) }

func TestHostileInputs(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		data      func(t *testing.T) []byte
		mode      os.FileMode
		osRelease bool
		opts      Options
		wantErr   []string // "extractor: reason substring"
		wantPkgs  []string // extra packages that must still be found
	}{
		{
			name: "dpkg status with a 10 MB garbage line",
			path: "var/lib/dpkg/status",
			data: func(*testing.T) []byte {
				b := append([]byte("Package: ok\nStatus: install ok installed\nVersion: 1\n\n"), longLine(10<<20)...)
				return append(b, "\nPackage: after\nStatus: install ok installed\nVersion: 2\n"...)
			},
			wantErr:  []string{"os/dpkg: malformed MIME header"},
			wantPkgs: []string{"ok"}, // what was parsed before the garbage is kept
		},
		{
			name: "apk installed with a 10 MB line",
			path: "lib/apk/db/installed",
			data: func(*testing.T) []byte {
				return append([]byte("P:musl\nV:1.2.5-r0\n"), longLine(10<<20)...)
			},
			wantErr: []string{"os/apk: token too long"},
		},
		{
			name:    "package.json with a 10 MB garbage line",
			path:    "srv/app/node_modules/evil/package.json",
			data:    func(*testing.T) []byte { return append([]byte(`{"name":"evil","version":"`), longLine(10<<20)...) },
			wantErr: []string{"javascript/packagejson: "},
		},
		{
			name:    "package.json over the size cap",
			path:    "srv/app/node_modules/big/package.json",
			data:    func(*testing.T) []byte { return longLine(2 << 20) },
			opts:    Options{MaxFileBytes: 1 << 20},
			wantErr: []string{"javascript/packagejson: file exceeds size limit"},
		},
		{
			name:    "Go binary with corrupt build info",
			path:    "usr/local/bin/broken",
			data:    corruptBuildInfo,
			mode:    0o755,
			wantErr: []string{"go/binary: Go build info unreadable"},
		},
		{
			name: "ELF with 1 TiB section sizes",
			path: "usr/local/bin/huge",
			data: hugeSections,
			mode: 0o755,
			// Bounded reads: the file is reported or skipped, never loaded.
		},
		{
			name:    "cargo-auditable zlib bomb",
			path:    "usr/local/bin/rusty",
			data:    rustBomb,
			mode:    0o755,
			wantErr: []string{"rust/cargoauditable: file exceeds size limit: cargo-auditable JSON"},
		},
		{
			name:     "zip bomb in a nested jar",
			path:     "opt/app.jar",
			data:     zipBomb,
			opts:     Options{MaxArchiveBytes: 8 << 20},
			wantErr:  []string{"java/archive: max opened bytes"},
			wantPkgs: []string{"com.example:outer"},
		},
		{
			name:    "jar in jar 50 deep",
			path:    "opt/deep.jar",
			data:    func(t *testing.T) []byte { return deepJar(t, 50) },
			wantErr: []string{"java/archive: max zip depth"},
			// scalibr drops the packages of a nested chain that hit the cap;
			// the outer archive's own package is kept.
			wantPkgs: []string{"com.example:level00"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "etc/os-release", []byte("ID=debian\nVERSION_ID=12\n"), 0o644)
			writeFile(t, dir, "app/node_modules/lodash/package.json", []byte(lodashJSON), 0o644)
			mode := tc.mode
			if mode == 0 {
				mode = 0o644
			}
			writeFile(t, dir, tc.path, tc.data(t), mode)

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			inv, err := Extract(context.Background(), newDirRoot(t, dir), tc.opts)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("Extract failed the whole scan: %v", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 512<<20 {
				t.Errorf("allocated %d MiB for one hostile file", grew>>20)
			}
			names := map[string]bool{}
			for _, p := range inv.Packages {
				names[p.Name] = true
			}
			for _, want := range append([]string{"lodash"}, tc.wantPkgs...) {
				if !names[want] {
					t.Errorf("package %q missing; other extractors must go on (got %v)", want, names)
				}
			}
			for _, want := range tc.wantErr {
				if !hasError(inv.Errors, tc.path, want) {
					t.Errorf("no FileError for /%s matching %q; errors: %+v", tc.path, want, inv.Errors)
				}
			}
			for _, e := range inv.Errors {
				if e.Path != "/"+tc.path || e.Extractor == "" || e.Reason == "" {
					t.Errorf("unexpected or incomplete error %+v", e)
				}
			}
		})
	}
}

// hasError matches "extractor: reason" (either part may be empty).
func hasError(errs []inventory.FileError, path, want string) bool {
	ex, reason, _ := strings.Cut(want, ": ")
	for _, e := range errs {
		if e.Path != "/"+path {
			continue
		}
		if (ex == "" || e.Extractor == ex || strings.Contains(e.Reason, want)) && strings.Contains(e.Reason, reason) {
			return true
		}
	}
	return false
}
