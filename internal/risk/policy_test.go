package risk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
)

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyFileOverridesMappingsRulesAndAcceptsRisks(t *testing.T) {
	p, err := LoadPolicy(writePolicy(t, `
criticalNamespaces: ["env=prod"]
exposure:
  cluster: open
humanImpact:
  foothold: high
rules:
  - namespace: shop
    image: registry.example.com/shop/*
    humanImpact: very high
    reason: card data
  - namespace: batch
    tier: defer
accept:
  - vulnerability: cve-2024-1000
    namespace: shop
    package: openssl
    reason: not reachable behind the WAF
    expires: 2027-01-31
  - vulnerability: CVE-2024-1001
    reason: old exception
    expires: 2026-01-01
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f := facts{exploitation: "none", automatable: "no", impact: "total", exposure: "cluster", class: ClassFoothold, epss: -1}
	doc := docOf(f, f)
	if err := Rank(doc, Options{Policy: p, Now: now}); err != nil {
		t.Fatal(err)
	}
	var accepted, expired *result.Risk
	for i := range doc.Risks {
		switch doc.Risks[i].Vulnerability {
		case "CVE-2024-1000":
			accepted = &doc.Risks[i]
		case "CVE-2024-1001":
			expired = &doc.Risks[i]
		}
	}
	if accepted.Suppressed == nil || accepted.Suppressed.By != "policy" || !strings.Contains(accepted.Suppressed.Reason, "WAF") || accepted.Suppressed.Expires.Format("2006-01-02") != "2027-01-31" {
		t.Errorf("accepted risk: %+v", accepted.Suppressed)
	}
	if expired.Suppressed != nil || !strings.Contains(strings.Join(expired.Reasons, "|"), "accepted risk expired 2026-01-01") {
		t.Errorf("expired acceptance: suppressed %+v, reasons %q", expired.Suppressed, expired.Reasons)
	}
	d := expired.Decision
	if d.SystemExposure.Value != "open" {
		t.Errorf("exposure mapping cluster→open not applied: %+v", d.SystemExposure)
	}
	if d.HumanImpact.Value != "very high" || d.HumanImpact.Source != result.SourcePolicy || !strings.Contains(strings.Join(d.HumanImpact.Basis, " "), "card data") {
		t.Errorf("rule not applied: %+v", d.HumanImpact)
	}
	if doc.Risks[0].Suppressed != nil || doc.Risks[len(doc.Risks)-1].Suppressed == nil {
		t.Error("suppressed entries are not listed last")
	}
	if doc.Summary.Risk.Suppressed != 1 {
		t.Errorf("funnel suppressed %d, want 1", doc.Summary.Risk.Suppressed)
	}

	// The tier rule and the human-impact class mapping, on another namespace.
	doc = docOf(f)
	doc.Workloads[0].Namespace = "batch"
	doc.Workloads[0].NamespaceLabels = map[string]string{"env": "prod"}
	if err := Rank(doc, Options{Policy: p, Now: now}); err != nil {
		t.Fatal(err)
	}
	e := doc.Risks[0]
	if e.Tier != result.TierDefer || e.Decision.Override == "" || e.Decision.Outcome == result.TierDefer {
		t.Errorf("tier rule: tier %s outcome %s override %q", e.Tier, e.Decision.Outcome, e.Decision.Override)
	}
	if e.Decision.HumanImpact.Value != "very high" || !e.Facts.CriticalNamespace {
		t.Errorf("foothold→high plus critical (env=prod) should be very high: %+v", e.Decision.HumanImpact)
	}
}

func TestBadPolicyFilesAreClearErrors(t *testing.T) {
	for text, want := range map[string]string{
		"exposure: {internet: wide}":                            `"wide" is not a System Exposure`,
		"humanImpact: {boss: high}":                             `unknown class "boss"`,
		"criticalNamespaces: ['env in (prod']":                  "criticalNamespaces",
		"rules: [{namespace: shop}]":                            "sets nothing",
		"rules: [{namespace: shop, tier: now}]":                 `tier: "now"`,
		"accept: [{vulnerability: CVE-1, reason: x}]":           "must expire",
		"accept: [{vulnerability: CVE-1, expires: 2027-01-01}]": "reason is required",
		"accept: [{reason: x, expires: tomorrow}]":              "neither a date",
		"acept: []":                             "unknown field",
		"rules: [{image: '[', critical: true}]": "glob",
	} {
		_, err := LoadPolicy(writePolicy(t, text))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "policy.yaml") {
			t.Errorf("%s: error %v, want one naming the file and %q", text, err, want)
		}
	}
	if _, err := LoadPolicy(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing policy file accepted")
	}
}

func TestVEXSuppressesAndAnnotates(t *testing.T) {
	f := facts{exploitation: "active", kev: true, automatable: "yes", impact: "total", exposure: "internet", class: ClassTakeover, epss: -1}
	doc := docOf(f, f, f)
	var queries []VEXQuery
	vex := func(q VEXQuery) *result.VEXStatement {
		queries = append(queries, q)
		switch q.Vulnerability {
		case "CVE-2024-1000":
			return &result.VEXStatement{Status: result.VEXNotAffected, Justification: "vulnerable_code_not_in_execute_path", Document: "vex.json", Format: "openvex"}
		case "CVE-2024-1001":
			return &result.VEXStatement{Status: result.VEXUnderInvestigation, Document: "vex.json", Format: "openvex"}
		}
		return nil
	}
	if err := Rank(doc, Options{VEX: vex}); err != nil {
		t.Fatal(err)
	}
	if len(queries) != 3 || queries[0].Digest == "" || queries[0].PackagePURL == "" || len(queries[0].Repositories) == 0 || queries[0].Repositories[0] != "registry.example.com/shop/web" {
		t.Fatalf("queries %+v", queries)
	}
	by := map[string]result.Risk{}
	for _, e := range doc.Risks {
		by[e.Vulnerability] = e
	}
	if s := by["CVE-2024-1000"].Suppressed; s == nil || s.By != "vex" || !strings.Contains(s.Reason, "vulnerable_code_not_in_execute_path") {
		t.Errorf("not_affected: %+v", s)
	}
	if e := by["CVE-2024-1001"]; e.Suppressed != nil || e.VEX == nil || e.Tier != result.TierImmediate {
		t.Errorf("under_investigation must stay ranked: %+v", e)
	}
	fn := doc.Summary.Risk
	if fn.Suppressed != 1 || fn.Immediate != 2 || fn.Findings != 3 {
		t.Errorf("funnel %+v", fn)
	}
}
