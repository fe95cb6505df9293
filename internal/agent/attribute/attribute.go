// Package attribute says which package of an image a file a process
// executed, mapped or opened belongs to: OS packages by their file lists,
// language packages by where they live (node_modules/<pkg>/,
// site-packages/<dist>/, a jar), Go and Rust programs by their
// executable. Paths are those the process sees (image-absolute), as
// /proc/<pid>/maps and the exec tracer report them.
package attribute

import (
	"path"
	"strings"

	"github.com/runlens/runlens/internal/inventory"
)

// Index maps image-absolute paths to the packages of one image.
type Index struct {
	pkgs []inventory.Package
	// files are exact paths: OS packages' files, jars, binaries.
	files map[string][]int
	// dirs are directory prefixes ("/app/node_modules/lodash/"); the
	// longest that contains a path owns it.
	dirs map[string][]int
}

// New indexes the packages of one image (an inventory with its file lists).
func New(pkgs []inventory.Package) *Index {
	ix := &Index{pkgs: pkgs, files: map[string][]int{}, dirs: map[string][]int{}}
	for i := range pkgs {
		p := &pkgs[i]
		for _, f := range p.Files {
			ix.addFile(f, i)
		}
		for _, loc := range p.Locations {
			switch p.Type {
			case "npm":
				if strings.HasSuffix(loc, "/package.json") {
					ix.dirs[path.Dir(loc)+"/"] = append(ix.dirs[path.Dir(loc)+"/"], i)
				}
			case "python":
				if d, ok := pythonDir(loc, p.Name); ok {
					ix.dirs[d] = append(ix.dirs[d], i)
				}
			case "java-archive", "go-module", "go-stdlib", "go-binary", "rust-crate", "rust-binary":
				// The jar or the program file itself.
				ix.addFile(jarOrBinary(loc), i)
			}
		}
	}
	return ix
}

func (ix *Index) addFile(p string, i int) {
	for _, alias := range aliases(p) {
		if l := ix.files[alias]; len(l) == 0 || l[len(l)-1] != i {
			ix.files[alias] = append(l, i)
		}
	}
}

// jarOrBinary is the file a location names: a jar inside a jar
// ("/app/app.jar!/BOOT-INF/lib/x.jar") is loaded through the outer one.
func jarOrBinary(loc string) string {
	if i := strings.Index(loc, "!"); i > 0 {
		return loc[:i]
	}
	return loc
}

// pythonDir is where a distribution's modules live beside its
// .dist-info or .egg-info: site-packages/<name with - as _>/.
func pythonDir(loc, name string) (string, bool) {
	dir := path.Dir(loc)
	base := path.Base(dir)
	if !strings.HasSuffix(base, ".dist-info") && !strings.HasSuffix(base, ".egg-info") {
		return "", false
	}
	mod := strings.ToLower(strings.ReplaceAll(name, "-", "_"))
	return path.Dir(dir) + "/" + mod + "/", true
}

// usrMerged are the directories a merged /usr makes links to: a library
// a package lists as /lib/x86_64-linux-gnu/libc.so.6 is mapped as
// /usr/lib/x86_64-linux-gnu/libc.so.6, and the other way round.
var usrMerged = []string{"/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"}

// aliases are the spellings of p on an image with a merged /usr.
func aliases(p string) []string {
	p = path.Clean(p)
	out := []string{p}
	for _, d := range usrMerged {
		switch {
		case strings.HasPrefix(p, d):
			out = append(out, "/usr"+p)
		case strings.HasPrefix(p, "/usr"+d):
			out = append(out, strings.TrimPrefix(p, "/usr"))
		}
	}
	return out
}

// Owners returns the packages that file p belongs to: those listing it,
// else those of the deepest directory holding it.
func (ix *Index) Owners(p string) []*inventory.Package {
	p = path.Clean(strings.TrimSuffix(p, " (deleted)"))
	if l := ix.files[p]; len(l) > 0 {
		return ix.list(l)
	}
	for dir := path.Dir(p); dir != "/" && dir != "."; dir = path.Dir(dir) {
		if l := ix.dirs[dir+"/"]; len(l) > 0 {
			return ix.list(l)
		}
	}
	return nil
}

func (ix *Index) list(idx []int) []*inventory.Package {
	out := make([]*inventory.Package, len(idx))
	for i, j := range idx {
		out[i] = &ix.pkgs[j]
	}
	return out
}
