// Package gosymtest builds small Go programs against golang.org/x/text
// for tests of symbol reachability, offline: the module comes from the
// local module cache (GOPROXY=off), or the test is skipped saying so.
package gosymtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TextVersion is the golang.org/x/text version the programs require: it
// is affected by GO-2021-0113 and GO-2022-1059 (fixed in 0.3.7 and 0.3.8)
// and is kept in the module cache by other modules of this repository's
// tests.
const TextVersion = "v0.3.6"

// CallsParseAcceptLanguage is a program that calls the function both
// advisories name.
const CallsParseAcceptLanguage = `package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	tags, _, err := language.ParseAcceptLanguage(os.Args[len(os.Args)-1])
	fmt.Println(tags, err)
}
`

// CallsParse is a program that calls language.Parse, which GO-2021-0113
// names and which the compiler inlines into its caller: it is found only
// through the inline trees.
const CallsParse = `package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	t, err := language.Parse(os.Args[len(os.Args)-1])
	fmt.Println(t, err)
}
`

// CallsTagString is a program that imports golang.org/x/text/language
// but calls only Tag.String, which no advisory names.
const CallsTagString = `package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() {
	fmt.Println(language.English.String())
}
`

// Build compiles src as package main of a module requiring
// golang.org/x/text TextVersion, with ldflags (e.g. "-s -w"), and returns
// the executable's path. It skips the test when the go command or the
// module is not available offline.
func Build(t testing.TB, src, ldflags string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	dir := t.TempDir()
	mod := "module example.com/prog\n\ngo 1.22\n\nrequire golang.org/x/text " + TextVersion + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "prog")
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags="+ldflags, "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off",
		"GOTOOLCHAIN=local", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		if _, serr := os.Stat(filepath.Join(modCache(t, goBin), "golang.org/x/text@"+TextVersion)); serr != nil {
			t.Skipf("golang.org/x/text %s not in the module cache (offline): %s", TextVersion, b)
		}
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func modCache(t testing.TB, goBin string) string {
	b, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:len(b)-1])
}
