package archtest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// outsideRef matches references a reader of the repository cannot follow:
// the name of a design document that is not in the repository, and tracker
// numbers written as the word for a tracker entry followed by a number
// (with or without a hyphen, space or "#"). The patterns are assembled from
// parts so that this file does not match itself.
var outsideRef = regexp.MustCompile(`(?i)` + `design` + `\.md` + `|` + `\bdesign` + ` bad` + `|` + `\bissues?[- ]?#?[0-9]`)

// TestNoOutsideReferences fails when a tracked file (test data included)
// cites the missing design document or a tracker entry by number. Say what is
// meant in the repository's own words instead: cite docs/security.md by
// its rule labels ("rule L4"), name a benchmark by what it measures ("the
// database-at-scale targets").
func TestNoOutsideReferences(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	root := strings.TrimSpace(string(top))
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	checked := 0
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue // binary
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			if m := outsideRef.FindString(line); m != "" {
				t.Errorf("%s:%d: %q cites something outside the repository: say it in the project's own words", name, i+1, m)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no tracked files checked")
	}
}

func TestOutsideRefPattern(t *testing.T) {
	word := "iss" + "ue"
	doc := "DESI" + "GN"
	for _, s := range []string{
		"see " + doc + ".md, convention 9",
		"(" + doc + " bad input 4)",
		"# " + word + " 3: the database at scale",
		word + "-3 benchmark",
		"as in " + word + "s 2 and 3",
		"upstream " + word + " #209",
		"the " + strings.ToUpper(word) + " 5 targets",
	} {
		if !outsideRef.MatchString(s) {
			t.Errorf("%q not flagged", s)
		}
	}
	for _, s := range []string{
		"layer " + word + "s are reported",
		"/etc/" + word + ".net",
		"https://github.com/kubescape/kubescape/" + word + "s/209",
		"a one-shot scan " + word + "s few, large lists",
		"cite docs/security.md, rule L4",
	} {
		if outsideRef.MatchString(s) {
			t.Errorf("%q flagged", s)
		}
	}
}
