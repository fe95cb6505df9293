// Package elfnote reads the GNU build ID of an ELF file: the note the
// linker writes (NT_GNU_BUILD_ID) that names one build of a program or
// library, so a file mapped into a process can be told from another file
// of the same name and version. It reads only the ELF header, the program
// headers, the section headers and the notes they point at, each bounded, so a hostile file
// costs a few reads and never a large allocation.
package elfnote

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// ErrNotELF means the file does not start with the ELF magic.
var ErrNotELF = errors.New("not an ELF file")

// ErrNoBuildID means the file is ELF but carries no GNU build ID note.
var ErrNoBuildID = errors.New("no GNU build ID")

// Bounds on what is read.
const (
	maxEntries   = 4096
	maxNoteBytes = 64 << 10
	maxBuildID   = 64 // SHA-1 ids are 20 bytes, some linkers write up to 32
)

const (
	ptNote       = 4
	shtNote      = 7
	ntGNUBuildID = 3
)

// BuildID returns the file's GNU build ID in lower-case hex.
func BuildID(r io.ReaderAt) (string, error) {
	var ident [64]byte
	n, err := r.ReadAt(ident[:], 0)
	if n < 52 {
		if err == nil || err == io.EOF {
			return "", ErrNotELF
		}
		return "", fmt.Errorf("elfnote: %w", err)
	}
	if !bytes.Equal(ident[:4], []byte("\x7fELF")) {
		return "", ErrNotELF
	}
	var bo binary.ByteOrder
	switch ident[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return "", fmt.Errorf("elfnote: unknown byte order %d", ident[5])
	}
	is64 := ident[4] == 2
	if ident[4] != 1 && !is64 {
		return "", fmt.Errorf("elfnote: unknown ELF class %d", ident[4])
	}
	if is64 && n < 64 {
		return "", ErrNotELF
	}
	// The notes the loader sees (PT_NOTE segments), then the note
	// sections: Go's linker puts the GNU build ID in a section outside
	// any PT_NOTE.
	for _, t := range []table{programHeaders(ident[:], bo, is64), sectionHeaders(ident[:], bo, is64)} {
		if id, ok, err := t.find(r, bo, is64); ok || err != nil {
			return id, err
		}
	}
	return "", ErrNoBuildID
}

// table is an ELF header table: where it is, how many entries of what
// size, the type of entry that holds notes, and where in an entry its
// type, offset and size are.
type table struct {
	off                 uint64
	entsize, num        int
	noteType            uint32
	minEntry            int
	typeAt, offAt, szAt int
}

func programHeaders(h []byte, bo binary.ByteOrder, is64 bool) table {
	if is64 {
		return table{bo.Uint64(h[32:]), int(bo.Uint16(h[54:])), int(bo.Uint16(h[56:])), ptNote, 56, 0, 8, 32}
	}
	return table{uint64(bo.Uint32(h[28:])), int(bo.Uint16(h[42:])), int(bo.Uint16(h[44:])), ptNote, 32, 0, 4, 16}
}

func sectionHeaders(h []byte, bo binary.ByteOrder, is64 bool) table {
	if is64 {
		return table{bo.Uint64(h[40:]), int(bo.Uint16(h[58:])), int(bo.Uint16(h[60:])), shtNote, 64, 4, 24, 32}
	}
	return table{uint64(bo.Uint32(h[32:])), int(bo.Uint16(h[46:])), int(bo.Uint16(h[48:])), shtNote, 40, 4, 16, 20}
}

// find reads the table's note entries and returns the first GNU build
// ID among them.
func (t table) find(r io.ReaderAt, bo binary.ByteOrder, is64 bool) (string, bool, error) {
	if t.num == 0 || t.off == 0 {
		return "", false, nil
	}
	if t.entsize < t.minEntry || t.num > maxEntries || t.off > 1<<62 {
		return "", false, fmt.Errorf("elfnote: a table of %d entries of %d bytes", t.num, t.entsize)
	}
	b := make([]byte, t.entsize*t.num)
	if _, err := r.ReadAt(b, int64(t.off)); err != nil {
		return "", false, fmt.Errorf("elfnote: headers: %w", err)
	}
	word := func(e []byte) uint64 {
		if is64 {
			return bo.Uint64(e)
		}
		return uint64(bo.Uint32(e))
	}
	for i := 0; i < t.num; i++ {
		e := b[i*t.entsize:]
		if bo.Uint32(e[t.typeAt:]) != t.noteType {
			continue
		}
		off, size := word(e[t.offAt:]), word(e[t.szAt:])
		if size == 0 || size > maxNoteBytes || off > 1<<62 {
			continue
		}
		notes := make([]byte, size)
		if _, err := r.ReadAt(notes, int64(off)); err != nil {
			continue
		}
		if id, ok := findBuildID(notes, bo); ok {
			return id, true, nil
		}
	}
	return "", false, nil
}

// findBuildID walks a PT_NOTE segment's notes: namesz, descsz, type, the
// name and the descriptor, each padded to 4 bytes.
func findBuildID(b []byte, bo binary.ByteOrder) (string, bool) {
	for len(b) >= 12 {
		namesz, descsz, typ := bo.Uint32(b), bo.Uint32(b[4:]), bo.Uint32(b[8:])
		b = b[12:]
		name, dlen := align4(namesz), align4(descsz)
		if name > uint64(len(b)) || dlen > uint64(len(b))-name {
			return "", false
		}
		if typ == ntGNUBuildID && namesz == 4 && string(b[:4]) == "GNU\x00" && descsz > 0 && descsz <= maxBuildID {
			return hex.EncodeToString(b[name : name+uint64(descsz)]), true
		}
		b = b[name+dlen:]
	}
	return "", false
}

func align4(n uint32) uint64 { return (uint64(n) + 3) &^ 3 }
