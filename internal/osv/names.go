package osv

import "strings"

// BaseEcosystem strips the release suffix of an OSV ecosystem:
// "Debian:12" -> "Debian", "Ubuntu:22.04:LTS" -> "Ubuntu".
func BaseEcosystem(eco string) string {
	if i := strings.IndexByte(eco, ':'); i >= 0 {
		return eco[:i]
	}
	return eco
}

// NormalizeName returns the form of a package name under which advisories
// are indexed for the given ecosystem, so that a lookup finds an advisory
// however either side spelled the name. The vulnerability store keys its
// index with it.
//
// PyPI follows PEP 503 (lowercase, runs of "-", "_" and "." become "-",
// leading and trailing separators dropped); npm names are lowercased
// (registry names are lowercase, yet real GitHub advisories say "Axios");
// every other ecosystem compares names exactly.
func NormalizeName(ecosystem, name string) string {
	switch BaseEcosystem(ecosystem) {
	case "PyPI":
		return pep503(name)
	case "npm":
		return strings.ToLower(name)
	}
	return name
}

// FoldName is the form under which two package names of one ecosystem are
// the same package when an affected entry is compared with an installed
// package. It is NormalizeName, and also folds case where the registry
// itself is case-insensitive (NuGet, Packagist, crates.io); that only
// widens what counts as the same name after the index has returned the
// record, so two names NormalizeName joins are always joined here too.
func FoldName(ecosystem, name string) string {
	switch BaseEcosystem(ecosystem) {
	case "NuGet", "Packagist", "crates.io":
		return strings.ToLower(name)
	}
	return NormalizeName(ecosystem, name)
}

func pep503(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	if sep && b.Len() == 0 {
		return "-" // a name of only separators: keep it distinct from ""
	}
	return b.String()
}
