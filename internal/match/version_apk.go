package match

import (
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// apkVersionOrder orders Alpine (and Wolfi, Chainguard) package versions
// as apk does. osv-scalibr's Alpine parser pads missing numbers with zeros
// ("1.0" == "1.0.0"; apk: "1.0" < "1.0.0"), sorts a missing suffix like
// "_cvs" and mis-orders "~hash" against "-r"; testdata/oracle/alpine.txt
// shows each case.
//
// A version, number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}
// (apk-package(5)), is read as a sequence of tokens, compared pairwise
// while both versions have a token of the same kind:
//   - the first number by value; a later number by value unless either
//     starts with "0", then as strings;
//   - the letter, the hash as strings; suffixes in the order alpha < beta
//     < pre < rc < cvs < svn < git < hg < p; suffix numbers and the
//     revision by value.
//
// When the kinds differ (or one version ends), a pre-release suffix
// (alpha, beta, pre, rc) sorts first; otherwise the version whose token
// comes later in the order number, letter, suffix, suffix number, hash,
// revision, end is the lower one: "1.0" < "1.0-r1" < "1.0.1".
type apkVersionOrder struct{ tokens []apkToken }

type apkTokenKind int

const (
	apkFirst apkTokenKind = iota
	apkNumber
	apkLetter
	apkSuffix
	apkSuffixNumber
	apkHash
	apkRevision
	apkEnd
)

type apkToken struct {
	kind apkTokenKind
	raw  string // digits, letter or hash as written
	rank int    // apkSuffix: position in apkSuffixes
}

var _ semantic.Version = apkVersionOrder{}

// apkSuffixes in apk's order; index apkPreReleases and after are not
// pre-releases.
var apkSuffixes = []string{"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"}

const apkPreReleases = 4

func leadingDigits(s string) (string, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}

// parseAPKOrder tokenises v, which apkVersion has already accepted.
func parseAPKOrder(v string) apkVersionOrder {
	var ts []apkToken
	d, rest := leadingDigits(v)
	ts = append(ts, apkToken{kind: apkFirst, raw: d})
	for strings.HasPrefix(rest, ".") {
		d, rest = leadingDigits(rest[1:])
		ts = append(ts, apkToken{kind: apkNumber, raw: d})
	}
	if rest != "" && rest[0] >= 'a' && rest[0] <= 'z' {
		ts = append(ts, apkToken{kind: apkLetter, raw: rest[:1]})
		rest = rest[1:]
	}
	for strings.HasPrefix(rest, "_") {
		rest = rest[1:]
		for i, s := range apkSuffixes {
			// "p" is a prefix of "pre": take the longest name that
			// is followed by a digit or the end of the suffix.
			if after, ok := strings.CutPrefix(rest, s); ok && (after == "" || after[0] < 'a' || after[0] > 'z') {
				ts = append(ts, apkToken{kind: apkSuffix, raw: s, rank: i})
				rest = after
				break
			}
		}
		if d, r := leadingDigits(rest); d != "" {
			ts = append(ts, apkToken{kind: apkSuffixNumber, raw: d})
			rest = r
		}
	}
	if h, ok := strings.CutPrefix(rest, "~"); ok {
		h, rest, _ = strings.Cut(h, "-")
		if rest != "" {
			rest = "-" + rest
		}
		ts = append(ts, apkToken{kind: apkHash, raw: h})
	}
	if r, ok := strings.CutPrefix(rest, "-r"); ok {
		ts = append(ts, apkToken{kind: apkRevision, raw: r})
	}
	ts = append(ts, apkToken{kind: apkEnd})
	return apkVersionOrder{tokens: ts}
}

func (t apkToken) compare(o apkToken) int {
	switch t.kind {
	case apkNumber:
		if t.raw[0] == '0' || o.raw[0] == '0' {
			return strings.Compare(t.raw, o.raw)
		}
		return compareDigits(strings.TrimLeft(t.raw, "0"), strings.TrimLeft(o.raw, "0"))
	case apkFirst, apkSuffixNumber, apkRevision:
		return compareDigits(strings.TrimLeft(t.raw, "0"), strings.TrimLeft(o.raw, "0"))
	case apkSuffix:
		return sign(t.rank - o.rank)
	}
	return strings.Compare(t.raw, o.raw)
}

func (v apkVersionOrder) compare(w apkVersionOrder) int {
	for i := 0; i < len(v.tokens) && i < len(w.tokens); i++ {
		a, b := v.tokens[i], w.tokens[i]
		if a.kind != b.kind {
			switch {
			case a.kind == apkSuffix && a.rank < apkPreReleases:
				return -1
			case b.kind == apkSuffix && b.rank < apkPreReleases:
				return 1
			case a.kind > b.kind:
				return -1
			}
			return 1
		}
		if a.kind == apkEnd {
			return 0
		}
		if c := a.compare(b); c != 0 {
			return sign(c)
		}
	}
	return 0
}

// Compare implements semantic.Version.
func (v apkVersionOrder) Compare(w semantic.Version) (int, error) {
	o, ok := w.(apkVersionOrder)
	if !ok {
		return 0, semantic.ErrNotSameEcosystem
	}
	return v.compare(o), nil
}

// CompareStr implements semantic.Version.
func (v apkVersionOrder) CompareStr(s string) (int, error) {
	o, err := parseVersion(s, "Alpine")
	if err != nil {
		return 0, err
	}
	return v.Compare(o)
}
