package extract

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

const (
	dpkgInfoDir = "var/lib/dpkg/info/"
	// maxListLine bounds one line of a dpkg .list or apk installed file; a
	// path is at most a few KB (layerfs caps path length too).
	maxListLine = 64 << 10
)

// The caps of one package's owned files (ownedList); variables so that
// tests can cut real file lists.
var (
	// maxOwnedFiles bounds the files recorded for one package.
	maxOwnedFiles = 200_000
	// maxOwnedBytes bounds the bytes of file names recorded for one
	// package.
	maxOwnedBytes = 32 << 20
)

var apkDBs = []string{"lib/apk/db/installed", "var/lib/apk/db/installed", "usr/lib/apk/db/installed"}

// addOwnership fills Files for OS packages: dpkg from info/<pkg>[:arch].list,
// apk from the installed database's F:/R: lines, rpm from the database's
// file lists (ownrpm.go). Directories and files absent from the root are
// left out: the runtime agent maps loaded files, and directories are shared.
// Every list is capped (ownedList); a list cut short is a FileError.
func addOwnership(ctx context.Context, root layerfs.RootFS, pkgs []inventory.Package, opts Options) []inventory.FileError {
	errs := rpmOwnership(ctx, root, pkgs, opts)
	var apkFiles map[string][]string
	for i := range pkgs {
		if ctx.Err() != nil {
			return errs
		}
		p := &pkgs[i]
		switch p.Type {
		case "deb":
			files, fe := dpkgFiles(root, p)
			if fe != nil {
				errs = append(errs, *fe)
			}
			p.Files = files
		case "apk":
			if apkFiles == nil {
				var fe []inventory.FileError
				apkFiles, fe = readAPKFiles(root)
				errs = append(errs, fe...)
			}
			p.Files = apkFiles[p.Name]
		}
	}
	return errs
}

// dpkgFiles reads the package's .list file; multi-arch packages name it
// "<pkg>:<arch>.list".
func dpkgFiles(root layerfs.RootFS, p *inventory.Package) ([]string, *inventory.FileError) {
	cands := []string{dpkgInfoDir + p.Name + ".list"}
	if arch := purlQualifier(p.PURL, "arch"); arch != "" {
		cands = append([]string{dpkgInfoDir + p.Name + ":" + arch + ".list"}, cands...)
	}
	for _, name := range cands {
		f, err := root.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &inventory.FileError{Path: "/" + name, Extractor: "ownership/dpkg", Reason: err.Error()}
		}
		files, err := readPathList(root, f)
		f.Close()
		if err != nil {
			return files, &inventory.FileError{Path: "/" + name, Extractor: "ownership/dpkg", Reason: err.Error()}
		}
		return files, nil
	}
	return nil, nil // distroless status.d and minimal images ship no .list files
}

// readPathList reads one absolute path per line and keeps those that exist
// in root and are not directories.
func readPathList(root layerfs.RootFS, r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxListLine)
	var l ownedList
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line == "/." {
			continue
		}
		if keepOwned(root, line) && !l.add(path.Clean("/"+line)) {
			return l.files, errors.New(l.cut)
		}
	}
	if err := sc.Err(); err != nil {
		return l.files, fmt.Errorf("reading file list: %w", err)
	}
	return l.files, nil
}

// ownedList collects one package's owned files under the caps every owner
// shares: at most maxOwnedFiles files and maxOwnedBytes of names.
type ownedList struct {
	files []string
	bytes int
	// cut says why the list stopped short; "" while it is whole.
	cut string
}

// add appends p and reports whether it fit; once it does not, the list is
// cut and every later add is refused.
func (l *ownedList) add(p string) bool {
	if l.cut != "" {
		return false
	}
	switch {
	case len(l.files) >= maxOwnedFiles:
		l.cut = fmt.Sprintf("more than %d files; list truncated", maxOwnedFiles)
	case l.bytes+len(p) > maxOwnedBytes:
		l.cut = fmt.Sprintf("file names over %d bytes; list truncated", maxOwnedBytes)
	default:
		l.files = append(l.files, p)
		l.bytes += len(p)
		return true
	}
	return false
}

// sorted returns the files in order, without repeats.
func (l *ownedList) sorted() []string {
	slices.Sort(l.files)
	return slices.Compact(l.files)
}

func keepOwned(root layerfs.RootFS, abs string) bool {
	rel := strings.TrimPrefix(path.Clean("/"+abs), "/")
	if rel == "" {
		return false
	}
	info, err := root.Stat(rel)
	return err == nil && !info.IsDir()
}

// readAPKFiles reads the first apk installed database present in root.
func readAPKFiles(root layerfs.RootFS) (map[string][]string, []inventory.FileError) {
	for _, name := range apkDBs {
		f, err := root.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		fail := func(reason string) inventory.FileError {
			return inventory.FileError{Path: "/" + name, Extractor: "ownership/apk", Reason: reason}
		}
		if err != nil {
			return map[string][]string{}, []inventory.FileError{fail(err.Error())}
		}
		m, cuts, err := parseAPKFiles(f, func(p string) bool { return keepOwned(root, p) })
		f.Close()
		if err != nil {
			return map[string][]string{}, []inventory.FileError{fail(err.Error())}
		}
		var errs []inventory.FileError
		for _, c := range cuts {
			errs = append(errs, fail(c))
		}
		return m, errs
	}
	return map[string][]string{}, nil
}

// parseAPKFiles parses an apk installed database: "P:" starts a package,
// "F:" names a directory and each following "R:" a file in it. keep filters
// the absolute paths recorded. cuts names the packages whose list was cut
// at a cap (ownedList), and why.
func parseAPKFiles(r io.Reader, keep func(string) bool) (files map[string][]string, cuts []string, err error) {
	lists := map[string]*ownedList{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxListLine)
	var pkg, dir string
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 2 || line[1] != ':' {
			if line == "" {
				pkg, dir = "", ""
			}
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'P':
			pkg, dir = v, ""
		case 'F':
			dir = v
		case 'R':
			if pkg == "" {
				continue
			}
			l := lists[pkg]
			if l == nil {
				l = &ownedList{}
				lists[pkg] = l
			}
			if l.cut != "" {
				continue
			}
			if p := path.Clean("/" + dir + "/" + v); keep(p) {
				l.add(p)
			}
		}
	}
	files = make(map[string][]string, len(lists))
	for k, l := range lists {
		if len(l.files) > 0 {
			files[k] = l.sorted()
		}
		if l.cut != "" {
			cuts = append(cuts, "package "+k+": "+l.cut)
		}
	}
	slices.Sort(cuts)
	if err := sc.Err(); err != nil {
		return files, cuts, fmt.Errorf("reading file list: %w", err)
	}
	return files, cuts, nil
}

// purlQualifier returns one qualifier of a package URL ("arch" of
// "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=bookworm").
func purlQualifier(purl, key string) string {
	_, q, ok := strings.Cut(purl, "?")
	if !ok {
		return ""
	}
	for kv := range strings.SplitSeq(q, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
