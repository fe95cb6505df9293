package main

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// riskFindingKey names a unique finding of the one image: vulnerability ×
// package.
func riskFindingKey(vuln string, p match.PackageRef) string {
	return vuln + " " + p.Name + "@" + p.Version
}

// riskCheckRanking checks risks[], the funnels and the remediation of the
// scenario against what its construction implies.
func riskCheckRanking(t *testing.T, doc *result.Document, img *result.Image, clusterName string) {
	t.Helper()
	wls := riskWorkloads(doc)
	findings := map[string]*match.Finding{}
	for i := range img.Findings {
		findings[riskFindingKey(img.Findings[i].ID, img.Findings[i].Package)] = &img.Findings[i]
	}
	if len(doc.Risks) != len(findings)*len(wls) {
		t.Errorf("risks = %d, want one per finding (%d) per workload (%d)", len(doc.Risks), len(findings), len(wls))
	}
	byKey := map[string]*result.Risk{}
	ids := map[string]bool{}
	var gotImmediate, wantImmediate []string
	for i := range doc.Risks {
		r := &doc.Risks[i]
		ref := r.Namespace + "/" + r.Workload
		fk := riskFindingKey(r.Vulnerability, r.Package)
		key := ref + " " + fk
		f, w := findings[fk], wls[ref]
		if f == nil || w == nil {
			t.Errorf("risk %s: no such finding or workload in the scan", key)
			continue
		}
		if byKey[key] != nil {
			t.Errorf("risk %s listed twice", key)
		}
		byKey[key] = r
		if r.ID == "" || ids[r.ID] {
			t.Errorf("risk %s: id %q empty or not unique", key, r.ID)
		}
		ids[r.ID] = true
		if r.Image != img.Target.Digest || r.Cluster != clusterName {
			t.Errorf("risk %s: image %s cluster %s; want %s on %s", key, r.Image, r.Cluster, img.Target.Digest, clusterName)
		}
		if result.TierRank(r.Tier) == len(result.Tiers) || r.Score < 0 || r.Score > 100 {
			t.Errorf("risk %s: tier %q score %v", key, r.Tier, r.Score)
		}
		if len(r.Reasons) == 0 {
			t.Errorf("risk %s has no reason", key)
		}
		if r.Facts.Exposure != w.Exposure.Level || r.Suppressed != nil {
			t.Errorf("risk %s: facts.exposure %q (workload %q), suppressed %+v", key, r.Facts.Exposure, w.Exposure.Level, r.Suppressed)
		}
		if r.Decision.Override == "" && r.Decision.Outcome != r.Tier {
			t.Errorf("risk %s: tier %q but the table's outcome is %q and no override", key, r.Tier, r.Decision.Outcome)
		}
		want, src := map[string]string{workload.ExposureInternet: "open", workload.ExposureCluster: "controlled",
			workload.ExposureIsolated: "small"}[w.Exposure.Level], result.SourceWorkload
		if gs := f.Symbols; gs != nil && gs.Checked && !gs.Reachable {
			// The vulnerable Go functions are not linked into the binary.
			want, src = "small", result.SourceCode
		}
		if e := r.Decision.SystemExposure; e.Value != want || e.Source != src {
			t.Errorf("risk %s: system exposure %+v, want %q (%s) from %s", key, e, want, src, w.Exposure.Level)
		}
		expl, auto, hi := riskExpect(f, w)
		if d := r.Decision; (expl == "active") != (d.Exploitation.Value == "active") || (auto != "" && d.Automatable.Value != auto) ||
			d.HumanImpact.Value != riskHINames[hi] {
			t.Errorf("risk %s: exploitation %q automatable %q human impact %q; want %s, %s, %s",
				key, d.Exploitation.Value, d.Automatable.Value, d.HumanImpact.Value, expl, auto, riskHINames[hi])
		}
		if r.Runtime.State != result.RuntimeUnknown {
			t.Errorf("risk %s: runtime %q with no node agent, want unknown", key, r.Runtime.State)
		}
		if r.Tier == result.TierImmediate {
			gotImmediate = append(gotImmediate, key)
		}
	}
	for ref, w := range wls {
		for fk, f := range findings {
			if riskExpectImmediate(f, w) {
				wantImmediate = append(wantImmediate, ref+" "+fk)
			}
		}
	}
	sort.Strings(gotImmediate)
	sort.Strings(wantImmediate)
	if strings.Join(gotImmediate, "\n") != strings.Join(wantImmediate, "\n") {
		t.Errorf("immediate tier:\n  got  %q\n  want %q", gotImmediate, wantImmediate)
	}
	// By construction only storefront is open to the internet, so the
	// expected set is its actively exploited findings, the KEV one included.
	kevOnStorefront := false
	for _, k := range wantImmediate {
		if !strings.HasPrefix(k, riskStorefront+" ") {
			t.Errorf("expected immediate off storefront: %s", k)
		}
		kevOnStorefront = kevOnStorefront || strings.HasPrefix(k, riskStorefront+" "+riskKEV+" ")
	}
	if !kevOnStorefront {
		t.Errorf("the scenario should make %s on storefront immediate: %q", riskKEV, wantImmediate)
	}
	t.Logf("immediate by construction: %q", wantImmediate)
	for i := 1; i < len(doc.Risks); i++ {
		a, b := &doc.Risks[i-1], &doc.Risks[i]
		if ra, rb := result.TierRank(a.Tier), result.TierRank(b.Tier); ra > rb || (ra == rb && a.Score < b.Score) {
			t.Errorf("risks not ranked: %s %s %v before %s %s %v", a.Vulnerability, a.Tier, a.Score, b.Vulnerability, b.Tier, b.Score)
			break
		}
	}
	riskCheckKEV(t, byKey)
	riskCheckFunnels(t, doc, findings)
	riskCheckRemediation(t, doc, byKey)
}

// riskOnKEV finds the KEV finding's risk on a workload.
func riskOnKEV(t *testing.T, byKey map[string]*result.Risk, ref string) *result.Risk {
	t.Helper()
	for k, r := range byKey {
		if strings.HasPrefix(k, ref+" "+riskKEV+" ") {
			return r
		}
	}
	t.Fatalf("no %s risk on %s", riskKEV, ref)
	return nil
}

// riskCheckKEV: the same CVE in the same digest ranks by the workload.
func riskCheckKEV(t *testing.T, byKey map[string]*result.Risk) {
	t.Helper()
	a, c, b := riskOnKEV(t, byKey, riskStorefront), riskOnKEV(t, byKey, riskInternalAPI), riskOnKEV(t, byKey, riskWorker)
	if a.Tier != result.TierImmediate {
		t.Errorf("%s on storefront: tier %s, want immediate; decision %+v", riskKEV, a.Tier, a.Decision)
	}
	reasons := strings.ToLower(strings.Join(a.Reasons, "\n"))
	for what, subs := range map[string][]string{"KEV": {"kev", "known exploited"}, "internet path": {"ingress shop-prod/storefront", "internet"},
		"cluster-admin": {"cluster-admin", "cluster admin"}} {
		if !riskHasAny(reasons, subs) {
			t.Errorf("%s on storefront: no %s phrase in the reasons %q", riskKEV, what, a.Reasons)
		}
	}
	if d := a.Decision; d.Exploitation.Value != "active" || d.Exploitation.Source != result.SourceCISA ||
		d.Automatable.Value != "yes" || d.Automatable.Source != result.SourceCISA || d.HumanImpact.Source != result.SourceWorkload {
		t.Errorf("%s on storefront: decision inputs %+v", riskKEV, d)
	}
	for _, fx := range []struct {
		r        *result.Risk
		ref      string
		pods     int
		ctr      string
		critical bool
	}{{a, riskStorefront, 2, "web", true}, {c, riskInternalAPI, 1, "api", true}, {b, riskWorker, 1, "worker", false}} {
		f := fx.r.Facts
		if f.Replicas != fx.pods || len(f.Containers) != 1 || f.Containers[0] != fx.ctr || f.CriticalNamespace != fx.critical ||
			f.Owner != workload.OwnerInternal || !f.KEVListed {
			t.Errorf("%s on %s: facts %+v; want %d pods, container %s, critical namespace %t, owner internal, KEV", riskKEV, fx.ref,
				f, fx.pods, fx.ctr, fx.critical)
		}
	}
	// Human Impact: cluster-admin is very high (a critical namespace cannot
	// raise it further); a plain token is medium, raised to high by the
	// critical namespace; nothing sensitive outside one is low.
	for _, hi := range []struct {
		r    *result.Risk
		ref  string
		want string
	}{{a, riskStorefront, "very high"}, {c, riskInternalAPI, "high"}, {b, riskWorker, "low"}} {
		if hi.r.Decision.HumanImpact.Value != hi.want {
			t.Errorf("%s on %s: human impact %+v, want %q", riskKEV, hi.ref, hi.r.Decision.HumanImpact, hi.want)
		}
	}
	if b.Tier == result.TierImmediate || b.Score >= a.Score {
		t.Errorf("%s on worker: tier %s score %v; want below storefront's %s %v", riskKEV, b.Tier, b.Score, a.Tier, a.Score)
	}
	if b.Decision.SystemExposure.Value != "small" {
		t.Errorf("%s on worker: system exposure %+v, want small", riskKEV, b.Decision.SystemExposure)
	}
	if !(c.Score < a.Score && c.Score > b.Score) || result.TierRank(c.Tier) < result.TierRank(a.Tier) || result.TierRank(c.Tier) > result.TierRank(b.Tier) {
		t.Errorf("%s: internal-api (%s %v) does not rank between storefront (%s %v) and worker (%s %v)",
			riskKEV, c.Tier, c.Score, a.Tier, a.Score, b.Tier, b.Score)
	}
	t.Logf("%s: storefront %s %.1f row %d; internal-api %s %.1f row %d; worker %s %.1f row %d", riskKEV,
		a.Tier, a.Score, a.Decision.Row, c.Tier, c.Score, c.Decision.Row, b.Tier, b.Score, b.Decision.Row)
}

func riskHasAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// riskCheckFunnels recounts the funnel from the risks and compares.
func riskCheckFunnels(t *testing.T, doc *result.Document, findings map[string]*match.Finding) {
	t.Helper()
	fu := doc.Summary.Risk
	if fu == nil {
		t.Fatal("summary.risk_funnel absent")
	}
	most := map[string]string{}
	reachable := map[string]bool{}
	for _, r := range doc.Risks {
		fk := riskFindingKey(r.Vulnerability, r.Package)
		if cur, ok := most[fk]; !ok || result.TierRank(r.Tier) < result.TierRank(cur) {
			most[fk] = r.Tier
		}
		if r.Facts.Exposure != workload.ExposureIsolated {
			reachable[fk] = true
		}
	}
	want := result.RiskFunnel{Findings: len(findings), Occurrences: len(doc.Risks)}
	for _, tier := range most {
		switch tier {
		case result.TierImmediate:
			want.Immediate++
		case result.TierOutOfCycle:
			want.OutOfCycle++
		case result.TierScheduled:
			want.Scheduled++
		case result.TierDefer:
			want.Defer++
		}
	}
	got := *fu
	if got.Running == nil || got.Reachable == nil || *got.Running != len(findings) || *got.Reachable != len(reachable) || got.InUse != nil {
		t.Errorf("funnel running %v reachable %v in_use %v; want %d, %d, absent (no runtime evidence)",
			riskInt(got.Running), riskInt(got.Reachable), riskInt(got.InUse), len(findings), len(reachable))
	}
	got.Running, got.Reachable, got.InUse = nil, nil, nil
	if got != want {
		t.Errorf("funnel = %+v\nwant      %+v", got, want)
	}
	if fu.Findings < riskInt(fu.Running) || riskInt(fu.Running) < riskInt(fu.Reachable) ||
		fu.Immediate+fu.OutOfCycle+fu.Scheduled+fu.Defer+fu.Suppressed != fu.Findings {
		t.Errorf("funnel does not add up: %+v", fu)
	}
	var occ int
	for _, cl := range doc.Summary.Clusters {
		if cl.Risk == nil {
			t.Errorf("cluster %s has no risk funnel", cl.Name)
			continue
		}
		occ += cl.Risk.Occurrences
		if cl.Risk.Findings > fu.Findings || cl.Risk.Immediate+cl.Risk.OutOfCycle+cl.Risk.Scheduled+cl.Risk.Defer+cl.Risk.Suppressed != cl.Risk.Findings {
			t.Errorf("cluster %s funnel does not add up: %+v", cl.Name, cl.Risk)
		}
	}
	if len(doc.Summary.Clusters) != 1 || occ != fu.Occurrences || *doc.Summary.Clusters[0].Risk.Running != *fu.Running {
		t.Errorf("cluster funnels (%d clusters, %d occurrences) do not sum to the run's %+v", len(doc.Summary.Clusters), occ, fu)
	}
}

func riskInt(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// riskCheckRemediation: the log4j upgrade is one internal rebuild, most urgent
// tier immediate, covering storefront.
func riskCheckRemediation(t *testing.T, doc *result.Document, byKey map[string]*result.Risk) {
	t.Helper()
	for _, a := range doc.Remediation {
		if !riskListHas(a.Vulnerabilities, riskKEV) {
			continue
		}
		if a.Tier != result.TierImmediate || a.Kind != result.ActionRebuild || a.Owner != workload.OwnerInternal ||
			a.FixedVersion == "" || !riskListHas(a.Workloads, riskOnKEV(t, byKey, riskStorefront).WorkloadRef()) {
			t.Errorf("remediation of %s: %+v", riskKEV, a)
		}
		if doc.Remediation[0].Tier != result.TierImmediate {
			t.Errorf("first remediation is %s, want an immediate one: %+v", doc.Remediation[0].Tier, doc.Remediation[0])
		}
		return
	}
	b, _ := json.MarshalIndent(doc.Remediation, "", " ")
	t.Errorf("no remediation fixes %s:\n%s", riskKEV, b)
}

func riskListHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
