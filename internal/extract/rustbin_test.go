package extract

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
)

// elfSection is one section of a file made by makeELF.
type elfSection struct {
	name string
	data []byte
}

// makeELF writes a minimal little-endian ELF64 executable holding the given
// PROGBITS sections (and the section name table), enough for debug/elf and
// for the extractors' pre-checks.
func makeELF(t *testing.T, secs ...elfSection) []byte {
	t.Helper()
	const hdrSize, shdrSize = 64, 64
	shstr := []byte{0}
	nameOff := make([]uint32, len(secs)+1)
	for i, s := range secs {
		nameOff[i] = uint32(len(shstr))
		shstr = append(append(shstr, s.name...), 0)
	}
	nameOff[len(secs)] = uint32(len(shstr))
	shstr = append(shstr, ".shstrtab\x00"...)

	var body bytes.Buffer
	offs := make([]uint64, len(secs))
	for i, s := range secs {
		offs[i] = uint64(hdrSize + body.Len())
		body.Write(s.data)
	}
	shstrOff := uint64(hdrSize + body.Len())
	body.Write(shstr)
	shoff := uint64(hdrSize + body.Len())

	var out bytes.Buffer
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Shoff: shoff, Ehsize: hdrSize, Phentsize: 56, Shentsize: shdrSize,
		Shnum: uint16(len(secs) + 2), Shstrndx: uint16(len(secs) + 1),
	}
	copy(h.Ident[:], "\x7fELF")
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(binary.Write(&out, binary.LittleEndian, h))
	out.Write(body.Bytes())
	must(binary.Write(&out, binary.LittleEndian, elf.Section64{}))
	for i, s := range secs {
		must(binary.Write(&out, binary.LittleEndian, elf.Section64{
			Name: nameOff[i], Type: uint32(elf.SHT_PROGBITS), Off: offs[i], Size: uint64(len(s.data)), Addralign: 1,
		}))
	}
	must(binary.Write(&out, binary.LittleEndian, elf.Section64{
		Name: nameOff[len(secs)], Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(len(shstr)), Addralign: 1,
	}))
	return out.Bytes()
}

// TestRustBinaryWithoutAuditInfo: a Rust program without a cargo-auditable
// section is a package named by its file, recognised by rustc's .comment
// entry or, when .comment was stripped, by the standard library's source
// paths in .rodata. Other executables are not.
func TestRustBinaryWithoutAuditInfo(t *testing.T) {
	const commit = "82e1608dfa6e0b5569232559e3d385fea5a93112"
	panicPath := "/rustc/" + commit + "/library/core/src/panicking.rs"
	// Cut at the end of the first read, whole in the second.
	acrossChunks := bytes.Repeat([]byte{'x'}, rodataChunk+rodataOverlap-10)
	tests := []struct {
		name      string
		secs      []elfSection
		toolchain string
		isRust    bool
	}{
		{"rustc .comment", []elfSection{
			{".comment", []byte("GCC: (Debian 12.2.0-14) 12.2.0\x00rustc version 1.75.0 (82e1608df 2023-12-21)\x00")},
			{".rodata", []byte("hello\x00")},
		}, "rustc 1.75.0", true},
		{"std source path, upstream toolchain", []elfSection{{".rodata", []byte("\x00abc" + panicPath + "\x00")}}, "", true},
		{"std source path, distribution toolchain", []elfSection{
			{".rodata", []byte("\x00/usr/src/rustc-1.63.0/library/std/src/io/mod.rs\x00")},
		}, "rustc 1.63.0", true},
		{"std source path across a read boundary", []elfSection{{".rodata", append(acrossChunks, panicPath...)}}, "", true},
		{"C program", []elfSection{
			{".comment", []byte("GCC: (Debian 12.2.0-14) 12.2.0\x00")},
			{".rodata", []byte("usage: /rustc/ is not a path\x00/rustc-x/library/\x00")},
		}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "usr/bin/prog", makeELF(t, tc.secs...), 0o755)
			inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(inv.Errors) != 0 {
				t.Errorf("file errors: %+v", inv.Errors)
			}
			want := []inventory.Package{}
			if tc.isRust {
				want = append(want, inventory.Package{
					Name: "prog", Version: "unknown", PURL: "pkg:generic/prog", Type: "rust-binary",
					Locations: []string{"/usr/bin/prog"}, Toolchain: tc.toolchain,
				})
			}
			if diff := cmp.Diff(want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRealRustBinary builds a program with this machine's rustc (when there
// is one), as cargo leaves it and as dh_strip does (.comment removed).
func TestRealRustBinary(t *testing.T) {
	rustc, err := exec.LookPath("rustc")
	if err != nil {
		t.Skip("no rustc")
	}
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "hello.rs")
	if err := os.WriteFile(src, []byte("fn main() { println!(\"{}\", std::env::args().count()); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "usr/bin/hello")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(rustc, "-O", "-C", "strip=symbols", "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("rustc: %v\n%s", err, b)
	}
	ver, err := exec.Command(rustc, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(ver)) // "rustc 1.75.0 (82e1608df 2023-12-21)"
	if len(f) < 2 {
		t.Fatalf("rustc --version: %q", ver)
	}
	wantTC := map[string]string{"/usr/bin/hello": "rustc " + f[1]}
	if objcopy, err := exec.LookPath("objcopy"); err == nil {
		stripped := filepath.Join(dir, "usr/bin/hello-stripped")
		if b, err := exec.Command(objcopy, "--remove-section=.comment", out, stripped).CombinedOutput(); err != nil {
			t.Fatalf("objcopy: %v\n%s", err, b)
		}
		wantTC["/usr/bin/hello-stripped"] = ""
	}
	inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for loc, p := range packagesAt(inv, "rust-binary") {
		got[loc] = p.Toolchain
	}
	if diff := cmp.Diff(wantTC, got); diff != "" {
		t.Errorf("rust-binary toolchains by path (-want +got):\n%s", diff)
	}
}
