package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/result"
)

// riskCheckExplain: `runlens explain` prints storefront's decision path: the
// table row and each input with its source.
func riskCheckExplain(t *testing.T, cli *cli, doc *result.Document, saved string) {
	t.Helper()
	var a *result.Risk
	for i := range doc.Risks {
		if r := &doc.Risks[i]; r.Vulnerability == riskKEV && r.Namespace+"/"+r.Workload == riskStorefront {
			a = r
		}
	}
	code, out, stderr := cli.run("", "explain", a.ID, "--input", saved)
	if code != exitOK {
		t.Errorf("explain %s: exit %d\n%s%s", a.ID, code, out, stderr)
		return
	}
	d := a.Decision
	for _, want := range []string{a.ID, riskKEV, riskStorefront, fmt.Sprintf("row %d", d.Row), "→ " + result.TierImmediate} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	for _, in := range []struct{ name, value, source string }{
		{"exploitation", d.Exploitation.Value, d.Exploitation.Source},
		{"system exposure", d.SystemExposure.Value, d.SystemExposure.Source},
		{"automatable", d.Automatable.Value, d.Automatable.Source},
		{"human impact", d.HumanImpact.Value, d.HumanImpact.Source},
	} {
		if !riskLineWith(out, in.value, in.source) {
			t.Errorf("explain output has no line with %s's value %q and source %q:\n%s", in.name, in.value, in.source, out)
		}
	}
}

// riskCheckExplainAll: explaining a vulnerability id explains its entry on
// every workload.
func riskCheckExplainAll(t *testing.T, cli *cli, doc *result.Document, saved string) {
	t.Helper()
	code, out, stderr := cli.run("", "explain", riskKEV, "--input", saved)
	if code != exitOK {
		t.Errorf("explain %s: exit %d\n%s%s", riskKEV, code, out, stderr)
		return
	}
	n := 0
	for _, r := range doc.Risks {
		if r.Vulnerability != riskKEV {
			continue
		}
		n++
		if !riskLineWith(out, r.ID, riskKEV) || !strings.Contains(out, r.WorkloadRef()) {
			t.Errorf("explain %s does not explain %s on %s", riskKEV, r.ID, r.WorkloadRef())
		}
	}
	if n != 3 || strings.Count(out, "Decision: ") != n {
		t.Errorf("explain %s: %d decisions printed for %d entries (want 3)", riskKEV, strings.Count(out, "Decision: "), n)
	}
}

func riskLineWith(out string, subs ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			return true
		}
	}
	return false
}

// riskCheckFormats renders the saved result in every format the scan offers.
func riskCheckFormats(t *testing.T, cli *cli, saved string) {
	t.Helper()
	_, help, _ := cli.run("", "scan", "cluster", "--help")
	formats := riskFormats(t, help)
	t.Logf("formats offered: %v", formats)
	for _, f := range formats {
		code, out, stderr := cli.run("", "report", "--input", saved, "--format", f)
		if code != exitOK || len(out) == 0 {
			t.Errorf("report --format %s: exit %d, %d bytes\n%s", f, code, len(out), stderr)
			continue
		}
		// SPDX describes packages, not vulnerabilities.
		if f != "spdx" && !strings.Contains(out, riskKEV) {
			t.Errorf("report --format %s does not name %s", f, riskKEV)
		}
	}
}

// riskCheckTable: the table of a cluster scan opens with the ranked list
// (after the one-line funnel), the KEV finding on storefront first.
func riskCheckTable(t *testing.T, cli *cli, scan []string) {
	t.Helper()
	code, out, stderr := cli.run("", append(scan, "-f", "table")...)
	if code != exitOK {
		t.Fatalf("scan cluster -f table: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	risks, header, first := -1, -1, ""
	for i, l := range lines {
		switch {
		case risks < 0 && strings.HasPrefix(l, "RISKS"):
			risks = i
		case risks < 0 && regexp.MustCompile(`^[A-Z]{4,}`).MatchString(l):
			t.Errorf("the table has section %q before the ranked list", l)
		case risks >= 0 && header < 0 && strings.Contains(l, "TIER") && strings.Contains(l, "VULNERABILITY"):
			header = i
		case header >= 0 && first == "":
			first = l
		}
	}
	f := strings.Fields(first)
	if risks < 0 || len(f) < 3 || f[0] != result.TierImmediate || !strings.Contains(first, riskKEV) || !strings.Contains(first, riskStorefront) {
		t.Errorf("the table's first ranked line %q does not name an immediate %s on storefront:\n%s",
			first, riskKEV, strings.Join(lines[:min(len(lines), 8)], "\n"))
	}
}
