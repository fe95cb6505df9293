package extract

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"io"
	"path"
	"strings"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/purl"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

// Programs found without module information (a Go binary built in GOPATH
// mode, as Debian's Go packages are, or from a list of files; a Rust binary
// built without cargo-auditable) are still packages: named by their file,
// with VersionUnknown, no ecosystem and a pkg:generic PURL, so that an SBOM
// accounts for them and the owner step can name the OS package that
// installed them. They are never matched by version.

const (
	goBinaryType   = "go-binary"
	rustBinaryType = "rust-binary"

	// maxCommentSection bounds the ELF .comment section read for the
	// compiler's name; real ones are a few hundred bytes.
	maxCommentSection = 64 << 10
	// maxRodataScan bounds how much of .rodata is searched for the Rust
	// standard library's source paths.
	maxRodataScan = 32 << 20
	// rodataChunk is the read size of that search; consecutive chunks
	// overlap by rodataOverlap so a path across a boundary is still found.
	rodataChunk   = 1 << 20
	rodataOverlap = 256
)

// binaryMeta is the scalibr metadata of a program found without module
// information; convert turns it into the package's Type and Toolchain.
type binaryMeta struct {
	pkgType   string // goBinaryType or rustBinaryType
	toolchain string // "go1.22.5", "rustc 1.75.0", or "" when unknown
}

// IsProtoable marks binaryMeta as scalibr package metadata. It is never
// converted to a proto: runlens reads it back in convert.
func (*binaryMeta) IsProtoable() {}

// binaryPackage is the package standing for the program at p.
func binaryPackage(p, pkgType, toolchain string) *extractor.Package {
	return &extractor.Package{
		Name:     path.Base(p),
		Version:  inventory.VersionUnknown,
		PURLType: purl.TypeGeneric,
		Location: extractor.LocationFromPath(p),
		Metadata: &binaryMeta{pkgType: pkgType, toolchain: toolchain},
	}
}

// convertBinary maps a binaryPackage to runlens's model. The PURL has no
// version: "unknown" is not the program's version, and a pkg:golang PURL
// would claim a module path that the file does not record.
func convertBinary(p *extractor.Package, m *binaryMeta) inventory.Package {
	return inventory.Package{
		Name:      p.Name,
		Version:   p.Version,
		Type:      m.pkgType,
		PURL:      (&purl.PackageURL{Type: purl.TypeGeneric, Name: p.Name}).String(),
		Locations: locations(p),
		Toolchain: m.toolchain,
	}
}

// isBinaryType reports whether t is the type of a binaryPackage.
func isBinaryType(t string) bool {
	return t == goBinaryType || t == rustBinaryType
}

// goToolchain returns the Go release that built bi ("go1.22.5"), without
// the experiment and vcs suffixes of development toolchains.
func goToolchain(bi *buildinfo.BuildInfo) string {
	v, _, _ := strings.Cut(bi.GoVersion, " ")
	if !strings.HasPrefix(v, "go") {
		return ""
	}
	return v
}

// rustToolchain reports whether ra is a Rust program and, when the file
// says, the compiler that built it. rustc writes "rustc version 1.75.0
// (82e1608df 2023-12-21)" into .comment; builds that strip .comment (dh_strip
// does) still hold the standard library's source paths in .rodata, as
// "/rustc/<commit>/library/" or, for distribution builds,
// "/usr/src/rustc-1.63.0/library/". Go programs are left out: the Go
// extractor names them.
func rustToolchain(ra io.ReaderAt) (string, bool) {
	var hdr [4]byte
	if _, err := ra.ReadAt(hdr[:], 0); err != nil || !bytes.Equal(hdr[:], elfMagic) {
		return "", false
	}
	f, err := elf.NewFile(ra)
	if err != nil {
		return "", false
	}
	if f.Section(".go.buildinfo") != nil || f.Section(".gopclntab") != nil {
		return "", false
	}
	if s := f.Section(".comment"); plainSection(s) && s.Size <= maxCommentSection {
		b := make([]byte, s.Size)
		if _, err := ra.ReadAt(b, int64(s.Offset)); err == nil {
			if v, ok := rustcComment(b); ok {
				return v, true
			}
		}
	}
	if s := f.Section(".rodata"); plainSection(s) {
		return scanRodata(io.NewSectionReader(ra, int64(s.Offset), int64(min(s.Size, maxRodataScan))))
	}
	return "", false
}

// plainSection reports whether s is stored uncompressed in the file.
func plainSection(s *elf.Section) bool {
	return s != nil && s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_COMPRESSED == 0 && s.Offset < 1<<62
}

// rustcComment finds rustc's entry among the NUL-separated strings of a
// .comment section.
func rustcComment(b []byte) (string, bool) {
	for s := range bytes.SplitSeq(b, []byte{0}) {
		rest, ok := bytes.CutPrefix(s, []byte("rustc version "))
		if !ok {
			continue
		}
		v, _, _ := bytes.Cut(rest, []byte(" "))
		if !isVersion(v) {
			return "", true
		}
		return "rustc " + string(v), true
	}
	return "", false
}

// scanRodata searches r in overlapping chunks for a Rust standard library
// source path.
func scanRodata(r *io.SectionReader) (string, bool) {
	buf := make([]byte, rodataChunk+rodataOverlap)
	var off int64
	for {
		n, err := r.ReadAt(buf, off)
		if v, ok := rustStdPath(buf[:n]); ok {
			return v, true
		}
		if err != nil || n < len(buf) {
			return "", false
		}
		off += rodataChunk
	}
}

// rustStdPath finds "/rustc/<40 hex>/library/" (toolchain unknown) or
// "/rustc-<version>/library/" (toolchain "rustc <version>") in b.
func rustStdPath(b []byte) (string, bool) {
	const marker, lib = "/rustc", "/library/"
	for {
		i := bytes.Index(b, []byte(marker))
		if i < 0 {
			return "", false
		}
		b = b[i+len(marker):]
		switch {
		case len(b) > 41+len(lib) && b[0] == '/' && isHex(b[1:41]) && bytes.HasPrefix(b[41:], []byte(lib)):
			return "", true
		case len(b) > 1 && b[0] == '-':
			v, rest, ok := bytes.Cut(b[1:], []byte("/"))
			if ok && len(v) <= 32 && isVersion(v) && bytes.HasPrefix(rest, []byte(lib[1:])) {
				return "rustc " + string(v), true
			}
		}
	}
}

func isHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isVersion accepts "1.75.0" and similar dotted numbers.
func isVersion(b []byte) bool {
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// setOwners names, for every go-binary and rust-binary package, the OS
// package whose file list holds its file (Files, filled by addOwnership);
// the first such package in pkgs' order when two list it. A list may name
// the file through a symlinked directory ("/bin/age" with /bin -> usr/bin);
// those names are resolved when the file's own name is not listed.
func setOwners(ctx context.Context, root layerfs.RootFS, pkgs []inventory.Package) {
	var bins []int
	for i := range pkgs {
		if isBinaryType(pkgs[i].Type) && len(pkgs[i].Locations) > 0 {
			bins = append(bins, i)
		}
	}
	if len(bins) == 0 {
		return
	}
	owners := map[string]int{}
	for i := range pkgs {
		for _, f := range pkgs[i].Files {
			if _, dup := owners[f]; !dup {
				owners[f] = i
			}
		}
	}
	var resolved map[string]int
	for _, b := range bins {
		p := &pkgs[b]
		o, ok := owners[p.Locations[0]]
		if !ok {
			if resolved == nil {
				resolved = resolveOwned(ctx, root, pkgs)
			}
			o, ok = resolved[p.Locations[0]]
		}
		if ok {
			op := &pkgs[o]
			p.Owner = &inventory.Owner{Name: op.Name, Version: op.Version, Type: op.Type, PURL: op.PURL}
		}
	}
}

// resolveOwned maps the real path of every owned file listed under a
// symlinked directory to the first package that lists it.
func resolveOwned(ctx context.Context, root layerfs.RootFS, pkgs []inventory.Package) map[string]int {
	out := map[string]int{}
	dirs := map[string]string{} // listed directory -> real directory, "" when unresolvable
	for i := range pkgs {
		if ctx.Err() != nil {
			return out
		}
		for _, f := range pkgs[i].Files {
			dir, base := path.Split(f)
			real, seen := dirs[dir]
			if !seen {
				if r, err := layerfs.RealPath(root, strings.Trim(dir, "/")); err == nil {
					real = path.Clean("/" + r)
				}
				dirs[dir] = real
			}
			if real == "" || real == path.Clean(dir) {
				continue
			}
			if _, dup := out[path.Join(real, base)]; !dup {
				out[path.Join(real, base)] = i
			}
		}
	}
	return out
}
