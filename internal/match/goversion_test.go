package match

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/osv-scalibr/semantic"
)

func TestGoVersion(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"go1.20.3", "1.20.3", nil},
		{"1.20.3", "1.20.3", nil}, // osv-scalibr strips "go"
		{"go1.20", "1.20.0", nil},
		{"go1", "1.0.0", nil},
		{"go1.21rc2", "1.21.0-rc.2", nil},
		{"go1.9beta1", "1.9.0-beta.1", nil},
		{"1.21.0-rc.2", "1.21.0-rc.2", nil},
		{"go1.22.0 X:boringcrypto", "1.22.0", nil},
		{"go1.23.4-bigcorp", "1.23.4", nil},
		{"go1.20.03", "1.20.3", nil},
		{"devel go1.23-abcdef Tue Jan 2", "", ErrGoDevel},
		{"(devel)", "", ErrGoDevel},
		{"go1.20-pre3", "", ErrGoDevel},
		{"", "", ErrGoVersion},
		{"go2.0", "", ErrGoVersion},
		{"go1.20.3.4", "", ErrGoVersion},
		{"go1.x", "", ErrGoVersion},
		{"go1.21rc", "", ErrGoVersion},
		{"gopher", "", ErrGoVersion},
	}
	for _, tt := range tests {
		got, err := GoVersion(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("GoVersion(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// TestGoVersionOrder: normalised toolchain versions order the way Go
// releases do under SemVer, which the Go vulnerability database assumes.
func TestGoVersionOrder(t *testing.T) {
	order := []string{"go1.9beta1", "go1.9rc1", "go1.9", "go1.9.1", "go1.20rc1", "go1.20", "go1.20.3", "go1.21rc2", "go1.21.0"}
	var prev semantic.Version
	for _, s := range order {
		v, err := GoVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		cur := semantic.ParseSemverVersion(v)
		if prev != nil {
			if c, _ := prev.Compare(cur); c >= 0 {
				t.Errorf("%s (%s) does not sort after the previous version", s, v)
			}
		}
		prev = cur
	}
}

var goSemver = regexp.MustCompile(`^1\.\d+\.\d+(-(rc|beta|alpha)\.\d+)?$`)

// FuzzGoVersion: GoVersion never panics, and what it returns is always a
// three-part SemVer of Go 1 with at most a Go prerelease, stable under a
// second pass.
func FuzzGoVersion(f *testing.F) {
	for _, s := range []string{"go1.20.3", "1.21.0-rc.2", "go1.21rc2", "devel go1.23-abc", "go1.22.0 X:boringcrypto", "go1.23.4-bigcorp", "(devel)", "go1.20-pre3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := GoVersion(s)
		if err != nil {
			if v != "" {
				t.Errorf("GoVersion(%q) = %q with error %v", s, v, err)
			}
			return
		}
		if !goSemver.MatchString(v) {
			t.Errorf("GoVersion(%q) = %q, not a Go SemVer", s, v)
		}
		again, err := GoVersion(v)
		if err != nil || again != v {
			t.Errorf("GoVersion(%q) = %q, %v; not stable", v, again, err)
		}
	})
}

// FuzzParseVersionSyntax: the hand-written apk and deb syntax gates never
// panic, and what they accept osv-scalibr parses and compares with itself.
func FuzzParseVersionSyntax(f *testing.F) {
	for _, s := range []string{"1.2.5-r1", "1.2.4_git20230717-r5", "1:1.0-1", "2.9.4+dfsg1-2.2+deb9u7", "1.0~rc1", "garbage!!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 || strings.ContainsRune(s, 0) {
			return
		}
		for _, eco := range []string{"Alpine:v3.20", "Debian:12"} {
			v, err := parseVersion(s, eco)
			if err != nil {
				continue
			}
			if c, err := v.CompareStr(s); err != nil || c != 0 {
				t.Errorf("%s %q: compares to itself as %d, %v", eco, s, c, err)
			}
		}
	})
}
