package risk

import (
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// twoClusterDoc: one image with two findings run by an internet-exposed
// workload in cluster a and an isolated one in cluster b, plus a vendor
// image with an unfixed finding in cluster b.
func twoClusterDoc() *result.Document {
	kev := facts{exploitation: "active", kev: true, automatable: "yes", impact: "total", exposure: "internet", class: ClassTakeover, epss: 0.9}
	plain := facts{exploitation: "none", automatable: "no", impact: "partial", epss: 0.01}
	f1, f2 := kev.finding(), plain.finding()
	f2.ID, f2.FixedVersions = "CVE-2024-2000", []string{"3.0.13-1~deb12u1"}
	vendor := plain.finding()
	vendor.ID, vendor.FixedVersions, vendor.Status = "CVE-2024-3000", nil, match.StatusAffected
	vendor.Package = match.PackageRef{Name: "lodash", Version: "4.17.20", Ecosystem: "npm", Type: "npm", PURL: "pkg:npm/lodash@4.17.20"}
	imgs := []*result.Image{
		{Target: image.Descriptor{Reference: "registry.example.com/shop/web:1", Digest: digestA}, Status: result.StatusScanned, Findings: []match.Finding{f1, f2}},
		{Target: image.Descriptor{Reference: "grafana/grafana:10", Digest: digestB}, Status: result.StatusScanned, Findings: []match.Finding{vendor}},
	}
	web := testWorkload("web", kev)
	web.Cluster = "a"
	isolated := testWorkload("web", facts{exposure: "isolated", class: ClassContained})
	isolated.Cluster = "b"
	graf := testWorkload("grafana", facts{exposure: "cluster", class: ClassFoothold})
	graf.Cluster, graf.Namespace = "b", "monitoring"
	graf.Containers[0] = workload.Container{Name: "grafana", Image: "grafana/grafana:10", Digest: digestB, Repository: "docker.io/grafana/grafana", Owner: workload.OwnerExternal, OwnerReason: "public vendor image (docker.io/grafana)"}
	return result.New(result.NewHeader("scan cluster", "test", nil), imgs, []*result.Workload{web, isolated, graf},
		[]result.Cluster{{Name: "a", Status: result.StatusScanned}, {Name: "b", Status: result.StatusScanned}})
}

func sumTiers(f *result.RiskFunnel) int {
	return f.Immediate + f.OutOfCycle + f.Scheduled + f.Defer + f.Suppressed
}

func TestFunnelAddsUpPerClusterAndTotal(t *testing.T) {
	doc := twoClusterDoc()
	if err := Rank(doc, Options{}); err != nil {
		t.Fatal(err)
	}
	if len(doc.Risks) != 5 {
		t.Fatalf("%d risks, want 5 (2 findings × 2 workloads + 1)", len(doc.Risks))
	}
	total := doc.Summary.Risk
	if total.Findings != 3 || *total.Running != 3 || *total.Reachable != 3 || total.InUse != nil || total.Occurrences != 5 || sumTiers(total) != 3 || total.Immediate != 1 {
		t.Errorf("total funnel %+v", total)
	}
	a, b := doc.Summary.Clusters[0].Risk, doc.Summary.Clusters[1].Risk
	if a.Findings != 2 || *a.Reachable != 2 || a.Immediate != 1 || sumTiers(a) != 2 {
		t.Errorf("cluster a funnel %+v", a)
	}
	// In b the image runs isolated: its two findings are running but not
	// reachable; grafana's is reachable.
	if b.Findings != 3 || *b.Running != 3 || *b.Reachable != 1 || b.Immediate != 0 || sumTiers(b) != 3 {
		t.Errorf("cluster b funnel %+v", b)
	}
	if doc.Risks[0].Cluster != "a" || doc.Risks[0].Tier != result.TierImmediate {
		t.Errorf("first entry %s/%s, want cluster a immediate", doc.Risks[0].Cluster, doc.Risks[0].Tier)
	}

	// With runtime evidence the in-use stage is counted.
	doc = twoClusterDoc()
	err := Rank(doc, Options{Runtime: func(w *result.Workload, _ string, p match.PackageRef) result.Runtime {
		if w.Cluster == "a" && p.Name == "libssl3" {
			return result.Runtime{State: result.RuntimeLoaded}
		}
		return result.Runtime{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if in := doc.Summary.Risk.InUse; in == nil || *in != 2 {
		t.Errorf("in use %v, want 2 (both libssl3 findings in cluster a)", in)
	}
}

func TestRemediationGroupsIntoRankedActions(t *testing.T) {
	doc := twoClusterDoc()
	if err := Rank(doc, Options{}); err != nil {
		t.Fatal(err)
	}
	if len(doc.Remediation) != 2 {
		t.Fatalf("actions %+v, want 2", doc.Remediation)
	}
	first, second := doc.Remediation[0], doc.Remediation[1]
	if first.Kind != result.ActionRebuild || first.Owner != workload.OwnerInternal || first.Package != "openssl" || first.FixedVersion != "3.0.15-1~deb12u1" ||
		len(first.Vulnerabilities) != 2 || len(first.Workloads) != 2 || first.Tier != result.TierImmediate {
		t.Errorf("first action %+v", first)
	}
	if want := "rebuild image registry.example.com/shop/web on a base with openssl ≥ 3.0.15-1~deb12u1 (internal) (2 workloads)"; !strings.HasPrefix(first.Text, want) {
		t.Errorf("text %q, want prefix %q", first.Text, want)
	}
	if second.Kind != result.ActionMitigate || second.Owner != workload.OwnerExternal || !strings.Contains(second.Text, "no fix yet for lodash") {
		t.Errorf("second action %+v", second)
	}
	if first.Risk <= second.Risk {
		t.Errorf("risk removed %.1f ≤ %.1f", first.Risk, second.Risk)
	}

	// A vendor image with a fix is an upgrade.
	doc = twoClusterDoc()
	for _, img := range doc.Images {
		if img.Target.Digest == digestB {
			img.Findings[0].FixedVersions = []string{"4.17.21"}
		}
	}
	if err := Rank(doc, Options{}); err != nil {
		t.Fatal(err)
	}
	if a := doc.Remediation[1]; a.Kind != result.ActionUpgrade || !strings.HasPrefix(a.Text, "upgrade the vendor image docker.io/grafana/grafana to a tag with lodash ≥ 4.17.21 (external)") {
		t.Errorf("vendor action %+v", a)
	}
}

func TestHigherFixPicksTheFirstFixAboveInstalled(t *testing.T) {
	kind := ""
	// Debian order: 3.0.9 < 3.0.15, and 2.x is below what is installed.
	if got := higherFix("Debian:12", "3.0.11-1", "", []string{"2.1-1", "3.0.15-1", "3.0.9-1"}, &kind); got != "3.0.15-1" {
		t.Errorf("got %s", got)
	}
	if got := higherFix("npm", "4.17.20", "4.17.21", []string{"4.17.19", "4.18.0"}, &kind); got != "4.18.0" {
		t.Errorf("got %s", got)
	}
	if got := higherFix("npm", "1.0.0", "1.2.0", nil, &kind); got != "1.2.0" || kind != missingFix {
		t.Errorf("no fix: %s %s", got, kind)
	}
}

func TestImageRepositoryIsNoneForFiles(t *testing.T) {
	for ref, want := range map[string]string{
		"nginx:1.25":                      "docker.io/library/nginx",
		"registry.example.com/shop/web:1": "registry.example.com/shop/web",
		"../../testdata/sample/image.tar": "",
		"/tmp/app.tar":                    "",
		"app.tar":                         "",
		"./layout":                        "",
		"localhost:5000/runlens-e2e/app@sha256:" + strings.Repeat("a", 64): "localhost:5000/runlens-e2e/app",
	} {
		got, _ := imageRepository(ref)
		if got != want {
			t.Errorf("imageRepository(%q) = %q, want %q", ref, got, want)
		}
	}
}
