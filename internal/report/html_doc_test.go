package report

import (
	"strings"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// Digests of the ranked sample's images.
const (
	apiDigest     = "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	webEUDigest   = "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
	webUSDigest   = "sha256:c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
	ingressDigest = "sha256:d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
	argoDigest    = "sha256:e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5"
	ledgerDigest  = "sha256:f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6"
	batchDigest   = "sha256:0707070707070707070707070707070707070707070707070707070707070707"
)

var sampleNow = time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)

// rk is the shape of one hand-built risk.
type rk struct {
	tier                 string
	score                float64
	vuln, pkg, ver, typ  string
	digest, ref          string
	cluster, ns, wl      string
	exposure, owner, sev string
	fixed                []string
	status, runtime      string
	expl, auto, impact   string
	reasons              []string
}

func (k rk) risk() result.Risk {
	sysExp := map[string]string{"internet": "open", "cluster": "controlled", "isolated": "small"}[k.exposure]
	r := result.Risk{
		ID: k.cluster + "/" + k.ns + "/" + k.wl + "/" + k.vuln, Vulnerability: k.vuln,
		Package: match.PackageRef{Name: k.pkg, Version: k.ver, Type: k.typ},
		Image:   k.digest, ImageReference: k.ref, Cluster: k.cluster, Namespace: k.ns, Workload: k.wl,
		Tier: k.tier, Score: k.score, Reasons: k.reasons,
		Runtime: result.Runtime{State: k.runtime},
		Decision: result.Decision{
			Exploitation:   &result.Input{Value: k.expl, Source: result.SourceCISA, Date: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Basis: []string{"CISA SSVC decision"}},
			SystemExposure: &result.Input{Value: sysExp, Source: result.SourceWorkload, Basis: []string{"exposure " + k.exposure}},
			Automatable:    &result.Input{Value: k.auto, Source: result.SourceComputed, Basis: []string{"CVSS AV:N/AC:L/PR:N/UI:N"}},
			HumanImpact:    &result.Input{Value: k.impact, Source: result.SourceWorkload, Basis: []string{"namespace and privileges"}},
			Table:          "CISA deployer v1", Row: 17, Outcome: k.tier,
		},
		Facts: result.Facts{FindingFacts: &result.FindingFacts{Severity: k.sev, FixedVersions: k.fixed, Status: k.status},
			PlaceFacts: &result.PlaceFacts{Exposure: k.exposure, Owner: k.owner, Replicas: 3}},
	}
	if k.runtime != result.RuntimeUnknown {
		r.Runtime.Window = &result.Window{Start: sampleNow.Add(-72 * time.Hour), End: sampleNow, Complete: true}
	}
	_, name, _ := strings.Cut(k.wl, "/")
	if result.InUse(k.runtime) {
		r.Runtime.Evidence = []string{"pid 4711 (" + name + ") maps a file of " + k.pkg}
	}
	if k.exposure == "internet" {
		r.Facts.ExposurePaths = []string{"Ingress " + k.ns + "/" + name + " (shop.example.com/" + name + ") → Service " + k.ns + "/" + name + ":80 → pod port 8080"}
	}
	score := map[string]float64{"CRITICAL": 9.8, "HIGH": 7.5, "MEDIUM": 5.9}[k.sev]
	r.Facts.CVSS = &match.CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: score, Source: "nvd"}
	r.Facts.EPSS = &match.EPSS{CVE: k.vuln, Probability: k.score / 400, Percentile: 0.5 + k.score/200}
	if k.expl == "active" {
		r.Facts.KEV = &match.KEV{CVE: k.vuln, DateAdded: time.Date(2023, 10, 10, 0, 0, 0, 0, time.UTC)}
	}
	return r
}

// rankedDocument is a scan of two clusters, ranked by hand: 12 unique
// findings (one suppressed) over 13 risk entries in all four tiers, with
// consistent funnels and three remediation actions.
func rankedDocument() *result.Document {
	const (
		eu, us        = "prod-eu", "prod-us"
		apiRef        = "registry.example.com/shop/api:1.9.0"
		webEURef      = "registry.example.com/shop/web:2.4.1"
		webUSRef      = "registry.example.com/shop/web:2.5.0"
		ingressRef    = "registry.k8s.io/ingress-nginx/controller:v1.9.4"
		argoRef       = "quay.io/argoproj/argocd:v2.13.1"
		ledgerRef     = "registry.example.com/payments/ledger:4.2.0"
		batchRef      = "registry.example.com/batch/report-export:1.0.3"
		api, web      = "Deployment/api", "Deployment/web"
		kev           = "KEV: actively exploited (CISA, added 2021-12-10)"
		inet          = "internet: Ingress shop/web → Service web:80"
		deb, gomod    = "deb", "go-module"
		ext, internal = workload.OwnerExternal, workload.OwnerInternal
	)
	ks := []rk{
		{result.TierImmediate, 96, "CVE-2021-44228", "org.apache.logging.log4j:log4j-core", "2.14.1", "java-archive", apiDigest, apiRef, eu, "shop", api, "internet", internal, "CRITICAL", []string{"2.17.1"}, "fixed", result.RuntimeLoaded, "active", "yes", "high",
			[]string{kev, "internet: Ingress shop/api → Service api:8080", "log4j-core loaded by pid 4711 (java)", "fix: log4j-core 2.17.1"}},
		{result.TierImmediate, 93, "CVE-2021-44228", "org.apache.logging.log4j:log4j-core", "2.14.1", "java-archive", apiDigest, apiRef, us, "shop", api, "internet", internal, "CRITICAL", []string{"2.17.1"}, "fixed", result.RuntimeLoaded, "active", "yes", "high",
			[]string{kev, "internet: Ingress shop/api → Service api:8080", "fix: log4j-core 2.17.1"}},
		{result.TierImmediate, 88, "CVE-2023-44487", "golang.org/x/net", "0.7.0", gomod, ingressDigest, ingressRef, eu, "ingress-nginx", "Deployment/ingress-nginx-controller", "internet", ext, "HIGH", []string{"0.17.0"}, "fixed", result.RuntimeExecuted, "active", "yes", "high",
			[]string{"KEV: actively exploited (HTTP/2 rapid reset)", "internet: Service ingress-nginx/ingress-nginx-controller type LoadBalancer :443", "service account can read secrets in all namespaces", "fix: golang.org/x/net 0.17.0 (upgrade the vendor image)"}},
		{result.TierOutOfCycle, 79, "CVE-2023-38545", "libcurl4", "7.88.1-10+deb12u3", deb, webEUDigest, webEURef, eu, "shop", web, "internet", internal, "CRITICAL", []string{"7.88.1-10+deb12u4"}, "fixed", result.RuntimeLoaded, "poc", "no", "high",
			[]string{"public proof of concept exploit", inet, "libcurl.so.4 loaded by pid 812 (web)", "fix: curl 7.88.1-10+deb12u4"}},
		{result.TierOutOfCycle, 74, "CVE-2024-45337", "golang.org/x/crypto", "0.28.0", gomod, argoDigest, argoRef, eu, "argocd", "Deployment/argocd-server", "cluster", ext, "CRITICAL", []string{"0.31.0"}, "fixed", result.RuntimeLoaded, "none", "yes", "very high",
			[]string{"service account has cluster-admin", "cluster: reachable from any pod (no NetworkPolicy)", "automatable: network, no privileges, no user interaction", "fix: golang.org/x/crypto 0.31.0"}},
		{result.TierOutOfCycle, 70, "CVE-2024-9143", "libssl3", "3.0.14-1~deb12u2", deb, webUSDigest, webUSRef, us, "shop", web, "internet", internal, "MEDIUM", []string{"3.0.15-1~deb12u1"}, "fixed", result.RuntimeLoaded, "none", "no", "high",
			[]string{inet, "libssl.so.3 loaded by pid 655 (web)", "handles payment card data (namespace shop labelled pci)", "fix: openssl 3.0.15-1~deb12u1"}},
		{result.TierScheduled, 55, "CVE-2024-9143", "libssl3", "3.0.14-1~deb12u2", deb, webEUDigest, webEURef, eu, "shop", web, "internet", internal, "MEDIUM", []string{"3.0.15-1~deb12u1"}, "fixed", result.RuntimeLoaded, "none", "no", "medium",
			[]string{inet, "no known exploitation", "fix: openssl 3.0.15-1~deb12u1"}},
		{result.TierScheduled, 48, "CVE-2024-2961", "libc6", "2.36-9+deb12u4", deb, webEUDigest, webEURef, eu, "shop", web, "internet", internal, "HIGH", []string{"2.36-9+deb12u7"}, "fixed", result.RuntimeLoaded, "poc", "no", "medium",
			[]string{"public proof of concept exploit", "not automatable: needs a crafted iconv charset", "fix: glibc 2.36-9+deb12u7"}},
		{result.TierScheduled, 41, "CVE-2024-24790", "stdlib", "1.21.5", gomod, ledgerDigest, ledgerRef, us, "payments", "Deployment/ledger", "cluster", internal, "CRITICAL", []string{"1.21.11"}, "fixed", result.RuntimeExecuted, "none", "yes", "medium",
			[]string{"cluster: reachable from pods in namespace payments", "no known exploitation", "fix: go 1.21.11 (rebuild)"}},
		{result.TierDefer, 22, "CVE-2022-40897", "setuptools", "65.5.0", "python", batchDigest, batchRef, us, "batch", "CronJob/report-export", "isolated", internal, "MEDIUM", []string{"65.5.1"}, "fixed", result.RuntimeNotObserved, "none", "no", "low",
			[]string{"isolated: NetworkPolicy batch/deny-all", "not seen in use in 72h of complete observation", "fix: setuptools 65.5.1"}},
		{result.TierDefer, 15, "CVE-2023-4039", "libgcc-s1", "12.2.0-14", deb, webEUDigest, webEURef, eu, "shop", web, "internet", internal, "MEDIUM", nil, "will_not_fix", result.RuntimeLoaded, "none", "no", "low",
			[]string{"affects only arm64 stack protector", "no fix: Debian will not fix (minor issue)"}},
		{result.TierDefer, 9, "CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", deb, batchDigest, batchRef, us, "batch", "CronJob/report-export", "isolated", internal, "CRITICAL", nil, "will_not_fix", result.RuntimeNotObserved, "none", "no", "low",
			[]string{"isolated: NetworkPolicy batch/deny-all", "vulnerable minizip not shipped in the binary package", "no fix: Debian will not fix"}},
	}
	var risks []result.Risk
	for _, k := range ks {
		risks = append(risks, k.risk())
	}
	sup := rk{result.TierScheduled, 30, "CVE-2023-4863", "libwebp7", "1.2.4-0.2+deb12u1", deb, webEUDigest, webEURef, eu, "shop", web, "internet", internal, "HIGH", []string{"1.2.4-0.2+deb12u2"}, "fixed", result.RuntimeNotObserved, "active", "no", "medium",
		[]string{"VEX not_affected: vulnerable_code_not_in_execute_path", kev}}.risk()
	sup.Suppressed = &result.Suppression{By: "vex", Reason: "not_affected: vulnerable_code_not_in_execute_path (web never decodes WebP)"}
	sup.VEX = &result.VEXStatement{Status: result.VEXNotAffected, Justification: "vulnerable_code_not_in_execute_path", Document: "vex/shop-web.openvex.json", Format: "openvex"}
	risks = append(risks, sup)

	// Images carry the findings the risks rest on.
	byDigest := map[string]*result.Image{}
	var images []*result.Image
	for _, r := range risks {
		img := byDigest[r.Image]
		if img == nil {
			img = &result.Image{Target: image.Descriptor{Reference: r.ImageReference, Digest: r.Image}, Status: result.StatusScanned, PackageCount: 180}
			byDigest[r.Image] = img
			images = append(images, img)
		}
		seen := false
		for _, f := range img.Findings {
			seen = seen || (f.ID == r.Vulnerability && f.Package.Name == r.Package.Name)
		}
		if !seen {
			img.Findings = append(img.Findings, match.Finding{ID: r.Vulnerability, Package: r.Package, Severity: r.Facts.Severity,
				FixedVersions: r.Facts.FixedVersions, Status: r.Facts.Status,
				Summary:    "Advisory text for " + r.Vulnerability + " in " + r.Package.Name,
				References: []string{"https://nvd.nist.gov/vuln/detail/" + r.Vulnerability}})
		}
	}
	// One image of prod-us could not be pulled.
	images = append(images, result.Incomplete(image.Descriptor{Reference: "registry.example.com/shop/search:3.1.0"}, result.StatusFailed,
		errorString("pulling image: registry answered 401 Unauthorized")))

	h := result.Header{
		SchemaVersion: result.SchemaVersion, Scanner: result.Scanner{Name: "runlens", Version: "0.9.0"},
		CreatedAt: sampleNow, Command: "scan cluster",
		Database: &result.Database{BuiltAt: sampleNow.Add(-26 * time.Hour), AgeSeconds: 26 * 3600, Advisories: 412387},
	}
	clusters := []result.Cluster{
		{Name: eu, Status: result.StatusScanned, Funnel: workload.Funnel{Pods: 41, Containers: 52, Digests: 5}, Workloads: 4, Scanned: 5,
			Risk: funnel(8, 8, 7, 2, 2, 2, 1, 1, 8)},
		{Name: us, Status: result.StatusScanned, Funnel: workload.Funnel{Pods: 23, Containers: 27, Digests: 5}, Workloads: 5, Scanned: 4, Failed: 1,
			Risk: funnel(5, 3, 3, 1, 1, 1, 2, 0, 5)},
	}
	doc := result.New(h, images, nil, clusters)
	doc.Risks = risks
	doc.Summary.Risk = funnel(12, 10, 9, 2, 3, 3, 3, 1, 13)
	doc.Remediation = []result.Action{
		{Kind: result.ActionRebuild, Owner: internal, Image: "registry.example.com/shop/api", Digests: []string{apiDigest},
			Package: "org.apache.logging.log4j:log4j-core", Ecosystem: "Maven", FixedVersion: "2.17.1",
			Text:            "Rebuild registry.example.com/shop/api with log4j-core 2.17.1",
			Vulnerabilities: []string{"CVE-2021-44228"}, Workloads: []string{"prod-eu/shop/Deployment/api", "prod-us/shop/Deployment/api"},
			Tier: result.TierImmediate, Risk: 189, ByTier: map[string]int{result.TierImmediate: 2}},
		{Kind: result.ActionRebuild, Owner: internal, Image: "registry.example.com/shop/web", Digests: []string{webEUDigest, webUSDigest},
			Package: "openssl", Ecosystem: "Debian:12", FixedVersion: "3.0.15-1~deb12u1",
			Text:            "Rebuild registry.example.com/shop/web on a current Debian 12 base (openssl 3.0.15-1~deb12u1)",
			Vulnerabilities: []string{"CVE-2024-9143"}, Workloads: []string{"prod-eu/shop/Deployment/web", "prod-us/shop/Deployment/web"},
			Tier: result.TierOutOfCycle, Risk: 125, ByTier: map[string]int{result.TierOutOfCycle: 1, result.TierScheduled: 1}},
		{Kind: result.ActionUpgrade, Owner: ext, Image: "registry.k8s.io/ingress-nginx/controller", Digests: []string{ingressDigest},
			Package: "golang.org/x/net", Ecosystem: "Go", FixedVersion: "0.17.0",
			Text:            "Upgrade ingress-nginx controller to v1.9.5 or later (golang.org/x/net 0.17.0)",
			Vulnerabilities: []string{"CVE-2023-44487"}, Workloads: []string{"prod-eu/ingress-nginx/Deployment/ingress-nginx-controller"},
			Tier: result.TierImmediate, Risk: 88, ByTier: map[string]int{result.TierImmediate: 1}},
	}
	return doc
}

func funnel(findings, reachable, inUse, imm, ooc, sched, def, supp, occ int) *result.RiskFunnel {
	running := findings
	return &result.RiskFunnel{Findings: findings, Running: &running, Reachable: &reachable, InUse: &inUse,
		Immediate: imm, OutOfCycle: ooc, Scheduled: sched, Defer: def, Suppressed: supp, Occurrences: occ}
}

type errorString string

func (e errorString) Error() string { return string(e) }
