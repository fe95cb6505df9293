package match

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// osv-scalibr's semantic parsers are lenient: an Alpine version of
// "garbage!!" parses (the rest is kept as an opaque remainder) and compares
// somewhere. For the distributions whose tools reject such strings, runlens
// rejects them too, so a damaged installed version is reported as a match
// error instead of silently compared.
var (
	// apk-tools version.c: digits, dot-separated; one letter; suffixes
	// _alpha _beta _pre _rc _cvs _svn _git _hg _p with optional numbers;
	// ~hash; -rN.
	apkVersion = regexp.MustCompile(`^\d+(\.\d+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(~[0-9a-f]+)?(-r\d+)?$`)
	// deb-version(7): [epoch:]upstream[-revision]; upstream starts with a
	// digit and may hold . + ~ - (the last "-" starts the revision).
	debVersion = regexp.MustCompile(`^(\d+:)?\d[A-Za-z0-9.+~-]*?(-[A-Za-z0-9.+~]+)?$`)
)

// parseVersion parses v in ecosystem with osv-scalibr's semantic package,
// after checking the syntax the distribution's own tool enforces.
func parseVersion(v, ecosystem string) (semantic.Version, error) {
	switch baseEcosystem(ecosystem) {
	case "Alpine":
		if !apkVersion.MatchString(v) {
			return nil, fmt.Errorf("%w: %q is not an apk version", semantic.ErrInvalidVersion, v)
		}
	case "Debian", "Ubuntu":
		if !debVersion.MatchString(v) || strings.HasSuffix(v, "-") {
			return nil, fmt.Errorf("%w: %q is not a Debian version", semantic.ErrInvalidVersion, v)
		}
	}
	return semantic.Parse(v, ecosystem)
}
