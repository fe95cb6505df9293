// Package gosym reads which functions a Go binary links, from its pclntab
// (the table the runtime itself uses for stack traces, kept by
// -ldflags='-s -w'), and says which of an advisory's vulnerable symbols
// are among them. Names are normalised the way the Go vulnerability
// database's OSV records spell symbols: "Func" and "Type.Method".
package gosym

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	// MaxPclntab caps the pclntab section read into memory. The largest
	// real binaries (kubelet, a few hundred MB of code) stay well under it.
	MaxPclntab = 256 << 20
	// MaxFuncs caps the functions a pclntab may declare; real binaries
	// have up to a few hundred thousand.
	MaxFuncs = 4 << 20
)

// ErrNoPclntab is returned for files that are not Go executables with a
// readable pclntab (not ELF or Mach-O, or no pclntab section).
var ErrNoPclntab = errors.New("gosym: no Go pclntab")

// ErrTooLarge is wrapped by errors for a pclntab over the caps.
var ErrTooLarge = errors.New("gosym: pclntab over size limit")

// Symbols returns the functions r, a Go executable, links: one key
// "pkgpath.Func" or "pkgpath.Type.Method" per function (pointer receivers,
// closures, generic instantiations and method-value wrappers folded into
// the function or method they belong to), and one key "pkgpath" per
// package that has a function. Functions inlined into their callers are
// included where the inline trees are readable (see Table.Inlined). A
// corrupt or hostile pclntab yields an error, never a panic.
func Symbols(r io.ReaderAt) (map[string]bool, error) {
	t, err := Read(r, nil)
	if err != nil {
		return nil, err
	}
	return t.Symbols, nil
}

// Filter is Symbols keeping only the functions of packages keep accepts
// (nil keeps all), so a caller interested in a few packages holds only
// their names.
func Filter(r io.ReaderAt, keep func(pkgPath string) bool) (map[string]bool, error) {
	t, err := Read(r, keep)
	if err != nil {
		return nil, err
	}
	return t.Symbols, nil
}

// Table is what Read found in a binary.
type Table struct {
	// Symbols are the names, as Symbols returns them.
	Symbols map[string]bool
	// Inlined says the inline trees were read, so Symbols holds functions
	// inlined into every caller too. Without them (binaries of Go before
	// 1.20, other than 64-bit little-endian ELF, or with unreadable
	// trees) a missing name may still be inlined code: only names that
	// are present prove anything.
	Inlined bool
}

// Read is Filter that also says whether inlined functions were read.
func Read(r io.ReaderAt, keep func(pkgPath string) bool) (*Table, error) {
	data, text, layout, err := pclntab(r)
	if err != nil {
		return nil, err
	}
	syms, err := parse(data, text, keep)
	if err != nil {
		return nil, err
	}
	t := &Table{Symbols: syms}
	if layout != nil {
		t.Inlined = addInlined(layout, data, syms, keep)
	}
	return t, nil
}

// addInlined adds the functions of the inline trees to syms, and says
// whether every tree was read.
func addInlined(l *elfLayout, data []byte, syms map[string]bool, keep func(string) bool) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	ir, err := newInlineReader(l, data)
	if err != nil {
		return false
	}
	err = ir.names(func(name string) {
		pkg, sym, ok := Split(name)
		if !ok || (keep != nil && !keep(pkg)) {
			return
		}
		syms[pkg] = true
		syms[pkg+"."+sym] = true
	})
	return err == nil
}

// parse reads the function names of one pclntab's function table.
func parse(data []byte, text uint64, keep func(string) bool) (out map[string]bool, err error) {
	if err := checkHeader(data); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("gosym: corrupt pclntab: %v", p)
		}
	}()
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text))
	if err != nil {
		return nil, fmt.Errorf("gosym: reading pclntab: %w", err)
	}
	out = map[string]bool{}
	for i := range tab.Funcs {
		pkg, sym, ok := Split(tab.Funcs[i].Name)
		if !ok || (keep != nil && !keep(pkg)) {
			continue
		}
		out[pkg] = true
		out[pkg+"."+sym] = true
	}
	return out, nil
}

// pclntab returns the pclntab section's bytes, the text segment's start
// address and, for ELF files, where the pclntab is.
func pclntab(r io.ReaderAt) ([]byte, uint64, *elfLayout, error) {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, 0, nil, fmt.Errorf("%w: %v", ErrNoPclntab, err)
	}
	if bytes.Equal(magic[:], []byte("\x7fELF")) {
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("%w: %v", ErrNoPclntab, err)
		}
		s := f.Section(".gopclntab")
		if s == nil {
			s = f.Section(".data.rel.ro.gopclntab")
		}
		var text uint64
		if t := f.Section(".text"); t != nil {
			text = t.Addr
		}
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, 0, nil, ErrNoPclntab
		}
		data, err := readSection(s.Open(), s.Size)
		return data, text, &elfLayout{f: f, pclnAddr: s.Addr, pclnSize: s.Size}, err
	}
	f, err := macho.NewFile(r)
	if err != nil {
		return nil, 0, nil, ErrNoPclntab
	}
	s := f.Section("__gopclntab")
	if s == nil {
		return nil, 0, nil, ErrNoPclntab
	}
	var text uint64
	if t := f.Section("__text"); t != nil {
		text = t.Addr
	}
	data, err := readSection(s.Open(), s.Size)
	return data, text, nil, err
}

func readSection(r io.Reader, size uint64) ([]byte, error) {
	if size > MaxPclntab {
		return nil, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, size, MaxPclntab)
	}
	// The declared size is only a bound: read what is there.
	data, err := io.ReadAll(io.LimitReader(r, int64(size)))
	if err != nil {
		return nil, fmt.Errorf("gosym: reading pclntab: %w", err)
	}
	return data, nil
}

// checkHeader validates the pclntab header before debug/gosym sees it:
// debug/gosym allocates the declared function count without checking it
// against the data.
func checkHeader(data []byte) error {
	if len(data) < 16 {
		return fmt.Errorf("%w: pclntab of %d bytes", ErrNoPclntab, len(data))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if m := binary.BigEndian.Uint32(data); m&0xfffffff0 == 0xfffffff0 && m != 0xffffffff {
		order = binary.BigEndian
	}
	magic := order.Uint32(data)
	ptr := int(data[7])
	if data[4] != 0 || data[5] != 0 || (data[6] != 1 && data[6] != 2 && data[6] != 4) || (ptr != 4 && ptr != 8) {
		return fmt.Errorf("%w: bad pclntab header", ErrNoPclntab)
	}
	var nfunc uint64
	if ptr == 8 {
		nfunc = order.Uint64(data[8:])
	} else {
		nfunc = uint64(order.Uint32(data[8:]))
	}
	entry := uint64(2 * ptr) // functab entry: pc and offset
	switch magic {
	case 0xfffffffb, 0xfffffff0: // Go 1.2, Go 1.16
	case 0xfffffff1, 0xfffffffa: // Go 1.20, Go 1.18
		entry = 8
	default:
		return fmt.Errorf("%w: unknown pclntab version %#x", ErrNoPclntab, magic)
	}
	if nfunc > MaxFuncs {
		return fmt.Errorf("%w: %d functions > %d", ErrTooLarge, nfunc, MaxFuncs)
	}
	if nfunc*entry > uint64(len(data)) {
		return fmt.Errorf("%w: %d functions in a %d-byte pclntab", ErrNoPclntab, nfunc, len(data))
	}
	return nil
}
