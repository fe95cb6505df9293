package match

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
)

// query is one advisory lookup planned for a package.
type query struct {
	ecosystem string // the OSV ecosystem looked up, with release
	name      string // the name looked up (source package for OS packages)
	version   string // the version compared against ranges
	bySource  bool   // name/version are the OS source package's
}

// osEcosystems are the distributions whose advisories are keyed by source
// package.
var osEcosystems = map[string]bool{
	"Debian": true, "Ubuntu": true, "Alpine": true, "AlmaLinux": true,
	"Rocky Linux": true, "Red Hat": true, "SUSE": true, "openSUSE": true,
	"Wolfi": true, "Chainguard": true, "Mageia": true, "openEuler": true,
}

// rpmEcosystems are the distributions whose versions are RPM's
// [epoch:]version-release.
var rpmEcosystems = map[string]bool{
	"AlmaLinux": true, "Rocky Linux": true, "Red Hat": true, "SUSE": true,
	"openSUSE": true, "Mageia": true, "openEuler": true,
}

// rpmSourceVersion gives an RPM source version the binary version's epoch
// when it has none: a source RPM's file name never carries the epoch, but
// one spec file sets it for the source and every binary package, and
// without it "3.0.7-27.el9" compares as epoch 0, below every fix that
// names epoch 1. An explicit source epoch is kept.
func rpmSourceVersion(binary, source string) string {
	epoch, _, ok := strings.Cut(binary, ":")
	if !ok || epoch == "" || strings.Trim(epoch, "0123456789") != "" || strings.Contains(source, ":") {
		return source
	}
	return epoch + ":" + source
}

var (
	debianRelease = regexp.MustCompile(`^Debian:(\d+)(?:\.\d+)*$`)
	alpineRelease = regexp.MustCompile(`^Alpine:v?(\d+)\.(\d+)(?:\.\d+)*$`)
)

// normalizeEcosystem maps what an extractor may write to the OSV spelling:
// "Debian:12.5" -> "Debian:12", "Alpine:3.20.3" -> "Alpine:v3.20". Debian
// releases before 7 were numbered "4.0", "5.0", "6.0", and OSV keeps that
// spelling ("Debian:4.0"), so those are left alone.
func normalizeEcosystem(eco string) string {
	if m := debianRelease.FindStringSubmatch(eco); m != nil {
		if major, _ := strconv.Atoi(m[1]); major < 7 {
			return eco
		}
		return "Debian:" + m[1]
	}
	if m := alpineRelease.FindStringSubmatch(eco); m != nil {
		return "Alpine:v" + m[1] + "." + m[2]
	}
	return eco
}

// ubuntuPro returns the Ubuntu Pro (ESM) ecosystem of an Ubuntu release:
// "Ubuntu:16.04:LTS" -> "Ubuntu:Pro:16.04:LTS". Canonical publishes fixes
// for releases past standard support only under the Pro ecosystem, so an
// image of such a release is vulnerable to those advisories whether or not
// it has Pro; the Pro fix version is still a fix (installable with Pro).
func ubuntuPro(eco string) (string, bool) {
	rest, ok := strings.CutPrefix(eco, "Ubuntu:")
	if !ok || strings.HasPrefix(rest, "Pro:") || rest == "" {
		return "", false
	}
	return "Ubuntu:Pro:" + rest, true
}

// isGoToolchain reports whether p is the Go toolchain that built a binary
// (recorded by extractors as "stdlib", or as osv-scalibr's "go").
func isGoToolchain(p *inventory.Package) bool {
	return p.Type == "go-stdlib" || p.Name == "stdlib" || p.Name == "go"
}

// errSkip marks a package that is deliberately not looked up.
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

// plan returns the lookups for one package, or an errSkip saying why there
// are none.
func plan(p *inventory.Package) ([]query, error) {
	if p.Version == inventory.VersionUnknown {
		// A program found without module information: any range that
		// starts at 0 would "affect" it, so it is never compared.
		return nil, errSkip{"version unknown"}
	}
	eco := normalizeEcosystem(strings.TrimSpace(p.Ecosystem))
	if eco == "" {
		return nil, errSkip{"no ecosystem"}
	}
	base := osv.BaseEcosystem(eco)
	switch {
	case osEcosystems[base]:
		q := query{ecosystem: eco, name: p.Name, version: p.Version}
		if p.SourceName != "" {
			q.name, q.bySource = p.SourceName, true
			if p.SourceVersion != "" {
				q.version = p.SourceVersion
				if rpmEcosystems[base] {
					q.version = rpmSourceVersion(p.Version, p.SourceVersion)
				}
			}
		}
		if q.version == "" {
			return nil, errSkip{"no version"}
		}
		qs := []query{q}
		if pro, ok := ubuntuPro(eco); ok {
			pq := q
			pq.ecosystem = pro
			qs = append(qs, pq)
		}
		return qs, nil
	case base == "Go":
		if isGoToolchain(p) {
			v, err := GoVersion(p.Version)
			if err != nil {
				return nil, errSkip{fmt.Sprintf("Go toolchain version %q: %v", p.Version, err)}
			}
			return []query{{ecosystem: "Go", name: "stdlib", version: v}}, nil
		}
		v := strings.TrimPrefix(p.Version, "v")
		if v == "" || v == "(devel)" {
			// A main module built from a checkout has no version to compare.
			return nil, errSkip{fmt.Sprintf("Go module version %q is not a release", p.Version)}
		}
		return []query{{ecosystem: "Go", name: p.Name, version: v}}, nil
	}
	if p.Version == "" {
		return nil, errSkip{"no version"}
	}
	return []query{{ecosystem: eco, name: p.Name, version: p.Version}}, nil
}
