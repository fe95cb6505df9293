package extract

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime/debug"
	"strings"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/inventory"
)

// ErrTooLarge is wrapped by FileError reasons for inputs over a size cap.
var ErrTooLarge = errors.New("file exceeds size limit")

// guard wraps one scalibr extractor with runlens's limits: size caps that
// are reported instead of silently skipped, panic recovery, random access
// for binaries, and cheap pre-checks so most executables are read only once.
// The pre-checks also find the Go and Rust programs without module
// information, which get a package of their own (identity.go).
type guard struct {
	filesystem.Extractor
	kind kind
	opts Options
	// skips, if set, records the files refused whole for a size cap.
	skips *skipLog
}

// scriptExts are "interesting executable" extensions for scalibr that can
// never hold Go or Rust build info; skipping them keeps thousands of Python
// and shell files out of the binary extractors (and out of layerfs's spool).
var scriptExts = map[string]bool{
	".py": true, ".pyc": true, ".sh": true, ".bash": true, ".pl": true, ".pm": true,
	".rb": true, ".php": true, ".awk": true, ".tcl": true, ".a": true, ".o": true,
	".js": true, ".h": true, ".conf": true, ".cfg": true, ".ini": true,
}

// FileRequired narrows the binary extractors and otherwise defers to scalibr.
func (g *guard) FileRequired(api filesystem.FileAPI) bool {
	if (g.kind == kindGoBinary || g.kind == kindRustBinary) && scriptExts[path.Ext(api.Path())] {
		return false
	}
	return g.Extractor.FileRequired(api)
}

func (g *guard) limit() int64 {
	switch g.kind {
	case kindText:
		return g.opts.MaxFileBytes
	case kindArchive:
		return g.opts.MaxArchiveBytes
	default:
		return g.opts.MaxBinaryBytes
	}
}

// Extract enforces the caps, then runs the wrapped extractor.
func (g *guard) Extract(ctx context.Context, in *filesystem.ScanInput) (inv inventory.Inventory, err error) {
	defer func() {
		if r := recover(); r != nil {
			inv = inventory.Inventory{}
			err = fmt.Errorf("%s panicked: %v\n%s", g.Name(), r, firstLines(debug.Stack(), 12))
		}
	}()
	if err := ctx.Err(); err != nil {
		return inventory.Inventory{}, err
	}
	if in.Info != nil {
		if max := g.limit(); in.Info.Size() > max {
			if g.skips != nil {
				g.skips.noteCapped(g.Name(), strings.TrimPrefix(in.Path, "/"))
			}
			return inventory.Inventory{}, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, in.Info.Size(), max)
		}
	}
	switch g.kind {
	case kindGoBinary, kindRustBinary, kindArchive:
		ra, err := readerAt(in.Reader, g.opts.MaxFileBytes)
		if err != nil {
			return inventory.Inventory{}, err
		}
		var bi *buildinfo.BuildInfo
		switch g.kind {
		case kindGoBinary:
			var isGo bool
			bi, isGo, err = checkGoBinary(ra)
			if bi == nil {
				if isGo {
					return onlyPackage(binaryPackage(in.Path, goBinaryType, "")), err
				}
				return inventory.Inventory{}, err
			}
		case kindRustBinary:
			skip, err := checkRustBinary(ra)
			if err != nil {
				return inventory.Inventory{}, err
			}
			if skip {
				if tc, ok := rustToolchain(ra); ok {
					return onlyPackage(binaryPackage(in.Path, rustBinaryType, tc)), nil
				}
				return inventory.Inventory{}, nil
			}
		}
		// The binary and archive extractors need Read, ReadAt and Seek.
		if _, ok := in.Reader.(io.ReaderAt); !ok {
			in.Reader = ra.(io.Reader)
		}
		if bi != nil && bi.Main.Path == "" {
			// No main module: scalibr reports the toolchain (stdlib) at
			// most, so the program itself needs a package.
			inv, err := g.Extractor.Extract(ctx, in)
			if err == nil {
				inv.Packages = append(inv.Packages, binaryPackage(in.Path, goBinaryType, goToolchain(bi)))
			}
			return inv, err
		}
	}
	return g.Extractor.Extract(ctx, in)
}

// onlyPackage is an inventory of one package.
func onlyPackage(p *extractor.Package) inventory.Inventory {
	return inventory.Inventory{Packages: []*extractor.Package{p}}
}

// readerAt returns r itself when it supports random access, which layerfs
// files and os.Files do; otherwise it buffers at most max bytes.
func readerAt(r io.Reader, max int64) (io.ReaderAt, error) {
	if ra, ok := r.(io.ReaderAt); ok {
		if _, ok := r.(io.Seeker); ok {
			return ra, nil
		}
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: no random access and over %d bytes", ErrTooLarge, max)
	}
	return bytes.NewReader(b), nil
}

func firstLines(b []byte, n int) []byte {
	for i, c := range b {
		if c == '\n' {
			if n--; n == 0 {
				return b[:i]
			}
		}
	}
	return b
}
