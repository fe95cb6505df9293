package match

import (
	"strings"

	"github.com/runlens/runlens/internal/gosym"
	"github.com/runlens/runlens/internal/osv"
)

// goImports returns the vulnerable imports of one affected entry of a Go
// vulnerability database record (ID GO-…): its
// ecosystem_specific.imports, or the whole module ("path/...") when it
// names none. Other records (GHSA, CVE) say nothing of symbols: nil.
func goImports(v *osv.Vulnerability, a *osv.Affected) []gosym.Import {
	if !strings.HasPrefix(v.ID, "GO-") || a.Package.Ecosystem != "Go" {
		return nil
	}
	raw, _ := a.EcosystemSpecific["imports"].([]any)
	var out []gosym.Import
	for _, r := range raw {
		m, _ := r.(map[string]any)
		path, _ := m["path"].(string)
		if path == "" {
			continue
		}
		im := gosym.Import{Path: path}
		syms, _ := m["symbols"].([]any)
		for _, s := range syms {
			if s, ok := s.(string); ok && s != "" {
				im.Symbols = append(im.Symbols, s)
			}
		}
		out = append(out, im)
	}
	if len(out) == 0 {
		if a.Package.Name == "stdlib" || a.Package.Name == "toolchain" {
			return nil // every binary links the standard library
		}
		out = []gosym.Import{{Path: a.Package.Name + "/..."}}
	}
	return out
}

// goSymbols is a finding's GoSymbols from its GO- records' imports (hits
// in display order), or nil when none names any. Only GO- records are
// read: a GHSA alias without imports does not widen them to the module.
func goSymbols(hits []hit, order []int) *GoSymbols {
	var gs *GoSymbols
	for _, i := range order {
		h := hits[i]
		if len(h.imports) == 0 {
			continue
		}
		if gs == nil {
			gs = &GoSymbols{Advisory: h.vuln.ID}
		}
		gs.Imports = append(gs.Imports, h.imports...)
	}
	if gs != nil {
		gs.Vulnerable = gosym.Names(gs.Imports)
	}
	return gs
}
