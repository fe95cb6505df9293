package scan

import (
	"context"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/gosym"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/match"
)

// maxSymbolBinary caps the executables whose function tables are read
// (as extract.Options.MaxBinaryBytes).
const maxSymbolBinary = 1 << 30

// checkGoSymbols reads, while the image's root is open, the function table
// of each Go binary that has findings with vulnerable symbols, and fills
// their Symbols. One module version found in several binaries is one
// package (and one finding) located at all of them: every binary is read,
// and the finding is reachable when any of them links the code. Only the
// functions of the packages the findings name are kept, one binary at a
// time, so memory stays bounded by the advisories, not the binaries. A
// binary that cannot be read, or whose inline trees cannot (a function
// inlined into every caller is only named there), leaves the finding
// unchecked unless one links the code.
func checkGoSymbols(ctx context.Context, root layerfs.RootFS, inv *inventory.Inventory, findings []match.Finding) {
	locations := map[string][]string{}
	for _, p := range inv.Packages {
		if len(p.Locations) > 0 {
			locations[goKey(p.Type, p.Name, p.Version, p.Locations[0])] = p.Locations
		}
	}
	byBinary := map[string][]int{}
	var bins []string
	for i := range findings {
		f := &findings[i]
		if f.Symbols == nil || f.Package.Location == "" || (f.Package.Type != "go-module" && f.Package.Type != "go-stdlib") {
			continue
		}
		locs := locations[goKey(f.Package.Type, f.Package.Name, f.Package.Version, f.Package.Location)]
		if len(locs) == 0 {
			locs = []string{f.Package.Location}
		}
		f.Symbols.Binaries = slices.Clone(locs)
		for _, l := range locs {
			if _, ok := byBinary[l]; !ok {
				bins = append(bins, l)
			}
			byBinary[l] = append(byBinary[l], i)
		}
	}
	read := map[int]int{} // finding -> binaries read
	for _, bin := range bins {
		if ctx.Err() != nil {
			return
		}
		idx := byBinary[bin]
		var imports []gosym.Import
		for _, i := range idx {
			imports = append(imports, findings[i].Symbols.Imports...)
		}
		tab, err := binarySymbols(root, bin, keeper(imports))
		if err != nil {
			continue
		}
		for _, i := range idx {
			gs := findings[i].Symbols
			linked, _ := gosym.Reachable(tab.Symbols, gs.Imports)
			gs.Linked = append(gs.Linked, linked...)
			if tab.Inlined {
				// Without the inline trees a name not found may be
				// inlined code: only a complete read counts.
				read[i]++
			}
		}
	}
	for i, n := range read {
		gs := findings[i].Symbols
		slices.Sort(gs.Linked)
		gs.Linked = slices.Compact(gs.Linked)
		gs.Reachable = len(gs.Linked) > 0
		gs.Checked = gs.Reachable || n == len(gs.Binaries)
	}
}

func goKey(typ, name, version, loc string) string {
	return typ + "\x00" + name + "\x00" + version + "\x00" + loc
}

// keeper accepts the package paths imports name, and every package of a
// whole module ("module/...").
func keeper(imports []gosym.Import) func(string) bool {
	paths := map[string]bool{}
	var mods []string
	for _, im := range imports {
		if m, ok := strings.CutSuffix(im.Path, "/..."); ok {
			mods = append(mods, m)
			continue
		}
		paths[im.Path] = true
	}
	return func(p string) bool {
		if paths[p] {
			return true
		}
		for _, m := range mods {
			if p == m || strings.HasPrefix(p, m+"/") {
				return true
			}
		}
		return false
	}
}

// binarySymbols opens the binary at loc (image-absolute) in root and reads
// the functions of the packages keep accepts.
func binarySymbols(root layerfs.RootFS, loc string, keep func(string) bool) (*gosym.Table, error) {
	name := strings.TrimPrefix(loc, "/")
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > maxSymbolBinary {
		return nil, fs.ErrInvalid
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return nil, fs.ErrInvalid
	}
	return gosym.Read(ra, keep)
}
