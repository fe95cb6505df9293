package match

import (
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// mavenVersion orders Maven versions the way Maven itself does
// (org.apache.maven.artifact.versioning.ComparableVersion, as shipped in
// Maven 3.8): the version is lowercased and read into a tree of items,
// numbers, qualifiers and sub-lists, and the trees are compared item by
// item. osv-scalibr's Maven parser follows the written version-order
// specification instead and differs from Maven on qualifiers after a dot
// ("5.0.0.RC1", "1.0.x") and on "_" separators; the oracle in
// testdata/oracle/maven.txt shows each case.
//
// The rules, as Maven applies them:
//   - "." separates items of one list; "-" starts a new sub-list; so does
//     a change between digits and letters ("1a1" is 1-a-1);
//   - an empty item is 0; numbers compare by value;
//   - qualifiers alpha < beta < milestone < rc < snapshot < "" < sp, then
//     any other qualifier, in string order; "a", "b", "m" directly
//     followed by a digit mean alpha, beta, milestone; "ga", "final",
//     "release" are "" and "cr" is rc;
//   - a qualifier after a dot counts as after a "-" when it ends the
//     version or a number follows it ("1.0.x" is 1.0-x, "5.0.0.RC1" is
//     5.0.0-RC-1);
//   - trailing nulls (0, "", empty lists) are dropped from every list,
//     innermost first;
//   - a number is greater than a qualifier or a list, a list greater than
//     a qualifier, and a missing item compares as null.
type mavenVersion struct{ items mavenList }

type mavenItemKind int

const (
	mavenInt mavenItemKind = iota
	mavenString
	mavenListKind
)

type mavenItem struct {
	kind mavenItemKind
	num  string     // mavenInt: digits without leading zeros, "0" for zero
	str  string     // mavenString: the qualifier after aliasing
	list *mavenList // mavenListKind
}

type mavenList struct{ items []mavenItem }

var _ semantic.Version = mavenVersion{}

// mavenQualifiers is Maven's qualifier order; the release ("") is index 5.
var mavenQualifiers = []string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

var mavenAliases = map[string]string{"ga": "", "final": "", "release": "", "cr": "rc"}

func newMavenString(s string, followedByDigit bool) mavenItem {
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	if a, ok := mavenAliases[s]; ok {
		s = a
	}
	return mavenItem{kind: mavenString, str: s}
}

func newMavenItem(isDigit bool, s string) mavenItem {
	if isDigit {
		s = strings.TrimLeft(s, "0")
		if s == "" {
			s = "0"
		}
		return mavenItem{kind: mavenInt, num: s}
	}
	return newMavenString(s, false)
}

var mavenZero = mavenItem{kind: mavenInt, num: "0"}

func parseMavenVersion(v string) mavenVersion {
	v = strings.ToLower(v)
	root := &mavenList{}
	list := root
	stack := []*mavenList{root}
	push := func() {
		l := &mavenList{}
		list.items = append(list.items, mavenItem{kind: mavenListKind, list: l})
		list = l
		stack = append(stack, l)
	}
	isDigit := false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.' || c == '-':
			if i == start {
				list.items = append(list.items, mavenZero)
			} else {
				list.items = append(list.items, newMavenItem(isDigit, v[start:i]))
			}
			start = i + 1
			if c == '-' {
				push()
			}
		case c >= '0' && c <= '9':
			if !isDigit && i > start {
				if len(list.items) > 0 {
					push() // ".X1" counts as "-X1"
				}
				list.items = append(list.items, newMavenString(v[start:i], true))
				start = i
				push()
			}
			isDigit = true
		default:
			if isDigit && i > start {
				list.items = append(list.items, newMavenItem(true, v[start:i]))
				start = i
				push()
			}
			isDigit = false
		}
	}
	if len(v) > start {
		if !isDigit && len(list.items) > 0 {
			push() // a trailing ".X" counts as "-X"
		}
		list.items = append(list.items, newMavenItem(isDigit, v[start:]))
	}
	for i := len(stack) - 1; i >= 0; i-- {
		stack[i].normalize()
	}
	return mavenVersion{items: *root}
}

func (it mavenItem) isNull() bool {
	switch it.kind {
	case mavenInt:
		return it.num == "0"
	case mavenString:
		return it.str == ""
	}
	return len(it.list.items) == 0
}

// normalize drops trailing null items, looking past sub-lists.
func (l *mavenList) normalize() {
	for i := len(l.items) - 1; i >= 0; i-- {
		switch it := l.items[i]; {
		case it.isNull():
			l.items = append(l.items[:i], l.items[i+1:]...)
		case it.kind != mavenListKind:
			return
		}
	}
}

func mavenComparableQualifier(q string) string {
	for i, k := range mavenQualifiers {
		if k == q {
			return string(rune('0' + i))
		}
	}
	return string(rune('0'+len(mavenQualifiers))) + "-" + q
}

func compareDigits(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// compare orders it against other; a nil other is the null item.
func (it mavenItem) compare(other *mavenItem) int {
	switch it.kind {
	case mavenInt:
		if other == nil {
			if it.num == "0" {
				return 0
			}
			return 1
		}
		if other.kind == mavenInt {
			return compareDigits(it.num, other.num)
		}
		return 1
	case mavenString:
		if other == nil {
			return strings.Compare(mavenComparableQualifier(it.str), mavenComparableQualifier(""))
		}
		if other.kind == mavenString {
			return strings.Compare(mavenComparableQualifier(it.str), mavenComparableQualifier(other.str))
		}
		return -1
	}
	if other == nil {
		// Every item counts against null, not only the first: 1-0.1 > 1.
		for _, x := range it.list.items {
			if c := x.compare(nil); c != 0 {
				return c
			}
		}
		return 0
	}
	switch other.kind {
	case mavenInt:
		return -1
	case mavenString:
		return 1
	}
	return it.list.compare(other.list)
}

func (l *mavenList) compare(o *mavenList) int {
	for i := 0; i < len(l.items) || i < len(o.items); i++ {
		var c int
		switch {
		case i >= len(l.items):
			c = -o.items[i].compare(nil)
		case i >= len(o.items):
			c = l.items[i].compare(nil)
		default:
			c = l.items[i].compare(&o.items[i])
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// Compare implements semantic.Version.
func (v mavenVersion) Compare(w semantic.Version) (int, error) {
	o, ok := w.(mavenVersion)
	if !ok {
		return 0, semantic.ErrNotSameEcosystem
	}
	return sign(v.items.compare(&o.items)), nil
}

// CompareStr implements semantic.Version.
func (v mavenVersion) CompareStr(s string) (int, error) {
	return v.Compare(parseMavenVersion(s))
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}
