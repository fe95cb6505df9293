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
	// maxOwnedFiles bounds the files recorded for one package.
	maxOwnedFiles = 200_000
)

var apkDBs = []string{"lib/apk/db/installed", "var/lib/apk/db/installed", "usr/lib/apk/db/installed"}

// addOwnership fills Files for OS packages: dpkg from info/<pkg>[:arch].list,
// apk from the installed database's F:/R: lines. Directories are left out:
// the runtime agent maps loaded files, and directories are shared.
func addOwnership(ctx context.Context, root layerfs.RootFS, pkgs []inventory.Package) []inventory.FileError {
	var errs []inventory.FileError
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
	var out []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line == "/." {
			continue
		}
		if keepOwned(root, line) {
			if len(out) >= maxOwnedFiles {
				return out, fmt.Errorf("more than %d files; list truncated", maxOwnedFiles)
			}
			out = append(out, path.Clean("/"+line))
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading file list: %w", err)
	}
	return out, nil
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
		if err == nil {
			var m map[string][]string
			m, err = parseAPKFiles(f, func(p string) bool { return keepOwned(root, p) })
			f.Close()
			if err == nil {
				return m, nil
			}
		}
		return map[string][]string{}, []inventory.FileError{{Path: "/" + name, Extractor: "ownership/apk", Reason: err.Error()}}
	}
	return map[string][]string{}, nil
}

// parseAPKFiles parses an apk installed database: "P:" starts a package,
// "F:" names a directory and each following "R:" a file in it. keep filters
// the absolute paths recorded.
func parseAPKFiles(r io.Reader, keep func(string) bool) (map[string][]string, error) {
	out := map[string][]string{}
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
			if pkg == "" || len(out[pkg]) >= maxOwnedFiles {
				continue
			}
			if p := path.Clean("/" + dir + "/" + v); keep(p) {
				out[pkg] = append(out[pkg], p)
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading file list: %w", err)
	}
	return out, nil
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
