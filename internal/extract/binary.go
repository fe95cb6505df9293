package extract

import (
	"bytes"
	"compress/zlib"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"errors"
	"fmt"
	"io"
)

const (
	// maxRustDepSection bounds the compressed cargo-auditable section; real
	// ones are a few KB.
	maxRustDepSection = 4 << 20
	// maxRustDepJSON bounds its decompressed JSON, which go-rustaudit would
	// otherwise inflate without limit (a zlib bomb in one section).
	maxRustDepJSON = 16 << 20
)

var (
	elfMagic = []byte("\x7fELF")
)

// checkGoBinary reads the Go build info once so that executables which are
// not Go programs are skipped before scalibr parses them again. debug/buildinfo
// bounds its reads (internal/saferio), so hostile section sizes cannot make it
// allocate more than the file holds.
//
// It returns the build info when it is readable. Otherwise isGo says the
// file is still recognisably a Go program (an ELF with Go's own sections),
// which keeps an identity of its own (see binaryPackage). scalibr drops
// build-info errors silently; a file that has a .go.buildinfo section whose
// build info cannot be read is reported instead.
func checkGoBinary(ra io.ReaderAt) (bi *buildinfo.BuildInfo, isGo bool, err error) {
	bi, err = buildinfo.Read(ra)
	if err == nil {
		return bi, true, nil
	}
	if err.Error() == "unrecognized file format" {
		return nil, false, nil
	}
	secs := elfSections(ra, ".go.buildinfo", ".gopclntab", ".note.go.buildid")
	isGo = len(secs) > 0
	switch {
	case secs[".go.buildinfo"]:
		return nil, true, fmt.Errorf("Go build info unreadable: %w", err)
	case err.Error() == "not a Go executable":
		return nil, isGo, nil
	}
	return nil, isGo, fmt.Errorf("reading Go build info: %w", err)
}

// elfSections returns which of names are sections of ra, an ELF file; none
// for anything else.
func elfSections(ra io.ReaderAt, names ...string) map[string]bool {
	out := map[string]bool{}
	var hdr [4]byte
	if _, err := ra.ReadAt(hdr[:], 0); err != nil || !bytes.Equal(hdr[:], elfMagic) {
		return out
	}
	f, err := elf.NewFile(ra)
	if err != nil {
		return out
	}
	for _, n := range names {
		if f.Section(n) != nil {
			out[n] = true
		}
	}
	return out
}

// rustSection is the part of an executable format's section that matters.
type rustSection struct {
	size uint64
	open func() io.ReadSeeker
}

// checkRustBinary skips executables without a cargo-auditable section and
// rejects sections whose compressed or inflated size is over the caps,
// before go-rustaudit (which inflates without limit) sees them. WebAssembly
// modules are skipped: go-rustaudit allocates their declared section sizes.
func checkRustBinary(ra io.ReaderAt) (skip bool, err error) {
	sec, err := findRustSection(ra)
	if err != nil || sec == nil {
		return true, nil // not a parseable executable, or not cargo-auditable
	}
	if sec.size > maxRustDepSection {
		return true, fmt.Errorf("%w: cargo-auditable section is %d bytes > %d", ErrTooLarge, sec.size, maxRustDepSection)
	}
	zr, err := zlib.NewReader(io.LimitReader(sec.open(), maxRustDepSection))
	if err != nil {
		return true, fmt.Errorf("cargo-auditable section not compressed: %w", err)
	}
	defer zr.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(zr, maxRustDepJSON+1))
	if err != nil {
		return true, fmt.Errorf("inflating cargo-auditable section: %w", err)
	}
	if n > maxRustDepJSON {
		return true, fmt.Errorf("%w: cargo-auditable JSON over %d bytes", ErrTooLarge, maxRustDepJSON)
	}
	return false, nil
}

func findRustSection(ra io.ReaderAt) (*rustSection, error) {
	var hdr [4]byte
	if _, err := ra.ReadAt(hdr[:], 0); err != nil {
		return nil, err
	}
	switch {
	case bytes.Equal(hdr[:], elfMagic):
		f, err := elf.NewFile(ra)
		if err != nil {
			return nil, err
		}
		for _, name := range []string{".dep-v0", ".rust-deps-v0"} {
			if s := f.Section(name); s != nil {
				return &rustSection{size: s.Size, open: s.Open}, nil
			}
		}
	case bytes.HasPrefix(hdr[:], []byte("MZ")):
		f, err := pe.NewFile(ra)
		if err != nil {
			return nil, err
		}
		for _, name := range []string{".dep-v0", "rdep-v0"} {
			if s := f.Section(name); s != nil {
				return &rustSection{size: uint64(s.Size), open: s.Open}, nil
			}
		}
	default:
		f, err := macho.NewFile(ra)
		if err != nil {
			return nil, errors.Join(err, errNotExecutable)
		}
		for _, name := range []string{".dep-v0", "rust-deps-v0"} {
			if s := f.Section(name); s != nil {
				return &rustSection{size: s.Size, open: s.Open}, nil
			}
		}
	}
	return nil, nil
}

var errNotExecutable = errors.New("not an executable")
