// Command gosemver is the Go oracle: golang.org/x/mod/semver, the package
// the go command orders module versions with. OSV's Go versions carry no
// "v", so one is added before asking. A version semver.IsValid rejects is
// invalid. See ../oracle_common.py for the protocol.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "sort":
		var good []string
		for _, v := range lines {
			if semver.IsValid("v" + v) {
				good = append(good, v)
			} else {
				fmt.Fprintf(w, "!\t%s\n", v)
			}
		}
		slices.SortStableFunc(good, func(a, b string) int { return semver.Compare("v"+a, "v"+b) })
		for _, v := range good {
			fmt.Fprintln(w, v)
		}
	case "cmp":
		for _, l := range lines {
			a, b, _ := strings.Cut(l, "\t")
			fmt.Fprintln(w, string("<=>"[semver.Compare("v"+a, "v"+b)+1]))
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: gosemver sort|cmp")
		os.Exit(2)
	}
}
