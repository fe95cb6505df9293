package gosym

import (
	"slices"
	"strings"
)

// Import is one package an advisory names, as in the Go vulnerability
// database's affected[].ecosystem_specific.imports[]: its path and the
// vulnerable symbols ("Func", "Type.Method"). No symbols means the whole
// package. A Path ending in "/..." stands for a module and every package
// under it (a record that names no imports at all).
type Import struct {
	Path    string   `json:"path"`
	Symbols []string `json:"symbols,omitempty"`
}

// Names returns the vulnerable names imps stand for: "path.Symbol" for
// each symbol, the path alone for a whole package or module.
func Names(imps []Import) []string {
	var out []string
	for _, im := range imps {
		if len(im.Symbols) == 0 {
			out = append(out, im.Path)
			continue
		}
		for _, s := range im.Symbols {
			out = append(out, im.Path+"."+s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Reachable says which of imports' vulnerable symbols symbols (from
// Symbols or Filter) holds, as Names spells them, sorted; ok is true when
// any is linked. A whole package counts as linked when any function of
// it is; a whole module when any package of it is.
func Reachable(symbols map[string]bool, imports []Import) (linked []string, ok bool) {
	for _, im := range imports {
		switch {
		case strings.HasSuffix(im.Path, "/..."):
			mod := strings.TrimSuffix(im.Path, "/...")
			if moduleLinked(symbols, mod) {
				linked = append(linked, im.Path)
			}
		case len(im.Symbols) == 0:
			if symbols[im.Path] {
				linked = append(linked, im.Path)
			}
		default:
			for _, s := range im.Symbols {
				if symbols[im.Path+"."+s] {
					linked = append(linked, im.Path+"."+s)
				}
			}
		}
	}
	slices.Sort(linked)
	linked = slices.Compact(linked)
	return linked, len(linked) > 0
}

// moduleLinked says a package of module mod (its root or a path under
// it) has a function in symbols.
func moduleLinked(symbols map[string]bool, mod string) bool {
	if symbols[mod] {
		return true
	}
	for k := range symbols {
		if strings.HasPrefix(k, mod+"/") {
			return true
		}
	}
	return false
}
