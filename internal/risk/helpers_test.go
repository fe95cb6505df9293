package risk

import (
	"testing"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// facts are the knobs of a crafted finding on a crafted workload.
type facts struct {
	exploitation string // none, poc, active (as CISA's SSVC says)
	kev          bool
	automatable  string // yes, no
	impact       string // technical impact: total, partial
	exposure     string // internet, cluster, isolated, unknown
	class        string // takeover, lateral, foothold, contained
	critical     bool
	epss         float64 // < 0: no EPSS
	cvss         float64
}

func cisaPoint(v string) *match.SSVCPoint {
	return &match.SSVCPoint{Value: v, Source: "cisa", CVE: "CVE-2024-0001", Date: time.Date(2024, 7, 9, 0, 0, 0, 0, time.UTC)}
}

func (f facts) finding() match.Finding {
	fd := match.Finding{
		ID: "CVE-2024-0001", Advisories: []string{"GHSA-xxxx-yyyy-zzzz"}, Aliases: []string{"GHSA-xxxx-yyyy-zzzz"},
		Package:  match.PackageRef{Name: "libssl3", Version: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", Type: "deb", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2", PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2"},
		Severity: "HIGH", FixedVersions: []string{"3.0.15-1~deb12u1"}, Status: match.StatusFixed,
		SSVC: &match.SSVC{Exploitation: cisaPoint(f.exploitation)},
	}
	if f.automatable != "" {
		fd.SSVC.Automatable = cisaPoint(f.automatable)
	}
	if f.impact != "" {
		fd.SSVC.TechnicalImpact = cisaPoint(f.impact)
	}
	if f.kev {
		fd.KEV = &match.KEV{CVE: fd.ID, DateAdded: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)}
	}
	if f.epss >= 0 {
		fd.EPSS = &match.EPSS{CVE: fd.ID, Probability: f.epss, Percentile: f.epss}
	}
	if f.cvss > 0 {
		fd.CVSS = &match.CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: f.cvss}
	}
	return fd
}

// sensitivityOf returns a sensitivity of the given class.
func sensitivityOf(class string, critical bool) *workload.Sensitivity {
	s := &workload.Sensitivity{CriticalNamespace: critical}
	switch class {
	case ClassTakeover:
		s.RBAC = &workload.RBACPower{ClusterAdmin: true}
	case ClassLateral:
		s.RBAC = &workload.RBACPower{ReadSecrets: true, ReadSecretsScope: []string{"cluster"}}
	case ClassFoothold:
		s.ServiceAccountToken = true
	}
	return s
}

func exposureOf(level string) *workload.Exposure {
	e := &workload.Exposure{Level: level}
	switch level {
	case workload.ExposureInternet:
		e.Paths = []string{"Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080"}
	case workload.ExposureCluster:
		e.Paths = []string{"Service shop/web:80 (ClusterIP) → pod port 8080"}
	case workload.ExposureIsolated:
		e.NetworkPolicies = []string{"shop/deny-all"}
	}
	return e
}

func testWorkload(name string, f facts) *result.Workload {
	return &result.Workload{Workload: workload.Workload{
		Cluster: "prod", Namespace: "shop", Kind: "Deployment", Name: name, Pods: 2,
		Containers: []workload.Container{{Name: "app", Type: "container", Image: "registry.example.com/shop/web:1", Digest: digestA,
			Repository: "registry.example.com/shop/web", Owner: workload.OwnerInternal, OwnerReason: "private registry registry.example.com"}},
		Exposure:    exposureOf(f.exposure),
		Sensitivity: sensitivityOf(f.class, f.critical),
	}}
}

// docOf is a cluster document with, for each facts value, one image
// carrying one finding and one workload running it.
func docOf(fs ...facts) *result.Document {
	var imgs []*result.Image
	var ws []*result.Workload
	for i, f := range fs {
		fd := f.finding()
		fd.ID = "CVE-2024-" + itoa(1000+i)
		d := "sha256:" + hexOf(i)
		imgs = append(imgs, &result.Image{Target: image.Descriptor{Reference: "registry.example.com/shop/web:" + itoa(i), Digest: d},
			Status: result.StatusScanned, Findings: []match.Finding{fd}})
		w := testWorkload("w"+itoa(i), f)
		w.Containers[0].Digest = d
		ws = append(ws, w)
	}
	return result.New(result.NewHeader("scan cluster", "test", nil), imgs, ws, []result.Cluster{{Name: "prod", Status: result.StatusScanned}})
}

func hexOf(i int) string {
	const h = "0123456789abcdef"
	b := make([]byte, 64)
	for j := range b {
		b[j] = h[(i>>(uint(j%8)*4))&15]
	}
	return string(b)
}

// rankOne ranks a document of one finding on one workload and returns
// its only entry.
func rankOne(t *testing.T, f facts, opts Options) result.Risk {
	t.Helper()
	doc := docOf(f)
	if err := Rank(doc, opts); err != nil {
		t.Fatal(err)
	}
	if len(doc.Risks) != 1 {
		t.Fatalf("%d risks, want 1", len(doc.Risks))
	}
	return doc.Risks[0]
}
