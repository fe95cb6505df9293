package match

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// errComposerBranch is returned for a Composer branch version ("dev-main"):
// Composer orders no branch against a release, so no advisory range can
// be evaluated for it.
var errComposerBranch = errors.New("a Composer branch has no order against releases")

// Composer's version grammar (composer/semver's VersionParser): a
// "classical" version of up to four numbers or a date, then an optional
// stability modifier and "-dev".
const composerModifier = `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?`

var (
	composerClassical = regexp.MustCompile(`(?i)^v?(\d{1,5})(\.\d+)?(\.\d+)?(\.\d+)?` + composerModifier + `$`)
	composerDate      = regexp.MustCompile(`(?i)^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)` + composerModifier + `$`)
	composerBuild     = regexp.MustCompile(`^([^,\s+]+)\+\S+$`)
	composerDevBranch = regexp.MustCompile(`(?i)^(.*?)[.-]?dev$`)
	composerNumBranch = regexp.MustCompile(`(?i)^v?(\d+)(\.(?:\d+|[x*]))?(\.(?:\d+|[x*]))?(\.(?:\d+|[x*]))?$`)
	nonDigit          = regexp.MustCompile(`\D`)
)

var composerStability = map[string]string{"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}

// normalizeComposer is Composer's normalisation of a version before it
// compares one: "v1.0" -> "1.0.0.0", "1.0-beta2" -> "1.0.0.0-beta2",
// "1.0RC1" -> "1.0.0.0-RC1", "1.x-dev" -> "1.9999999.9999999.9999999-dev".
// Build metadata is dropped. Composer rejects what it cannot normalise;
// so does runlens.
func normalizeComposer(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "master" || v == "trunk" || v == "default" || len(v) >= 4 && strings.EqualFold(v[:4], "dev-") {
		return "", errComposerBranch
	}
	if m := composerBuild.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	var base string
	var mod []string
	if m := composerClassical.FindStringSubmatch(v); m != nil {
		base = m[1]
		for _, part := range m[2:5] {
			if part == "" {
				part = ".0"
			}
			base += part
		}
		mod = m[5:]
	} else if m := composerDate.FindStringSubmatch(v); m != nil {
		base, mod = nonDigit.ReplaceAllString(m[1], "."), m[2:]
	} else if m := composerDevBranch.FindStringSubmatch(v); m != nil {
		if b := composerNumBranch.FindStringSubmatch(strings.TrimSpace(m[1])); b != nil {
			out := ""
			for _, part := range b[1:] {
				if part == "" {
					part = ".x"
				}
				out += strings.NewReplacer("*", "x", "X", "x").Replace(part)
			}
			return strings.ReplaceAll(out, "x", "9999999") + "-dev", nil
		}
		return "", errComposerBranch
	} else {
		return "", fmt.Errorf("%w: %q is not a Composer version", semantic.ErrInvalidVersion, v)
	}
	if stability := mod[0]; stability != "" {
		if stability == "stable" {
			return base, nil
		}
		s := strings.ToLower(stability)
		if e, ok := composerStability[s]; ok {
			s = e
		}
		base += "-" + s + strings.TrimLeft(mod[1], ".-")
	}
	if mod[2] != "" {
		base += "-dev"
	}
	return base, nil
}

// parseComposer normalises v as Composer does; the result orders as
// Composer's comparator (PHP's version_compare) orders it. Without the
// normalisation "1.0" and "1.0.0" differ, and "v1.0-beta" sorts apart from
// "1.0.0-beta", as they do under osv-scalibr's Packagist parser.
func parseComposer(v string) (semantic.Version, error) {
	n, err := normalizeComposer(v)
	if err != nil {
		return nil, err
	}
	return composerVersion{parts: phpVersionParts(n)}, nil
}

// composerVersion is a normalised Composer version split the way PHP's
// version_compare splits it.
type composerVersion struct{ parts []string }

var _ semantic.Version = composerVersion{}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

func isAlnumByte(c byte) bool {
	return isDigitByte(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// phpVersionParts splits v as version_compare does: "-", "_", "+" and
// other punctuation separate parts, and so does every change between
// digits and letters ("1.0rc1" is 1, 0, rc, 1).
func phpVersionParts(v string) []string {
	var parts []string
	cur := ""
	flush := func() {
		if cur != "" {
			parts = append(parts, cur)
			cur = ""
		}
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case !isAlnumByte(c):
			flush()
		case cur != "" && isDigitByte(cur[len(cur)-1]) != isDigitByte(c):
			flush()
			cur = string(c)
		default:
			cur += string(c)
		}
	}
	flush()
	return parts
}

// phpSpecialOrder is version_compare's order of the words a version may
// hold; "#" stands for a number, and a word that starts with none of
// them sorts before all.
var phpSpecialOrder = []struct {
	prefix string
	order  int
}{
	{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2}, {"RC", 3}, {"rc", 3}, {"#", 4}, {"pl", 5}, {"p", 5},
}

func phpSpecial(s string) int {
	for _, f := range phpSpecialOrder {
		if strings.HasPrefix(s, f.prefix) {
			return f.order
		}
	}
	return -1
}

// comparePHPParts is version_compare on split versions.
func comparePHPParts(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		var c int
		switch dx, dy := isDigitByte(x[0]), isDigitByte(y[0]); {
		case dx && dy:
			c = compareDigits(strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0"))
		case dx:
			c = sign(phpSpecial("#") - phpSpecial(y))
		case dy:
			c = sign(phpSpecial(x) - phpSpecial("#"))
		default:
			c = sign(phpSpecial(x) - phpSpecial(y))
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case len(a) > len(b):
		if isDigitByte(a[len(b)][0]) {
			return 1
		}
		return comparePHPParts(a[len(b):], []string{"#"})
	case len(a) < len(b):
		if isDigitByte(b[len(a)][0]) {
			return -1
		}
		return comparePHPParts([]string{"#"}, b[len(a):])
	}
	return 0
}

// Compare implements semantic.Version.
func (v composerVersion) Compare(w semantic.Version) (int, error) {
	o, ok := w.(composerVersion)
	if !ok {
		return 0, semantic.ErrNotSameEcosystem
	}
	return comparePHPParts(v.parts, o.parts), nil
}

// CompareStr implements semantic.Version.
func (v composerVersion) CompareStr(s string) (int, error) {
	o, err := parseComposer(s)
	if err != nil {
		return 0, err
	}
	return v.Compare(o)
}
