package riskranking

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// size is a fixture's shape: workloads spread over two clusters, each
// running one of images images, each image carrying perImage findings,
// so occurrences = workloads × perImage.
type size struct{ workloads, images, perImage int }

// fullSize is the target: 10,000 workloads × 200,000 occurrences.
var fullSize = size{workloads: 10_000, images: 1_000, perImage: 20}

// smallSize runs in the ordinary test suite.
var smallSize = size{workloads: 200, images: 40, perImage: 20}

var vectors = []struct {
	vector string
	score  float64
	word   string
}{
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH"},
	{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N", 4.2, "MEDIUM"},
	{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH"},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 4.3, "MEDIUM"},
}

var packages = []match.PackageRef{
	{Name: "libssl3", Version: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", Type: "deb", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2", PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", Location: "/var/lib/dpkg/status"},
	{Name: "libc6", Version: "2.36-9+deb12u3", Ecosystem: "Debian:12", Type: "deb", SourceName: "glibc", SourceVersion: "2.36-9+deb12u3", PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u3?arch=amd64&distro=debian-12", Location: "/var/lib/dpkg/status"},
	{Name: "lodash", Version: "4.17.15", Ecosystem: "npm", Type: "npm", PURL: "pkg:npm/lodash@4.17.15", Location: "/app/node_modules/lodash/package.json"},
	{Name: "express", Version: "4.17.1", Ecosystem: "npm", Type: "npm", PURL: "pkg:npm/express@4.17.1", Location: "/app/node_modules/express/package.json"},
	{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Ecosystem: "Maven", Type: "java-archive", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", Location: "/app/lib/log4j-core-2.14.1.jar"},
	{Name: "golang.org/x/net", Version: "0.17.0", Ecosystem: "Go", Type: "go-module", PURL: "pkg:golang/golang.org/x/net@v0.17.0", Location: "/usr/local/bin/app"},
}

// fixture builds a cluster result of the given size: realistic findings
// (CVSS, EPSS on most, KEV on a few, CISA SSVC on some, fixes on most),
// workloads of every exposure and sensitivity class.
func fixture(sz size) *result.Document {
	r := rand.New(rand.NewPCG(7, 11))
	layer := "sha256:" + fmt.Sprintf("%064x", 1)
	imgs := make([]*result.Image, sz.images)
	for i := range imgs {
		img := &result.Image{
			Target: image.Descriptor{Reference: fmt.Sprintf("registry.example.com/team%d/app%d:1.%d", i%20, i, i%7), Digest: fmt.Sprintf("sha256:%064x", i+1000)},
			Status: result.StatusScanned, PackageCount: 300,
		}
		for j := 0; j < sz.perImage; j++ {
			v := vectors[r.IntN(len(vectors))]
			p := packages[r.IntN(len(packages))]
			p.Layer = layer
			cve := fmt.Sprintf("CVE-20%02d-%05d", 18+r.IntN(8), r.IntN(40000))
			f := match.Finding{
				ID: cve, Advisories: []string{"GHSA-" + cve[4:]}, Aliases: []string{"GHSA-" + cve[4:]}, Package: p,
				Severity: v.word, SeveritySource: "nvd", CVSS: &match.CVSS{Version: "3.1", Vector: v.vector, Score: v.score, Source: "nvd"},
				Status: match.StatusAffected, Summary: "A flaw in " + p.Name + " lets a remote attacker cause harm",
				References: []string{"https://nvd.nist.gov/vuln/detail/" + cve},
			}
			if r.IntN(10) < 8 {
				f.FixedVersions, f.Status = []string{p.Version + ".1"}, match.StatusFixed
			}
			if r.IntN(10) < 8 {
				f.EPSS = &match.EPSS{CVE: cve, Probability: r.Float64() * r.Float64() * r.Float64(), Percentile: r.Float64(), ScoreDate: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
			}
			ssvc := &match.SSVC{Exploitation: &match.SSVCPoint{Value: []string{"none", "none", "poc", "active"}[r.IntN(4)], Source: "computed", Basis: "EPSS"}}
			if r.IntN(3) == 0 {
				d := time.Date(2025, 2, 4, 0, 0, 0, 0, time.UTC)
				ssvc = &match.SSVC{
					Exploitation:    &match.SSVCPoint{Value: []string{"none", "poc", "active"}[r.IntN(3)], Source: "cisa", CVE: cve, Date: d},
					Automatable:     &match.SSVCPoint{Value: []string{"yes", "no"}[r.IntN(2)], Source: "cisa", CVE: cve, Date: d},
					TechnicalImpact: &match.SSVCPoint{Value: []string{"partial", "total"}[r.IntN(2)], Source: "cisa", CVE: cve, Date: d},
				}
			}
			f.SSVC = ssvc
			if r.IntN(100) == 0 {
				f.KEV = &match.KEV{CVE: cve, DateAdded: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
			}
			img.Findings = append(img.Findings, f)
		}
		imgs[i] = img
	}
	ws := make([]*result.Workload, sz.workloads)
	levels := []string{workload.ExposureInternet, workload.ExposureCluster, workload.ExposureCluster, workload.ExposureIsolated}
	for i := range ws {
		img := imgs[i%sz.images]
		ns := fmt.Sprintf("team%d", i%50)
		w := &result.Workload{Workload: workload.Workload{
			Cluster: []string{"prod-eu", "prod-us"}[i%2], Namespace: ns, Kind: "Deployment", Name: fmt.Sprintf("svc%d", i), Pods: 1 + i%5,
			NamespaceLabels: map[string]string{"env": []string{"prod", "staging"}[i%2]}, ServiceAccount: "default",
			Containers: []workload.Container{{Name: "app", Type: "container", Image: img.Target.Reference, Digest: img.Target.Digest,
				Repository: "registry.example.com/" + img.Target.Reference[len("registry.example.com/"):len(img.Target.Reference)-4],
				Owner:      workload.OwnerInternal, OwnerReason: "private registry registry.example.com"}},
		}}
		lvl := levels[r.IntN(len(levels))]
		w.Exposure = &workload.Exposure{Level: lvl}
		switch lvl {
		case workload.ExposureInternet:
			w.Exposure.Paths = []string{fmt.Sprintf("Ingress %s/svc%d (svc%d.example.com/) → Service %s/svc%d:80 → pod port 8080", ns, i, i, ns, i)}
		case workload.ExposureCluster:
			w.Exposure.Paths = []string{fmt.Sprintf("Service %s/svc%d:80 → pod port 8080", ns, i)}
		default:
			w.Exposure.NetworkPolicies = []string{ns + "/deny-all"}
		}
		s := &workload.Sensitivity{ServiceAccountToken: true, MayRunAsRoot: true, CriticalNamespace: i%2 == 0}
		switch r.IntN(10) {
		case 0:
			s.RBAC = &workload.RBACPower{ClusterAdmin: true, Bindings: []string{"ClusterRoleBinding/ops"}}
		case 1:
			s.Privileged, s.SensitiveHostPaths = true, []string{"/var/run/containerd/containerd.sock"}
		case 2:
			s.RBAC = &workload.RBACPower{ReadSecrets: true, ReadSecretsScope: []string{ns}}
		case 3, 4:
			s.SecretVolumes = []string{"db-credentials"}
		}
		ws[i] = w
	}
	clusters := []result.Cluster{{Name: "prod-eu", Status: result.StatusScanned}, {Name: "prod-us", Status: result.StatusScanned}}
	return result.New(result.NewHeader("scan cluster", "bench", &result.Database{Advisories: 200_000}), imgs, ws, clusters)
}
