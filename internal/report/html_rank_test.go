package report

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"golang.org/x/net/html"
)

// A document ranked by internal/risk renders its funnel, its ranking and
// its actions as they are in the document.
func TestHTMLOfRankedSample(t *testing.T) {
	doc := sampleDocument()
	if err := risk.Rank(doc, risk.Options{Now: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if len(doc.Risks) == 0 || doc.Summary.Risk == nil {
		t.Fatalf("ranking gave %d risks, funnel %v", len(doc.Risks), doc.Summary.Risk)
	}
	root := parseHTML(t, doc)
	f := doc.Summary.Risk
	want := map[string]string{"findings": fmt.Sprint(f.Findings), "urgent": fmt.Sprintf("%d / %d", f.Immediate, f.OutOfCycle)}
	if f.Running != nil {
		want["running"] = fmt.Sprint(*f.Running)
	}
	if f.Reachable != nil {
		want["reachable"] = fmt.Sprint(*f.Reachable)
	}
	want["in-use"] = "unknown — no runtime evidence"
	if f.InUse != nil {
		want["in-use"] = fmt.Sprint(*f.InUse)
	}
	funnels := findAll(byID(t, root, "funnel"), func(n *html.Node) bool { return hasClass(n, "funnel") })
	if len(funnels) != 1 {
		t.Errorf("%d funnels for a scan of one cluster, want the total only", len(funnels))
	}
	if got := stageValues(funnels[0]); !equalMaps(got, want) {
		t.Errorf("funnel shows %v, want %v", got, want)
	}
	rows := findAll(byID(t, root, "risk-table"), func(n *html.Node) bool { return hasClass(n, "risk") })
	var unsuppressed []result.Risk
	for _, r := range doc.Risks {
		if r.Suppressed == nil {
			unsuppressed = append(unsuppressed, r)
		}
	}
	if len(rows) != len(unsuppressed) {
		t.Fatalf("%d rows for %d risks", len(rows), len(unsuppressed))
	}
	for i, row := range rows {
		vuln := text(findAll(row, func(n *html.Node) bool { return hasClass(n, "vuln") })[0])
		if r := unsuppressed[i]; attr(row, "data-tier") != r.Tier || vuln != r.Vulnerability {
			t.Errorf("row %d: %s %s, want %s %s", i+1, attr(row, "data-tier"), vuln, r.Tier, r.Vulnerability)
		}
	}
	if n := len(findAll(root, func(n *html.Node) bool { return hasClass(n, "action") })); n != len(doc.Remediation) {
		t.Errorf("%d action rows for %d actions", n, len(doc.Remediation))
	}
	t.Logf("%d risks, %d findings (%d immediate, %d out-of-cycle), %d actions", len(doc.Risks), f.Findings, f.Immediate, f.OutOfCycle, len(doc.Remediation))
}

// Risks without a summary funnel are counted from the risks: unique
// findings by their most urgent unsuppressed tier.
func TestHTMLTiersWithoutFunnel(t *testing.T) {
	doc := rankedDocument()
	doc.Summary.Risk = nil
	root := parseHTML(t, doc)
	var got []string
	for _, c := range findAll(byID(t, root, "tiers"), func(n *html.Node) bool { return hasClass(n, "tier-card") }) {
		got = append(got, text(findAll(c, func(n *html.Node) bool { return hasClass(n, "tc-num") })[0]))
	}
	// log4j on two workloads is one finding; openssl of web 2.4.1
	// (scheduled) and of web 2.5.0 (out-of-cycle) are two.
	if want := []string{"2 findings", "3 findings", "3 findings", "3 findings"}; !slices.Equal(got, want) {
		t.Errorf("tier cards %q, want %q", got, want)
	}
	total := findAll(byID(t, root, "funnel"), func(n *html.Node) bool { return hasClass(n, "funnel") })[0]
	if got := stageValues(total)["findings"]; got != "12" {
		t.Errorf("findings stage %q, want 12", got)
	}
}
