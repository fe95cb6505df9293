package match

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/osv-scalibr/semantic"

	"github.com/runlens/runlens/internal/osv"
)

// debianVersions generates Debian versions that exercise dpkg's ordering:
// epochs, tildes (before anything, even the end), revisions, +dfsg repacks,
// ~rc pre-releases, letters, leading zeros, backport and Ubuntu suffixes;
// plus every version the real Debian and Ubuntu records in testdata name.
func debianVersions(t *testing.T) []string {
	epochs := []string{"", "1:", "2:"}
	upstreams := []string{
		"1.0", "1.0~rc1", "1.0~rc2", "1.0~~", "1.0~", "1.0+dfsg", "1.0+dfsg1", "1.0+dfsg~1",
		"1.0.1", "1.00", "1.0a", "1.0.0", "1.10", "1.9", "10.0", "1.0+really0.9", "0.9~beta1",
	}
	revisions := []string{
		"", "-1", "-1~deb12u1", "-1+deb12u1", "-0ubuntu1", "-0ubuntu0.22.04.1",
		"-1build1", "-1+b1", "-10", "-2", "-1~bpo12+1",
	}
	var out []string
	for _, e := range epochs {
		for _, u := range upstreams {
			for _, r := range revisions {
				out = append(out, e+u+r)
			}
		}
	}
	for _, v := range loadRecords(t, "testdata/osv") {
		for _, a := range v.Affected {
			if b := osv.BaseEcosystem(a.Package.Ecosystem); b != "Debian" && b != "Ubuntu" {
				continue
			}
			out = append(out, a.Versions...)
			for _, r := range a.Ranges {
				for _, ev := range r.Events {
					if ev.Introduced != "" && ev.Introduced != "0" {
						out = append(out, ev.Introduced)
					}
					if ev.Fixed != "" {
						out = append(out, ev.Fixed)
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dpkgCompare asks dpkg whether "a op b" holds.
func dpkgCompare(t *testing.T, a, op, b string) bool {
	err := exec.Command("dpkg", "--compare-versions", a, op, b).Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return false
	}
	t.Fatalf("dpkg --compare-versions %q %s %q: %v", a, op, b, err)
	return false
}

// needDpkg reports whether dpkg is installed. Outside CI a missing dpkg
// skips the test (testdata/oracle/debian.txt still checks the order); in CI
// (CI=true), where hack/test.sh installs dpkg, it fails the test.
func needDpkg(t *testing.T) bool {
	t.Helper()
	if _, err := exec.LookPath("dpkg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dpkg not installed with CI=true: hack/test.sh installs it; %v", err)
		}
		return false
	}
	return true
}

// TestDebianVersionsAgreeWithDpkg sorts the generated versions with
// osv-scalibr's semantic package and checks with dpkg that every adjacent
// pair is in dpkg's order too (which, by transitivity, proves the whole
// order), plus a fixed-seed sample of random pairs in both directions.
func TestDebianVersionsAgreeWithDpkg(t *testing.T) {
	if !needDpkg(t) {
		t.Skip("dpkg not installed: cannot check Debian version order against the native tool")
	}
	if testing.Short() {
		t.Skip("runs dpkg about 800 times")
	}
	vs := debianVersions(t)
	parsed := map[string]semantic.Version{}
	for _, v := range vs {
		p, err := parseVersion(v, "Debian:12")
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		parsed[v] = p
	}
	cmpv := func(a, b string) int {
		c, err := parsed[a].Compare(parsed[b])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sorted := slices.Clone(vs)
	slices.SortStableFunc(sorted, cmpv)
	ops := map[int]string{-1: "lt", 0: "eq", 1: "gt"}
	checked := 0
	check := func(a, b string) {
		c := cmpv(a, b)
		if !dpkgCompare(t, a, ops[c], b) {
			t.Errorf("semantic says %q %s %q; dpkg disagrees", a, ops[c], b)
		}
		checked++
	}
	for i := 1; i < len(sorted); i++ {
		check(sorted[i-1], sorted[i])
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		check(vs[r.IntN(len(vs))], vs[r.IntN(len(vs))])
	}
	t.Logf("%d versions, %d pairs agree with dpkg", len(vs), checked)
}

// TestDebianSyntax: the syntax gate rejects strings dpkg reports as bad
// syntax (checked with dpkg when installed) and accepts real versions.
func TestDebianSyntax(t *testing.T) {
	haveDpkg := needDpkg(t)
	for _, v := range []string{"", "abc", "1.0 beta", "1:", ":1.0", "x:1.0", "1.0-", "1.0-a_b", "1.0_1"} {
		if _, err := parseVersion(v, "Debian:12"); err == nil {
			t.Errorf("parseVersion(%q) accepted", v)
		}
		// dpkg --compare-versions treats "" as "not installed", not as bad syntax.
		if haveDpkg && v != "" {
			out, _ := exec.Command("dpkg", "--compare-versions", v, "eq", v).CombinedOutput()
			if !strings.Contains(string(out), "bad syntax") {
				t.Errorf("dpkg does not call %q bad syntax: %s", v, out)
			}
		}
	}
	for _, v := range []string{"1.0", "1:1.0-1", "2.9.4+dfsg1-2.2+deb9u7", "1.1.0l-1~deb9u6", "0.8.6-svn20061012.debian-5.1+etch3", "2.4-2ubuntu0.1~esm1"} {
		if _, err := parseVersion(v, "Ubuntu:22.04:LTS"); err != nil {
			t.Errorf("parseVersion(%q): %v", v, err)
		}
	}
	for _, v := range []string{"1.2.5-r1", "1.2.4_git20230717-r5", "1.36.1-r29", "3.0.12_p1-r0", "1.2.3a-r0", "2.0_rc1"} {
		if _, err := parseVersion(v, "Alpine:v3.20"); err != nil {
			t.Errorf("parseVersion(%q): %v", v, err)
		}
	}
	for _, v := range []string{"garbage!!", "1.2.3-rX!", "v1.2", "1.2-r", ""} {
		if _, err := parseVersion(v, "Alpine:v3.20"); err == nil {
			t.Errorf("parseVersion(%q) accepted as apk version", v)
		}
	}
}
