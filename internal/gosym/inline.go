package gosym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
)

// Inline trees. A function the compiler inlined into every caller may be
// gone from the function table while its code runs inside its callers;
// the runtime keeps its name in the caller's inline tree (funcdata
// FUNCDATA_InlTree, indexed by pcdata PCDATA_InlTreeIndex) for stack
// traces. The tree lives in go:func.* data, found through the module's
// moduledata (located by its pcHeader pointer to the pclntab, so it works
// on stripped binaries too, without the symbol table). Only the Go 1.20+ layout (pclntab magic
// 0xfffffff1) of 64-bit little-endian ELF files is read; other binaries
// report that inlined functions were not read.

const (
	pcdataInlTreeIndex = 2
	funcdataInlTree    = 3
	inlinedCallSize    = 16
	// maxInlinedPerFunc caps one function's inline tree.
	maxInlinedPerFunc = 1 << 16
	// maxInlinedTotal caps the inline-tree entries of one binary.
	maxInlinedTotal = 16 << 20
)

var errNoInline = errors.New("gosym: inline trees not readable")

// elfLayout is what reading inline trees needs of an ELF file.
type elfLayout struct {
	f        *elf.File
	pclnAddr uint64
	pclnSize uint64
}

// inlineReader reads inline trees of one binary.
type inlineReader struct {
	data   []byte // pclntab
	gofunc uint64
	sect   *elf.Section // holds go:func.*
	total  int
}

// newInlineReader finds go:func.* of the binary whose pclntab is data.
func newInlineReader(l *elfLayout, data []byte) (*inlineReader, error) {
	f := l.f
	if f == nil || f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || len(data) < 72 ||
		binary.LittleEndian.Uint32(data) != 0xfffffff1 || data[7] != 8 {
		return nil, errNoInline
	}
	rodata := f.Section(".rodata")
	if rodata == nil {
		return nil, errNoInline
	}
	var want [8]byte
	binary.LittleEndian.PutUint64(want[:], l.pclnAddr)
	// moduledata is in .go.module since Go 1.26, in .noptrdata before.
	for _, name := range []string{".go.module", ".noptrdata"} {
		md := f.Section(name)
		if md == nil || md.Size > MaxPclntab || md.Type == elf.SHT_NOBITS {
			continue
		}
		mdata, err := readSection(md.Open(), md.Size)
		if err != nil {
			continue
		}
		for off := 0; off+8 <= len(mdata); off += 8 {
			if !bytes.Equal(mdata[off:off+8], want[:]) {
				continue
			}
			// moduledata: pcHeader, ..., types, etypes, rodata, gofunc:
			// the last word equal to .rodata's address followed by an
			// address inside a section is rodata, then gofunc (in
			// .rodata, or in .gopclntab since Go 1.26).
			var gofunc uint64
			var sect *elf.Section
			for w := 1; w < 64 && off+8*w+16 <= len(mdata); w++ {
				if binary.LittleEndian.Uint64(mdata[off+8*w:]) != rodata.Addr {
					continue
				}
				next := binary.LittleEndian.Uint64(mdata[off+8*w+8:])
				if s := sectionAt(f, next); s != nil {
					gofunc, sect = next, s
				}
			}
			if sect != nil {
				return &inlineReader{data: data, gofunc: gofunc, sect: sect}, nil
			}
		}
	}
	return nil, errNoInline
}

// sectionAt is the allocated section with file contents holding addr.
func sectionAt(f *elf.File, addr uint64) *elf.Section {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS && s.Flags&elf.SHF_ALLOC != 0 && addr >= s.Addr && addr < s.Addr+s.Size {
			return s
		}
	}
	return nil
}

// header word i of a Go 1.20 pcHeader (nfunc, nfiles, textStart,
// funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset).
func (r *inlineReader) header(i int) uint64 {
	return binary.LittleEndian.Uint64(r.data[8+8*i:])
}

// names calls fn with the name of every function inlined anywhere.
func (r *inlineReader) names(fn func(string)) error {
	nfunc, nameOff, pctab, pcln := r.header(0), r.header(3), r.header(6), r.header(7)
	size := uint64(len(r.data))
	if nameOff > size || pctab > size || pcln > size || pcln+(nfunc+1)*8 > size {
		return errNoInline
	}
	for i := uint64(0); i < nfunc; i++ {
		funcOff := uint64(binary.LittleEndian.Uint32(r.data[pcln+i*8+4:]))
		fp := pcln + funcOff
		if fp+44 > size {
			return errNoInline
		}
		npcdata := uint64(binary.LittleEndian.Uint32(r.data[fp+28:]))
		nfuncdata := uint64(r.data[fp+43])
		if npcdata <= pcdataInlTreeIndex || nfuncdata <= funcdataInlTree {
			continue
		}
		if fp+44+4*npcdata+4*nfuncdata > size {
			return errNoInline
		}
		pcOff := uint64(binary.LittleEndian.Uint32(r.data[fp+44+4*pcdataInlTreeIndex:]))
		fdOff := binary.LittleEndian.Uint32(r.data[fp+44+4*npcdata+4*funcdataInlTree:])
		if pcOff == 0 || fdOff == ^uint32(0) || pctab+pcOff >= size {
			continue
		}
		n := maxValue(r.data[pctab+pcOff:]) + 1
		if n <= 0 {
			continue
		}
		if n > maxInlinedPerFunc || r.total+n > maxInlinedTotal {
			return ErrTooLarge
		}
		r.total += n
		buf := make([]byte, n*inlinedCallSize)
		addr := r.gofunc + uint64(fdOff)
		if addr < r.sect.Addr || addr-r.sect.Addr+uint64(len(buf)) > r.sect.Size {
			return errNoInline
		}
		if _, err := r.sect.ReadAt(buf, int64(addr-r.sect.Addr)); err != nil && err != io.EOF {
			return errNoInline
		}
		for j := 0; j < n; j++ {
			no := uint64(int64(int32(binary.LittleEndian.Uint32(buf[j*inlinedCallSize+4:]))))
			if name, ok := cstring(r.data, nameOff+no); ok {
				fn(name)
			}
		}
	}
	return nil
}

// maxValue is the largest value of a pcvalue table (zigzag value deltas
// and pc deltas as varints, ended by a zero value delta), -1 when none.
func maxValue(p []byte) int {
	val, most := int64(-1), int64(-1)
	for first := true; ; first = false {
		uv, n := binary.Uvarint(p)
		if n <= 0 || (uv == 0 && !first) {
			return int(most)
		}
		p = p[n:]
		if uv&1 != 0 {
			val += -int64(uv>>1) - 1
		} else {
			val += int64(uv >> 1)
		}
		if _, n = binary.Uvarint(p); n <= 0 {
			return int(most)
		}
		p = p[n:]
		if val > most {
			most = val
			if most > maxInlinedPerFunc {
				return int(most)
			}
		}
	}
}

// cstring is the NUL-terminated string at off in data.
func cstring(data []byte, off uint64) (string, bool) {
	if off >= uint64(len(data)) {
		return "", false
	}
	end := bytes.IndexByte(data[off:], 0)
	if end < 0 || end > 4096 {
		return "", false
	}
	return string(data[off : off+uint64(end)]), true
}
