package vulndb

import (
	"strings"
)

// NormalizeName returns the form of a package name under which the store
// indexes it for the given ecosystem, so that a lookup finds an advisory
// however either side spelled the name.
//
// PyPI follows PEP 503 (lowercase, runs of "-", "_" and "." become "-");
// npm names are lowercased (registry names are lowercase, yet real GitHub
// advisories say "Axios"); every other ecosystem compares names exactly.
func NormalizeName(ecosystem, name string) string {
	switch baseEcosystem(ecosystem) {
	case "PyPI":
		return pep503(name)
	case "npm":
		return strings.ToLower(name)
	}
	return name
}

// baseEcosystem strips the release suffix: "Debian:12" -> "Debian".
func baseEcosystem(eco string) string {
	if i := strings.IndexByte(eco, ':'); i >= 0 {
		return eco[:i]
	}
	return eco
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

// pkgKey is the index key of one (ecosystem, name) pair.
func pkgKey(ecosystem, name string) string {
	return ecosystem + "\x00" + NormalizeName(ecosystem, name)
}
