package vulndb

import "github.com/runlens/runlens/internal/osv"

// pkgKey is the index key of one (ecosystem, name) pair: the name is in
// the form osv.NormalizeName gives it, so a lookup finds an advisory
// however either side spelled the name.
func pkgKey(ecosystem, name string) string {
	return ecosystem + "\x00" + osv.NormalizeName(ecosystem, name)
}
