package webui

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/workload"
)

// testNow is the tests' clock: the seeded scans happen an hour before.
var testNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// hostile is a vulnerability id and a workload name that would run
// script were they not escaped.
const hostile = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`

func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// testImage is an image of the hand-made cluster and its findings.
type testImage struct {
	ref      string
	findings []match.Finding
}

func finding(id, pkg, version, ecosystem, typ, sev string, cvss float64, vector string, fixed ...string) match.Finding {
	f := match.Finding{ID: id, Advisories: []string{id}, Package: match.PackageRef{Name: pkg, Version: version, Ecosystem: ecosystem, Type: typ},
		Severity: sev, FixedVersions: fixed, Status: match.StatusAffected, Summary: "Advisory text for " + id + " in " + pkg}
	if len(fixed) > 0 {
		f.Status = match.StatusFixed
	}
	if vector != "" {
		f.CVSS = &match.CVSS{Version: "3.1", Vector: vector, Score: cvss, Source: "nvd"}
	}
	return f
}

const netVector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
const localVector = "CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N"

// clusterDocument builds and ranks one cluster's result by hand: an
// internet-facing shop whose log4j is loaded, a ledger reachable inside
// the cluster, an isolated batch job and a privileged node agent. With
// hostile set, one finding's id and one workload's name are script.
func clusterDocument(t testing.TB, cluster string, hostileText bool) *result.Document {
	t.Helper()
	log4j := finding("CVE-2021-44228", "org.apache.logging.log4j:log4j-core", "2.14.1", "Maven", "java-archive", "CRITICAL", 10, netVector, "2.17.1")
	log4j.Aliases = []string{"GHSA-jfh8-c2jp-5v3q"}
	log4j.KEV = &match.KEV{CVE: "CVE-2021-44228", DateAdded: time.Date(2021, 12, 10, 0, 0, 0, 0, time.UTC)}
	log4j.EPSS = &match.EPSS{CVE: "CVE-2021-44228", Probability: 0.944, Percentile: 0.999}
	curl := finding("CVE-2023-38545", "libcurl4", "7.88.1-10+deb12u3", "Debian:12", "deb", "CRITICAL", 9.8, netVector, "7.88.1-10+deb12u4")
	ssl := finding("CVE-2024-9143", "libssl3", "3.0.14-1~deb12u2", "Debian:12", "deb", "MEDIUM", 4.3, localVector, "3.0.15-1~deb12u1")
	gcc := finding("CVE-2023-4039", "libgcc-s1", "12.2.0-14", "Debian:12", "deb", "MEDIUM", 4.8, localVector)
	std := finding("CVE-2024-24790", "stdlib", "1.21.5", "Go", "go-stdlib", "CRITICAL", 9.8, netVector, "1.21.11")
	zlib := finding("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", "Debian:12", "deb", "CRITICAL", 9.8, localVector)
	images := map[string]testImage{
		"web":    {"registry.example.com/shop/web:2.4.1", []match.Finding{log4j, curl, ssl, gcc}},
		"ledger": {"registry.example.com/payments/ledger:4.2.0", []match.Finding{std, ssl}},
		"batch":  {"registry.example.com/batch/report-export:1.0.3", []match.Finding{zlib}},
		"agent":  {"quay.io/vendor/node-agent:1.4.0", []match.Finding{curl}},
	}
	if hostileText {
		h := finding(hostile, "libxml2", "2.9.14", "Debian:12", "deb", "HIGH", 7.5, netVector, "2.9.14+dfsg-1.3")
		w := images["web"]
		w.findings = append(w.findings, h)
		images["web"] = w
	}
	doc := &result.Document{Header: result.Header{SchemaVersion: result.SchemaVersion, Scanner: result.Scanner{Name: "runlens", Version: "test"},
		CreatedAt: testNow.Add(-time.Hour), Command: "scan cluster"}}
	for _, key := range []string{"web", "ledger", "batch", "agent"} {
		ti := images[key]
		img := &result.Image{Target: image.Descriptor{Reference: ti.ref, Digest: digestOf(ti.ref)}, Status: result.StatusScanned,
			Findings: ti.findings, PackageCount: 120}
		base, app := digestOf(ti.ref+" base"), digestOf(ti.ref+" app")
		img.Target.Layers = []image.LayerInfo{{DiffID: base, Size: 29_200_000}, {DiffID: app, Size: 4_200_000}}
		for i, f := range ti.findings {
			p := inventoryPackage(f)
			p.Layer = base
			if i == 0 {
				p.Layer = app
			}
			img.Packages = append(img.Packages, p)
		}
		doc.Images = append(doc.Images, img)
	}
	webName := "web"
	if hostileText {
		webName = hostile
	}
	add := func(ns, kind, name, key, exposure string, paths []string, sens *workload.Sensitivity) {
		ref := images[key].ref
		repo, _ := workload.Repository(ref)
		owner := workload.OwnerInternal
		if key == "agent" {
			owner = workload.OwnerExternal
		}
		w := &result.Workload{Workload: workload.Workload{Cluster: cluster, Namespace: ns, Kind: kind, Name: name, Pods: 3,
			Nodes: []string{"node-a", "node-b"}, ServiceAccount: name,
			Containers: []workload.Container{{Name: "main", Type: "container", Image: ref, Digest: digestOf(ref), Repository: repo, Owner: owner, OwnerReason: "test"}},
			Exposure:   &workload.Exposure{Level: exposure, Paths: paths}, Sensitivity: sens}}
		doc.Workloads = append(doc.Workloads, w)
		img := doc.Images[0]
		for _, i := range doc.Images {
			if i.Target.Reference == ref {
				img = i
			}
		}
		img.RunningIn = append(img.RunningIn, result.WorkloadRef(&w.Workload))
	}
	add("shop", "Deployment", webName, "web", workload.ExposureInternet,
		[]string{"Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080"},
		&workload.Sensitivity{SecretEnv: []string{"db-password"}, ServiceAccountToken: true, CloudIdentity: []string{"aws:arn:aws:iam::123456789012:role/shop-web"},
			Reasons: []string{"secret db-password in env", "service account token automounted", "cloud identity aws:arn:aws:iam::123456789012:role/shop-web"}})
	add("payments", "Deployment", "ledger", "ledger", workload.ExposureCluster,
		[]string{"Service payments/ledger:9090 (ClusterIP) → pod port 9090"},
		&workload.Sensitivity{RBAC: &workload.RBACPower{ReadSecrets: true}, Reasons: []string{"service account can read secrets in namespace payments"}})
	add("batch", "CronJob", "report-export", "batch", workload.ExposureIsolated, nil,
		&workload.Sensitivity{Reasons: nil})
	add("kube-system", "DaemonSet", "node-agent", "agent", workload.ExposureCluster,
		[]string{"pod IP, no NetworkPolicy"},
		&workload.Sensitivity{Privileged: true, Reasons: []string{"privileged container"}})
	doc.Summary = result.Summary{Images: len(doc.Images), Scanned: len(doc.Images),
		Clusters: []result.Cluster{{Name: cluster, Status: result.StatusScanned, Workloads: len(doc.Workloads), Scanned: len(doc.Images)}}}
	for _, img := range doc.Images {
		doc.Summary.Findings += len(img.Findings)
	}
	opts := risk.Options{Now: testNow, Runtime: func(w *result.Workload, _ string, p match.PackageRef) result.Runtime {
		win := &result.Window{Start: testNow.Add(-72 * time.Hour), End: testNow.Add(-time.Hour), Complete: true}
		switch {
		case w.Namespace == "shop" && p.Name == "org.apache.logging.log4j:log4j-core":
			return result.Runtime{State: result.RuntimeLoaded, Window: win, Evidence: []string{"pid 4711 (java) maps /app/lib/log4j-core-2.14.1.jar"}}
		case w.Namespace == "batch":
			return result.Runtime{State: result.RuntimeNotObserved, Window: win}
		}
		return result.Runtime{State: result.RuntimeUnknown}
	}}
	if err := risk.Rank(doc, opts); err != nil {
		t.Fatal(err)
	}
	return doc
}

func inventoryPackage(f match.Finding) inventory.Package {
	return inventory.Package{Name: f.Package.Name, Version: f.Package.Version, Ecosystem: f.Package.Ecosystem, Type: f.Package.Type}
}
