package gosym_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/gosym"
	"github.com/runlens/runlens/internal/gosym/gosymtest"
)

// The imports of GO-2021-0113 (testdata/sample/advisories).
var go20210113 = []gosym.Import{{Path: "golang.org/x/text/language", Symbols: []string{"MatchStrings", "MustParse", "Parse", "ParseAcceptLanguage"}}}

func symbolsOf(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := gosym.Symbols(f)
	if err != nil {
		t.Fatal(err)
	}
	return syms
}

func TestReachableTellsBinariesApart(t *testing.T) {
	calls := symbolsOf(t, gosymtest.Build(t, gosymtest.CallsParseAcceptLanguage, "-s -w"))
	other := symbolsOf(t, gosymtest.Build(t, gosymtest.CallsTagString, "-s -w"))

	// Both link the package (stripped binaries keep their pclntab).
	for name, s := range map[string]map[string]bool{"calls": calls, "other": other} {
		if !s["golang.org/x/text/language"] || !s["main.main"] || !s["golang.org/x/text/language.Tag.String"] {
			t.Errorf("%s: package, main.main or Tag.String missing from %d symbols", name, len(s))
		}
	}
	linked, ok := gosym.Reachable(calls, go20210113)
	if !ok || !slices.Contains(linked, "golang.org/x/text/language.ParseAcceptLanguage") {
		t.Errorf("calling binary: linked %v, %v; want ParseAcceptLanguage", linked, ok)
	}
	if linked, ok := gosym.Reachable(other, go20210113); ok {
		t.Errorf("Tag.String binary: linked %v, want none", linked)
	}
	// A record naming the whole package, or the whole module, is reachable
	// from both.
	for _, imp := range [][]gosym.Import{{{Path: "golang.org/x/text/language"}}, {{Path: "golang.org/x/text/..."}}} {
		if _, ok := gosym.Reachable(other, imp); !ok {
			t.Errorf("%v not reachable from a binary that links the package", imp)
		}
	}
	if _, ok := gosym.Reachable(other, []gosym.Import{{Path: "golang.org/x/text/unicode/bidi"}}); ok {
		t.Error("an unlinked package reported reachable")
	}
}

// language.Parse is inlined into main.main: gone from the function table,
// it is found in the inline tree, stripped binary or not.
func TestInlinedFunctionsFound(t *testing.T) {
	for _, ldflags := range []string{"-s -w", ""} {
		f, err := os.Open(gosymtest.Build(t, gosymtest.CallsParse, ldflags))
		if err != nil {
			t.Fatal(err)
		}
		tab, err := gosym.Read(f, nil)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !tab.Inlined {
			t.Errorf("ldflags %q: inline trees not read", ldflags)
		}
		linked, ok := gosym.Reachable(tab.Symbols, go20210113)
		if !ok || !slices.Equal(linked, []string{"golang.org/x/text/language.Parse"}) {
			t.Errorf("ldflags %q: linked %v, want language.Parse (inlined)", ldflags, linked)
		}
	}
}

func TestFilterKeepsOnlyWantedPackages(t *testing.T) {
	f, err := os.Open(gosymtest.Build(t, gosymtest.CallsParseAcceptLanguage, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := gosym.Filter(f, func(p string) bool { return p == "golang.org/x/text/language" })
	if err != nil {
		t.Fatal(err)
	}
	if len(syms) < 3 || !syms["golang.org/x/text/language.ParseAcceptLanguage"] {
		t.Fatalf("filtered symbols %v", syms)
	}
	for k := range syms {
		if !strings.HasPrefix(k, "golang.org/x/text/language") {
			t.Errorf("kept %q", k)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct{ in, pkg, sym string }{
		{"golang.org/x/text/language.ParseAcceptLanguage", "golang.org/x/text/language", "ParseAcceptLanguage"},
		{"golang.org/x/text/language.(*Tag).String", "golang.org/x/text/language", "Tag.String"},
		{"golang.org/x/text/language.Tag.String", "golang.org/x/text/language", "Tag.String"},
		{"example.com/m.(*List[...]).Push", "example.com/m", "List.Push"},
		{"example.com/m.Map[go.shape.struct { example.com/x.A int }]", "example.com/m", "Map"},
		{"example.com/m.Serve.func1.2", "example.com/m", "Serve"},
		{"example.com/m.(*T).M.func3", "example.com/m", "T.M"},
		{"example.com/m.T.M-fm", "example.com/m", "T.M"},
		{"example.com/m.init.0", "example.com/m", "init"},
		{"example.com/m.Run.gowrap1", "example.com/m", "Run"},
		{"gopkg.in/yaml%2ev2.Unmarshal", "gopkg.in/yaml.v2", "Unmarshal"},
		{"net/http.(*Server).Serve", "net/http", "Server.Serve"},
		{"main.main", "main", "main"},
	} {
		pkg, sym, ok := gosym.Split(c.in)
		if !ok || pkg != c.pkg || sym != c.sym {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q", c.in, pkg, sym, ok, c.pkg, c.sym)
		}
	}
	for _, in := range []string{"type:.eq.example.com/m.T", "go:buildid", "noPackage", "example.com/m.func1"} {
		if pkg, sym, ok := gosym.Split(in); ok {
			t.Errorf("Split(%q) = %q, %q; want not ok", in, pkg, sym)
		}
	}
}
