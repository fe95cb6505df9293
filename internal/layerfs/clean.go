package layerfs

import (
	"archive/tar"
	"io/fs"
	"strings"
)

// Default limits (see Limits).
const (
	DefaultMaxLayerBytes int64 = 8 << 30
	// DefaultMaxImageBytes is four layers at the layer cap.
	DefaultMaxImageBytes int64 = 32 << 30
	DefaultMaxFileBytes  int64 = 512 << 20
	DefaultMaxTotalBytes int64 = 4 << 30
	DefaultMaxEntries          = 2_000_000
	DefaultMaxDepth            = 256
	DefaultMaxPathLen          = 4096
	DefaultMaxMetaBytes  int64 = 512 << 20
)

// maxNameLen is the longest single path component (NAME_MAX on Linux).
const maxNameLen = 255

// withDefaults fills zero (or negative) fields with the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxLayerBytes <= 0 {
		l.MaxLayerBytes = DefaultMaxLayerBytes
	}
	if l.MaxImageBytes <= 0 {
		l.MaxImageBytes = DefaultMaxImageBytes
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxPathLen <= 0 {
		l.MaxPathLen = DefaultMaxPathLen
	}
	if l.MaxMetaBytes <= 0 {
		l.MaxMetaBytes = DefaultMaxMetaBytes
	}
	return l
}

// cleanName turns a tar entry name into a slash path relative to the root
// ("" for the root itself). Leading "/" and "./", repeated and trailing
// slashes are dropped; absolute reports whether the name was absolute.
// Names that could climb out of the root ("..", or ".." between
// backslashes, which Windows tools treat as a separator), overlong names,
// components and paths deeper than maxDepth are refused with a reason.
// The common already-clean name is returned without allocating.
func cleanName(name string, lim *Limits) (clean string, absolute bool, reason string) {
	if len(name) > lim.MaxPathLen {
		return "", false, "path longer than MaxPathLen"
	}
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	if strings.HasPrefix(name, "/") {
		absolute = true
		name = strings.TrimLeft(name, "/")
	}
	name = strings.TrimRight(name, "/")
	if name == "." {
		name = ""
	}
	depth := 0
	dirty := false
	for rest := name; rest != ""; {
		comp, tail, _ := strings.Cut(rest, "/")
		rest = tail
		switch {
		case comp == "" || comp == ".":
			dirty = true
			continue
		case comp == "..":
			return "", absolute, "path escapes the root (..)"
		case len(comp) > maxNameLen:
			return "", absolute, "path component longer than 255 bytes"
		case strings.IndexByte(comp, '\\') >= 0 && backslashDotDot(comp):
			return "", absolute, `path escapes the root (..\)`
		}
		depth++
	}
	if depth > lim.MaxDepth {
		return "", absolute, "path deeper than MaxDepth"
	}
	if !dirty {
		return name, absolute, ""
	}
	var b strings.Builder
	for rest := name; rest != ""; {
		comp, tail, _ := strings.Cut(rest, "/")
		rest = tail
		if comp == "" || comp == "." {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(comp)
	}
	return b.String(), absolute, ""
}

// backslashDotDot reports whether a component contains ".." between
// backslashes, e.g. `..\x` or `a\..\..\x`. Other backslashes are legal
// Linux file names (systemd's `dev-disk-by\x2duuid`) and are kept.
func backslashDotDot(comp string) bool {
	for rest := comp; ; {
		piece, tail, found := strings.Cut(rest, `\`)
		if piece == ".." {
			return true
		}
		if !found {
			return false
		}
		rest = tail
	}
}

// splitLast splits a clean relative path into its directory and base name.
func splitLast(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// modeOf maps a tar header's type and permission bits to an fs.FileMode.
func modeOf(h *tar.Header) fs.FileMode {
	m := fs.FileMode(h.Mode & 0o777)
	if h.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if h.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if h.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch h.Typeflag {
	case tar.TypeDir:
		m |= fs.ModeDir
	case tar.TypeSymlink:
		m |= fs.ModeSymlink
	case tar.TypeChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case tar.TypeBlock:
		m |= fs.ModeDevice
	case tar.TypeFifo:
		m |= fs.ModeNamedPipe
	}
	return m
}
