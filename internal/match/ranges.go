package match

import (
	"fmt"
	"slices"

	"github.com/google/osv-scalibr/semantic"

	"github.com/runlens/runlens/internal/osv"
)

// versionCache memoises parsed versions by scheme and text: the same event
// versions are compared against every package that shares a lookup.
// Parsed versions are immutable, so sharing them is safe.
type versionCache map[string]parsedVersion

type parsedVersion struct {
	v   semantic.Version
	err error
}

func (c versionCache) parse(scheme, s string) (semantic.Version, error) {
	if c == nil {
		return parseScheme(scheme, s)
	}
	k := scheme + "\x00" + s
	if p, ok := c[k]; ok {
		return p.v, p.err
	}
	v, err := parseScheme(scheme, s)
	c[k] = parsedVersion{v, err}
	return v, err
}

// parseScheme parses s as SemVer 2.0 when scheme is "SEMVER", else in the
// named ecosystem's rules.
func parseScheme(scheme, s string) (semantic.Version, error) {
	if scheme == "SEMVER" {
		return semantic.ParseSemverVersion(s), nil
	}
	return parseVersion(s, scheme)
}

// installed is a package version to compare, with its ecosystem.
type installed struct {
	raw       string
	ecosystem string // base ecosystem: version rules do not vary by release
	cache     versionCache
}

func newInstalled(version, ecosystem string, cache versionCache) *installed {
	return &installed{raw: version, ecosystem: osv.BaseEcosystem(ecosystem), cache: cache}
}

// parser returns the parse function and the parsed installed version for a
// range type. SEMVER ranges compare as SemVer 2.0 whatever the ecosystem.
func (iv *installed) parser(rangeType string) (func(string) (semantic.Version, error), semantic.Version, error) {
	scheme := iv.ecosystem
	if rangeType == "SEMVER" {
		scheme = "SEMVER"
	}
	pv, err := iv.cache.parse(scheme, iv.raw)
	if err != nil {
		return nil, nil, err
	}
	return func(s string) (semantic.Version, error) { return iv.cache.parse(scheme, s) }, pv, nil
}

// verdict is the outcome of evaluating one affected entry for a version.
type verdict struct {
	affected bool
	// fixed are the fixed events that end the interval holding the version,
	// one per matching range.
	fixed []string
	// errs are ranges that could not be evaluated.
	errs []string
}

type event struct {
	kind   int // evIntroduced, evFixed, evLastAffected, evLimit
	raw    string
	zero   bool // introduced "0": before every version
	parsed semantic.Version
}

const (
	evIntroduced = iota
	evFixed
	evLastAffected
	evLimit
)

// evaluate applies the OSV rules for one affected entry: the version is
// affected if the `versions` list names it or an ECOSYSTEM/SEMVER range holds
// it. GIT ranges compare commits, which an installed package does not have;
// they count only through the `versions` list.
func evaluate(a *osv.Affected, iv *installed, normalizeListed func(string) string) verdict {
	var v verdict
	for _, listed := range a.Versions {
		if normalizeListed(listed) == iv.raw {
			v.affected = true
			break
		}
	}
	for i := range a.Ranges {
		r := &a.Ranges[i]
		if r.Type != "ECOSYSTEM" && r.Type != "SEMVER" {
			continue
		}
		in, fix, err := inRange(r, iv)
		if err != nil {
			v.errs = append(v.errs, err.Error())
			continue
		}
		if in {
			v.affected = true
			if fix != "" {
				v.fixed = append(v.fixed, fix)
			}
		}
	}
	return v
}

// inRange evaluates one range per the OSV specification: events sorted by
// version ("introduced: 0" first), then walked, so the state after the
// walk is the state at the installed version. It returns whether the
// version is inside, and the fixed version that closes its interval.
func inRange(r *osv.Range, iv *installed) (bool, string, error) {
	parse, pv, err := iv.parser(r.Type)
	if err != nil {
		return false, "", fmt.Errorf("installed version %q: %w", iv.raw, err)
	}
	evs := make([]event, 0, len(r.Events))
	for _, e := range r.Events {
		ev := event{kind: -1}
		switch {
		case e.Introduced != "":
			ev.kind, ev.raw, ev.zero = evIntroduced, e.Introduced, e.Introduced == "0"
		case e.Fixed != "":
			ev.kind, ev.raw = evFixed, e.Fixed
		case e.LastAffected != "":
			ev.kind, ev.raw = evLastAffected, e.LastAffected
		case e.Limit != "":
			ev.kind, ev.raw = evLimit, e.Limit
		default:
			continue
		}
		if ev.raw == "*" && ev.kind == evLimit {
			continue // "limit: *" is no limit
		}
		if !ev.zero {
			p, err := parse(ev.raw)
			if err != nil {
				return false, "", fmt.Errorf("%s range event %q: %w", r.Type, ev.raw, err)
			}
			ev.parsed = p
		}
		evs = append(evs, ev)
	}
	var sortErr error
	slices.SortStableFunc(evs, func(a, b event) int {
		switch {
		case a.zero && b.zero:
			return 0
		case a.zero:
			return -1
		case b.zero:
			return 1
		}
		c, err := a.parsed.Compare(b.parsed)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c
	})
	if sortErr != nil {
		return false, "", fmt.Errorf("%s range: %w", r.Type, sortErr)
	}

	affected, fix := false, ""
	for _, ev := range evs {
		c := 1 // installed compared with the event: -1 <, 0 ==, 1 >
		if !ev.zero {
			c, err = pv.Compare(ev.parsed)
			if err != nil {
				return false, "", fmt.Errorf("%s range event %q: %w", r.Type, ev.raw, err)
			}
		}
		switch ev.kind {
		case evIntroduced:
			if c >= 0 {
				affected, fix = true, ""
			}
		case evFixed:
			if c >= 0 {
				affected = false
			} else if affected && fix == "" {
				fix = ev.raw
			}
		case evLastAffected:
			if c > 0 {
				affected = false
			}
		case evLimit:
			if c >= 0 {
				affected = false
			}
		}
	}
	if !affected {
		fix = ""
	}
	return affected, fix, nil
}
