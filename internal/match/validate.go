package match

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/osv-scalibr/semantic"

	"github.com/runlens/runlens/internal/osv"
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
	// digit and may hold . + ~ - (the last "-" starts the revision), and
	// ":" when an epoch is given, as dpkg accepts.
	debVersion = regexp.MustCompile(`^(\d+:\d[A-Za-z0-9.+~:-]*?|\d[A-Za-z0-9.+~-]*?)(-[A-Za-z0-9.+~]+)?$`)
	// PEP 440's version pattern (case-insensitive, surrounding spaces
	// allowed), as pip and packaging accept it: [N!]N(.N)*[{a|b|rc}N]
	// [.postN][.devN][+local], with the spellings PEP 440 normalises.
	pep440Version = regexp.MustCompile(`(?i)^\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
		`(?:[-_.]?(?:alpha|a|beta|b|preview|pre|c|rc)[-_.]?[0-9]*)?` +
		`(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?` +
		`(?:[-_.]?dev[-_.]?[0-9]*)?` +
		`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$`)
	// Gem::Version's pattern: numbers first, then dot-separated segments
	// and an optional "-" pre-release; surrounding spaces are allowed.
	gemVersion = regexp.MustCompile(`^\s*[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\s*$`)
)

// parseVersion parses v in ecosystem's version rules, after checking the
// syntax the ecosystem's own tool enforces. Most schemes are osv-scalibr's
// semantic package; where it orders versions differently from the native
// tool (testdata/oracle), runlens has its own: Maven, apk, Composer, and
// RubyGems' "-" pre-releases.
func parseVersion(v, ecosystem string) (semantic.Version, error) {
	switch osv.BaseEcosystem(ecosystem) {
	case "Alpine", "Wolfi", "Chainguard":
		if !apkVersion.MatchString(v) {
			return nil, fmt.Errorf("%w: %q is not an apk version", semantic.ErrInvalidVersion, v)
		}
		return parseAPKOrder(v), nil
	case "Debian", "Ubuntu":
		if !debVersion.MatchString(v) || strings.HasSuffix(v, "-") {
			return nil, fmt.Errorf("%w: %q is not a Debian version", semantic.ErrInvalidVersion, v)
		}
	case "Maven":
		return parseMavenVersion(v), nil
	case "PyPI":
		if !pep440Version.MatchString(v) {
			return nil, fmt.Errorf("%w: %q is not a PEP 440 version", semantic.ErrInvalidVersion, v)
		}
	case "Packagist":
		return parseComposer(v)
	case "RubyGems":
		if !gemVersion.MatchString(v) {
			return nil, fmt.Errorf("%w: %q is not a RubyGems version", semantic.ErrInvalidVersion, v)
		}
		// Gem::Version reads "1.0-rc1" as "1.0.pre.rc1".
		return semantic.ParseRubyGemsVersion(strings.ReplaceAll(strings.TrimSpace(v), "-", ".pre.")), nil
	}
	return semantic.Parse(v, ecosystem)
}

// CompareVersions orders versions a and b by the rules of ecosystem (an
// OSV ecosystem, release suffix allowed): negative when a < b, 0 when
// equal, positive when a > b. An error names a version that does not
// parse there.
func CompareVersions(ecosystem, a, b string) (int, error) {
	va, err := parseVersion(a, ecosystem)
	if err != nil {
		return 0, err
	}
	return va.CompareStr(b)
}
