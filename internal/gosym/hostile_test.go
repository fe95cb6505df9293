package gosym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/runlens/runlens/internal/gosym/gosymtest"
)

// realPclntab returns the pclntab of a freshly built program.
func realPclntab(t testing.TB) ([]byte, uint64) {
	t.Helper()
	f, err := os.Open(gosymtest.Build(t, gosymtest.CallsTagString, "-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, text, _, err := pclntab(f)
	if err != nil {
		t.Fatal(err)
	}
	return data, text
}

func TestHostilePclntab(t *testing.T) {
	data, text := realPclntab(t)
	if _, err := parse(data, text, nil); err != nil {
		t.Fatalf("real pclntab: %v", err)
	}
	huge := bytes.Clone(data)
	binary.LittleEndian.PutUint64(huge[8:], 1<<40) // function count
	if _, err := parse(huge, text, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("2^40 functions: %v, want ErrTooLarge", err)
	}
	over := bytes.Clone(data[:4096])
	binary.LittleEndian.PutUint64(over[8:], 100000) // more than 4 KiB can hold
	if _, err := parse(over, text, nil); err == nil {
		t.Error("100000 functions in 4 KiB: no error")
	}
	for _, n := range []int{0, 7, 64, len(data) / 2} {
		if _, err := parse(data[:n], text, nil); err == nil && n < 64 {
			t.Errorf("pclntab cut to %d bytes: no error", n)
		}
	}
	// Scrambled offsets after the header: an error or a result, no panic.
	bad := bytes.Clone(data)
	for i := 16; i < 200 && i < len(bad); i++ {
		bad[i] ^= 0xa5
	}
	_, _ = parse(bad, text, nil)
}

func TestNotGo(t *testing.T) {
	for name, b := range map[string][]byte{
		"text": []byte("#!/bin/sh\necho hi\n"),
		"elf":  elfWithout(t),
	} {
		if _, err := Symbols(bytes.NewReader(b)); !errors.Is(err, ErrNoPclntab) {
			t.Errorf("%s: %v, want ErrNoPclntab", name, err)
		}
	}
}

// elfWithout returns a minimal ELF header with no sections.
func elfWithout(t *testing.T) []byte {
	var h elf.Header64
	copy(h.Ident[:], "\x7fELF")
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	h.Type, h.Machine, h.Version = uint16(elf.ET_EXEC), uint16(elf.EM_X86_64), uint32(elf.EV_CURRENT)
	h.Ehsize = 64
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, &h); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzInline reads the inline trees of a real binary whose pclntab has
// bytes flipped at a fuzzed offset: an error or names, never a panic or
// a hang.
func FuzzInline(f *testing.F) {
	file, err := os.Open(gosymtest.Build(f, gosymtest.CallsParse, "-s -w"))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	data, _, layout, err := pclntab(file)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(8), []byte{0xff})
	f.Add(uint32(64), []byte{1, 2, 3, 4})
	f.Add(uint32(len(data)/2), []byte{0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, at uint32, flip []byte) {
		d := bytes.Clone(data)
		for i, b := range flip {
			if j := int(at%uint32(len(d))) + i; j < len(d) {
				d[j] ^= b
			}
		}
		addInlined(layout, d, map[string]bool{}, nil)
	})
}

func FuzzParse(f *testing.F) {
	data, text := realPclntab(f)
	f.Add(data[:512])
	f.Add(data[:4096])
	f.Add([]byte("\xf1\xff\xff\xff\x00\x00\x01\x08"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parse(b, text, nil)
	})
}
