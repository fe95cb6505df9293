package report

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/vex"
	"github.com/runlens/runlens/internal/workload"
)

// TestOpenVEXThroughRanking ranks a cluster scan with runtime evidence,
// writes it as OpenVEX, reads that back as --vex input and ranks again:
// exactly the finding never seen in use over complete windows is set
// aside, and writing the second ranking says the same statuses again.
func TestOpenVEXThroughRanking(t *testing.T) {
	pkg := func(name string) match.PackageRef {
		return match.PackageRef{Name: name, Version: "1.0-1", Ecosystem: "Debian:12", Type: "deb", PURL: "pkg:deb/debian/" + name + "@1.0-1?arch=amd64"}
	}
	findings := []match.Finding{
		{ID: "CVE-2024-3001", Aliases: []string{"GHSA-3001-3001-3001"}, Package: pkg("libssl3"), Severity: "HIGH", FixedVersions: []string{"1.0-2"}, Status: match.StatusFixed},
		{ID: "CVE-2024-3002", Package: pkg("zlib1g"), Severity: "HIGH", Status: match.StatusAffected},
		{ID: "CVE-2024-3003", Package: pkg("libcurl4"), Severity: "HIGH", FixedVersions: []string{"1.0-3"}, Status: match.StatusFixed},
		{ID: "CVE-2024-3004", Package: pkg("libxml2"), Severity: "HIGH", Status: match.StatusAffected},
	}
	img := &result.Image{Target: image.Descriptor{Reference: "localhost:5000/shop/web:1.4", Digest: ovWeb}, Status: result.StatusScanned, Findings: findings}
	wl := func(name string) *result.Workload {
		return &result.Workload{Workload: workload.Workload{Cluster: "prod", Namespace: "shop", Kind: "Deployment", Name: name,
			Containers: []workload.Container{{Name: "web", Image: "localhost:5000/shop/web:1.4", Digest: ovWeb}}}}
	}
	h := result.Header{SchemaVersion: result.SchemaVersion, CreatedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC), Command: "scan cluster"}
	doc := result.New(h, []*result.Image{img}, []*result.Workload{wl("web"), wl("canary")}, nil)
	// libssl3 unseen in both workloads over complete windows; zlib1g
	// unseen, but one window dropped events; libcurl4 loaded in one;
	// libxml2 never watched.
	runtime := func(w *result.Workload, _ string, p match.PackageRef) result.Runtime {
		switch {
		case p.Name == "libssl3", p.Name == "zlib1g" && w.Name == "canary":
			return ovWatched(true, 0)
		case p.Name == "zlib1g":
			return ovWatched(false, 7)
		case p.Name == "libcurl4" && w.Name == "web":
			return ovLoaded
		case p.Name == "libcurl4":
			return ovWatched(true, 0)
		}
		return result.Runtime{}
	}
	if err := risk.Rank(doc, risk.Options{Runtime: runtime, Now: h.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	first := ovWrite(t, doc)
	set := ovLoad(t, first)
	lookup := func(q risk.VEXQuery) *result.VEXStatement { return set.Lookup(vex.Query(q)) }
	if err := risk.Rank(doc, risk.Options{Runtime: runtime, VEX: lookup, Now: h.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	if len(doc.Risks) != 8 {
		t.Fatalf("%d risks, want 4 findings × 2 workloads", len(doc.Risks))
	}
	for _, r := range doc.Risks {
		suppressed := r.Suppressed != nil && r.Suppressed.By == "vex"
		if suppressed != (r.Vulnerability == "CVE-2024-3001") {
			t.Errorf("%s on %s: suppressed %v (%+v), want only CVE-2024-3001 set aside", r.Vulnerability, r.Workload, suppressed, r.Suppressed)
		}
	}
	if s := ovStatuses(t, ovWrite(t, doc)); s != ovStatuses(t, first) {
		t.Errorf("statuses changed through a second ranking: %v, then %v", ovStatuses(t, first), s)
	}
	want := "CVE-2024-3001=not_affected CVE-2024-3002=under_investigation CVE-2024-3003=affected CVE-2024-3004=under_investigation "
	if got := ovStatuses(t, first); got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
}

// ovStatuses lists an OpenVEX output's statements as "vuln=status ".
func ovStatuses(t *testing.T, out []byte) string {
	t.Helper()
	var d struct {
		Statements []struct {
			Vulnerability struct {
				Name string `json:"name"`
			} `json:"vulnerability"`
			Status string `json:"status"`
		} `json:"statements"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	s := ""
	for _, st := range d.Statements {
		s += st.Vulnerability.Name + "=" + st.Status + " "
	}
	return s
}
