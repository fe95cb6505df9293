package risk

import (
	"slices"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// goSymbols is the symbol check of GO-2022-1059 in /usr/local/bin/acceptlang.
func goSymbols(linked ...string) *match.GoSymbols {
	return &match.GoSymbols{
		Checked: true, Advisory: "GO-2022-1059",
		Vulnerable: []string{"golang.org/x/text/language.MatchStrings", "golang.org/x/text/language.ParseAcceptLanguage"},
		Linked:     linked, Reachable: len(linked) > 0,
		Binaries: []string{"/usr/local/bin/acceptlang"},
	}
}

// goDoc ranks one x/text finding per symbol check, each in its own image
// run by an internet-facing workload.
func goDoc(t *testing.T, checks ...*match.GoSymbols) []result.Risk {
	t.Helper()
	f := facts{exploitation: "active", automatable: "yes", impact: "total", exposure: "internet", class: ClassTakeover, epss: 0.5, cvss: 7.5}
	fs := make([]facts, len(checks))
	for i := range fs {
		fs[i] = f
	}
	doc := docOf(fs...)
	for i, gs := range checks {
		fd := &doc.Images[i].Findings[0]
		fd.Package = match.PackageRef{Name: "golang.org/x/text", Version: "0.3.5", Ecosystem: "Go", Type: "go-module",
			PURL: "pkg:golang/golang.org/x/text@0.3.5", Location: "/usr/local/bin/acceptlang"}
		fd.Symbols = gs
	}
	if err := Rank(doc, Options{}); err != nil {
		t.Fatal(err)
	}
	out := make([]result.Risk, len(checks))
	for _, e := range doc.Risks {
		for i := range doc.Images {
			if e.Vulnerability == doc.Images[i].Findings[0].ID {
				out[i] = e
			}
		}
	}
	return out
}

func TestNotLinkedLowersSystemExposure(t *testing.T) {
	es := goDoc(t, goSymbols("golang.org/x/text/language.ParseAcceptLanguage"), goSymbols(), nil, &match.GoSymbols{Advisory: "GO-2022-1059"})
	linked, unlinked, none, unchecked := es[0], es[1], es[2], es[3]

	ex := unlinked.Decision.SystemExposure
	if ex.Value != "small" || ex.Source != result.SourceCode {
		t.Fatalf("not linked: exposure %+v, want small from code", ex)
	}
	wantBasis := "GO-2022-1059: golang.org/x/text/language.MatchStrings, golang.org/x/text/language.ParseAcceptLanguage not linked into /usr/local/bin/acceptlang"
	if len(ex.Basis) < 2 || ex.Basis[0] != wantBasis || ex.Basis[1] != "was open (workload)" {
		t.Errorf("basis %q, want %q and the exposure it replaced", ex.Basis, wantBasis)
	}
	if !slices.Contains(unlinked.Reasons, "code: "+wantBasis) || unlinked.Suppressed != nil {
		t.Errorf("not linked: reasons %q, suppressed %v; want the reason, kept", unlinked.Reasons, unlinked.Suppressed)
	}
	for name, e := range map[string]result.Risk{"linked": linked, "no symbols": none, "unchecked": unchecked} {
		if e.Decision.SystemExposure.Value != "open" {
			t.Errorf("%s: exposure %+v, want open", name, e.Decision.SystemExposure)
		}
		if unlinked.Score >= e.Score || tierRank(unlinked.Tier) < tierRank(e.Tier) {
			t.Errorf("not linked (%s %.1f) not below %s (%s %.1f)", unlinked.Tier, unlinked.Score, name, e.Tier, e.Score)
		}
	}
	if linked.Tier != result.TierImmediate || unlinked.Tier == result.TierImmediate {
		t.Errorf("tiers: linked %s, not linked %s; want immediate and lower", linked.Tier, unlinked.Tier)
	}
	if !slices.Contains(linked.Reasons, "links golang.org/x/text/language.ParseAcceptLanguage") {
		t.Errorf("linked: reasons %q", linked.Reasons)
	}
	for _, r := range append(none.Reasons, unchecked.Reasons...) {
		if strings.Contains(r, "link") {
			t.Errorf("unchecked finding says %q", r)
		}
	}
}

// tierRank orders tiers most urgent first.
func tierRank(t string) int {
	return slices.Index([]string{result.TierImmediate, result.TierOutOfCycle, result.TierScheduled, result.TierDefer}, t)
}
