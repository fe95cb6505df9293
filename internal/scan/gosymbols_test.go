package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/gosym/gosymtest"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/vulndb"
)

const parseAcceptLanguage = "golang.org/x/text/language.ParseAcceptLanguage"

// textFindings returns the golang.org/x/text findings by location, and
// fails unless each carries vulnerable symbols.
func textFindings(t *testing.T, fs []match.Finding) map[string][]match.Finding {
	t.Helper()
	out := map[string][]match.Finding{}
	for _, f := range fs {
		if f.Package.Name != "golang.org/x/text" {
			continue
		}
		if f.Symbols == nil || len(f.Symbols.Vulnerable) == 0 {
			t.Errorf("%s at %s: no vulnerable symbols", f.ID, f.Package.Location)
			continue
		}
		out[f.Package.Location] = append(out[f.Package.Location], f)
	}
	return out
}

// The sample's acceptlang calls language.ParseAcceptLanguage: its x/text
// findings of GO-2021-0113 and GO-2022-1059 are checked and linked; the
// sample's unicode/norm advisory (GO-2026-5970) names functions that
// acceptlang does not link.
func TestSampleGoFindingsLinked(t *testing.T) {
	res := scanSample(t)
	got := textFindings(t, res.Findings)["/usr/local/bin/acceptlang"]
	seen := map[string]bool{}
	for _, f := range got {
		gs := f.Symbols
		seen[gs.Advisory] = true
		if !gs.Checked || !slices.Equal(gs.Binaries, []string{"/usr/local/bin/acceptlang"}) {
			t.Errorf("%s (%s): %+v, want checked in acceptlang", f.ID, gs.Advisory, gs)
		}
		switch gs.Advisory {
		case "GO-2021-0113", "GO-2022-1059":
			if !gs.Reachable || !slices.Contains(gs.Linked, parseAcceptLanguage) {
				t.Errorf("%s (%s): linked %v, want ParseAcceptLanguage", f.ID, gs.Advisory, gs.Linked)
			}
		case "GO-2026-5970":
			if gs.Reachable || len(gs.Linked) > 0 {
				t.Errorf("%s (%s): linked %v, want none", f.ID, gs.Advisory, gs.Linked)
			}
		}
	}
	if !seen["GO-2021-0113"] || !seen["GO-2022-1059"] {
		t.Errorf("advisories with symbols: %v", seen)
	}
}

// scanDir scans a directory holding the named programs under /bin
// against the sample's Go advisories.
func scanDir(t *testing.T, bins map[string]string) []match.Finding {
	return scanDirImage(t, bins).Findings
}

func scanDirImage(t *testing.T, bins map[string]string) *result.Image {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range bins {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bin", name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	dbDir := t.TempDir()
	if _, err := vulndb.Import(ctx, dbDir, vulndb.OSVDir("../../testdata/sample/advisories/osv/go")); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dbDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	img, err := image.OpenDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	s := &scan.Scanner{Advisories: db, TempDir: t.TempDir()}
	res, err := s.Scan(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Two programs built here with golang.org/x/text: one calls
// ParseAcceptLanguage, one only Tag.String; the scan tells them apart.
// In one image, the module version is one finding at both binaries,
// reachable because one of them links the code.
func TestGoBinariesToldApart(t *testing.T) {
	calls := gosymtest.Build(t, gosymtest.CallsParseAcceptLanguage, "-s -w")
	other := gosymtest.Build(t, gosymtest.CallsTagString, "-s -w")
	for _, c := range []struct {
		bins      map[string]string
		reachable bool
		binaries  []string
	}{
		{map[string]string{"calls": calls}, true, []string{"/bin/calls"}},
		{map[string]string{"other": other}, false, []string{"/bin/other"}},
		{map[string]string{"calls": calls, "other": other}, true, []string{"/bin/calls", "/bin/other"}},
	} {
		n := 0
		for _, fs := range textFindings(t, scanDir(t, c.bins)) {
			for _, f := range fs {
				gs := f.Symbols
				if gs.Advisory != "GO-2021-0113" && gs.Advisory != "GO-2022-1059" {
					continue
				}
				n++
				if !gs.Checked || gs.Reachable != c.reachable || !slices.Equal(gs.Binaries, c.binaries) {
					t.Errorf("%v, %s: %+v, want reachable %v", c.binaries, gs.Advisory, gs, c.reachable)
				}
				if c.reachable != slices.Contains(gs.Linked, parseAcceptLanguage) {
					t.Errorf("%v, %s: linked %v", c.binaries, gs.Advisory, gs.Linked)
				}
			}
		}
		if n != 2 {
			t.Errorf("%v: %d findings of GO-2021-0113 and GO-2022-1059, want 2", c.binaries, n)
		}
	}
}

// Ranked, the finding in the binary that does not link the vulnerable
// function has System Exposure small (source code) and ranks below the
// same finding in the binary that does.
func TestNotLinkedRanksLower(t *testing.T) {
	calls := scanDirImage(t, map[string]string{"calls": gosymtest.Build(t, gosymtest.CallsParseAcceptLanguage, "-s -w")})
	other := scanDirImage(t, map[string]string{"other": gosymtest.Build(t, gosymtest.CallsTagString, "-s -w")})
	calls.Target.Digest, other.Target.Digest = "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64)
	doc := result.New(result.NewHeader("scan image", "test", nil), []*result.Image{calls, other}, nil, nil)
	if err := risk.Rank(doc, risk.Options{}); err != nil {
		t.Fatal(err)
	}
	by := map[string]result.Risk{}
	for _, e := range doc.Risks {
		if e.Vulnerability == "CVE-2022-32149" {
			by[e.Package.Location] = e
		}
	}
	linked, unlinked := by["/bin/calls"], by["/bin/other"]
	if ex := unlinked.Decision.SystemExposure; ex.Value != "small" || ex.Source != result.SourceCode {
		t.Errorf("not linked: exposure %+v, want small (code)", ex)
	}
	if ex := linked.Decision.SystemExposure; ex.Source == result.SourceCode || !slices.Contains(linked.Reasons, "links "+parseAcceptLanguage) {
		t.Errorf("linked: exposure %+v, reasons %q", ex, linked.Reasons)
	}
	if unlinked.Score >= linked.Score {
		t.Errorf("not linked scores %.1f, linked %.1f", unlinked.Score, linked.Score)
	}
}
