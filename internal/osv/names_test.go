package osv

import "testing"

func TestBaseEcosystem(t *testing.T) {
	for in, want := range map[string]string{
		"Debian:12": "Debian", "Ubuntu:Pro:16.04:LTS": "Ubuntu", "npm": "npm", "": "",
	} {
		if got := BaseEcosystem(in); got != want {
			t.Errorf("BaseEcosystem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ eco, in, want string }{
		{"PyPI", "Jinja2", "jinja2"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"PyPI", "Foo__Bar-.-baz", "foo-bar-baz"},
		{"PyPI", "-leading_", "leading"},
		{"PyPI", "._-", "-"},
		{"npm", "Axios", "axios"},
		{"npm", "@Scope/Pkg", "@scope/pkg"},
		{"Go", "github.com/Foo/Bar", "github.com/Foo/Bar"},
		{"Debian:12", "Libc6", "Libc6"},
		{"NuGet", "Newtonsoft.Json", "Newtonsoft.Json"},
	}
	for _, tc := range tests {
		if got := NormalizeName(tc.eco, tc.in); got != tc.want {
			t.Errorf("NormalizeName(%q, %q) = %q, want %q", tc.eco, tc.in, got, tc.want)
		}
	}
}

func TestFoldName(t *testing.T) {
	tests := []struct{ eco, in, want string }{
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
		{"Packagist", "Symfony/HTTP-Kernel", "symfony/http-kernel"},
		{"crates.io", "Serde", "serde"},
		{"PyPI", "Zope_Interface", "zope-interface"},
		{"npm", "Axios", "axios"},
		{"Maven", "Org.Example:Lib", "Org.Example:Lib"},
	}
	for _, tc := range tests {
		if got := FoldName(tc.eco, tc.in); got != tc.want {
			t.Errorf("FoldName(%q, %q) = %q, want %q", tc.eco, tc.in, got, tc.want)
		}
	}
	// Whatever the index joins, matching joins too, or a record the store
	// returns would be dropped as "another package".
	for _, p := range [][3]string{
		{"npm", "Axios", "axios"}, {"PyPI", "PyYAML", "pyyaml"}, {"PyPI", "a--b__c", "A.b-C"},
		{"PyPI", "-x-", "x"}, {"Go", "golang.org/x/text", "golang.org/x/text"},
	} {
		eco, a, b := p[0], p[1], p[2]
		if NormalizeName(eco, a) == NormalizeName(eco, b) && FoldName(eco, a) != FoldName(eco, b) {
			t.Errorf("%s: the index joins %q and %q, FoldName does not", eco, a, b)
		}
		for _, n := range []string{a, b} {
			if got, want := FoldName(eco, NormalizeName(eco, n)), FoldName(eco, n); got != want {
				t.Errorf("%s %q: FoldName of the indexed form is %q, of the name %q", eco, n, got, want)
			}
		}
	}
}
