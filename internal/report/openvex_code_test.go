package report

import (
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/vex"
	"github.com/runlens/runlens/internal/workload"
)

var ovText = match.PackageRef{Name: "golang.org/x/text", Version: "v0.3.5", Ecosystem: "Go", Type: "go-module",
	PURL: "pkg:golang/golang.org/x/text@v0.3.5", Location: "/usr/local/bin/acceptlang"}

func ovSymbols(linked ...string) *match.GoSymbols {
	return &match.GoSymbols{Checked: true, Advisory: "GO-2022-1059",
		Vulnerable: []string{"golang.org/x/text/language.MatchStrings", "golang.org/x/text/language.ParseAcceptLanguage"},
		Linked:     linked, Reachable: len(linked) > 0, Binaries: []string{"/usr/local/bin/acceptlang"}}
}

// A Go finding whose vulnerable functions are not linked is not_affected,
// vulnerable_code_not_present — in an image scan, and in a cluster scan
// even where the binary runs; a linked or unchecked one is not.
func TestOpenVEXVulnerableCodeNotPresent(t *testing.T) {
	findings := []match.Finding{
		{ID: "CVE-2022-32149", Package: ovText, Symbols: ovSymbols()},
		{ID: "CVE-2021-38561", Package: ovText, Symbols: ovSymbols("golang.org/x/text/language.ParseAcceptLanguage")},
		{ID: "CVE-2026-0001", Package: ovText, Symbols: &match.GoSymbols{Advisory: "GO-2026-0001", Vulnerable: []string{"golang.org/x/text/x.F"}}},
	}
	h := result.Header{SchemaVersion: result.SchemaVersion, CreatedAt: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Command: "scan image"}
	scanDoc := result.New(h, []*result.Image{{Target: image.Descriptor{Reference: "web:1", Digest: ovWeb}, Status: result.StatusScanned, Findings: findings}}, nil, nil)

	clusterDoc := result.New(h, []*result.Image{{Target: image.Descriptor{Reference: "web:1", Digest: ovWeb}, Status: result.StatusScanned, Findings: findings}},
		[]*result.Workload{{Workload: workload.Workload{Cluster: "prod", Namespace: "shop", Kind: "Deployment", Name: "web",
			Containers: []workload.Container{{Name: "web", Image: "web:1", Digest: ovWeb}}}}}, nil)
	executed := result.Runtime{State: result.RuntimeExecuted, Evidence: []string{"pid 7 executes /usr/local/bin/acceptlang"}}
	for _, f := range findings {
		clusterDoc.Risks = append(clusterDoc.Risks, ovRisk(f.ID, ovText, ovWeb, "web", executed))
	}
	for name, doc := range map[string]*result.Document{"image scan": scanDoc, "cluster scan": clusterDoc} {
		out := ovWrite(t, doc)
		set := ovLoad(t, out)
		q := vex.Query{Digest: ovWeb, PackagePURL: ovText.PURL}
		q.Vulnerability = "CVE-2022-32149"
		st := set.Lookup(q)
		if st == nil || st.Status != result.VEXNotAffected || st.Justification != "vulnerable_code_not_present" ||
			!strings.Contains(st.Impact, "GO-2022-1059") || !strings.Contains(st.Impact, "not linked into /usr/local/bin/acceptlang") {
			t.Errorf("%s, not linked: %+v", name, st)
		}
		for _, id := range []string{"CVE-2021-38561", "CVE-2026-0001"} {
			q.Vulnerability = id
			if st := set.Lookup(q); st == nil || st.Status == result.VEXNotAffected {
				t.Errorf("%s, %s: %+v, want not not_affected", name, id, st)
			}
		}
	}
}
