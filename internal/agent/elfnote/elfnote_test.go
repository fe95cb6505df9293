package elfnote

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The build ID of real files agrees with what the toolchain wrote: this
// test's own binary (Go writes a GNU build ID note on Linux) and the
// system's libc, compared with debug/elf's reading of the same note.
func TestBuildIDOfRealFiles(t *testing.T) {
	files := []string{os.Args[0]}
	for _, p := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/bin/ls"} {
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := BuildID(f)
		want := noteWithDebugELF(t, p)
		f.Close()
		if want == "" {
			if !errors.Is(err, ErrNoBuildID) {
				t.Errorf("%s: BuildID = %q, %v; debug/elf finds none", p, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%s: BuildID = %q, %v; want %q", p, got, err, want)
		}
	}
}

// noteWithDebugELF reads the .note.gnu.build-id section with debug/elf.
func noteWithDebugELF(t *testing.T, path string) string {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		if id, ok := findBuildID(b, f.ByteOrder); ok {
			return id
		}
	}
	return ""
}

// A C library built here with and without a build ID: the one given is
// read back, the other says it has none.
func TestBuildIDOfBuiltFiles(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler to build test files with")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "x.c")
	if err := os.WriteFile(src, []byte("int f(void) { return 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	with, without := filepath.Join(dir, "with.so"), filepath.Join(dir, "without.so")
	for _, c := range [][]string{
		{"-shared", "-o", with, src, "-Wl,--build-id=0x0123456789abcdef0123456789abcdef01234567"},
		{"-shared", "-o", without, src, "-Wl,--build-id=none"},
	} {
		if out, err := exec.Command(cc, c...).CombinedOutput(); err != nil {
			t.Fatalf("cc %s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	if id := buildIDOf(t, with); id != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("build ID = %q", id)
	}
	if _, err := BuildID(openT(t, without)); !errors.Is(err, ErrNoBuildID) {
		t.Errorf("without a build ID: err = %v", err)
	}
}

func TestBuildIDOfHostileInput(t *testing.T) {
	good, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     nil,
		"text":      []byte("#!/bin/sh\necho hi\n"),
		"truncated": good[:40],
		"headers only": func() []byte {
			return append([]byte(nil), good[:64]...)
		}(),
		"huge phnum": func() []byte {
			b := append([]byte(nil), good[:4096]...)
			b[56], b[57] = 0xff, 0xff
			return b
		}(),
	}
	for name, b := range cases {
		if id, err := BuildID(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: BuildID = %q, want an error", name, id)
		}
	}
}

func FuzzBuildID(f *testing.F) {
	good, err := os.ReadFile(os.Args[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:8192])
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		BuildID(bytes.NewReader(b)) // must not panic or allocate without bound
	})
}

func buildIDOf(t *testing.T, path string) string {
	id, err := BuildID(openT(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return id
}

func openT(t *testing.T, path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
