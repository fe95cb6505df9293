package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/report"
	"github.com/runlens/runlens/internal/result"
)

// sampleDigest is the image ID of the bundled sample (a docker-save
// archive has no manifest digest, so its entries name the config).
func sampleDigest(t *testing.T, c *cli) string {
	t.Helper()
	doc := c.json("", 0, "scan", "image", "--archive", sampleImage)
	if len(doc.Risks) == 0 {
		t.Fatal("no risks in the sample's result")
	}
	return doc.Risks[0].Image
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVEXSuppressesAndIsCountedNotDropped: a third-party OpenVEX
// statement on the sample's log4shell sets its risk aside; it stays in
// the JSON with the reason, is counted in the funnel and listed with
// --show-suppressed.
func TestVEXSuppressesAndIsCountedNotDropped(t *testing.T) {
	c := newCLI(t)
	digest := sampleDigest(t, c)
	vexFile := writeFile(t, "app.openvex.json", `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/app-1",
  "author": "App Team",
  "timestamp": "2026-11-01T00:00:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "CVE-2021-44228"},
    "products": [{"@id": "pkg:oci/app@`+strings.Replace(digest, ":", "%3A", 1)+`"}],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path",
    "impact_statement": "JNDI lookups are disabled"
  }]
}`)
	doc := c.json("", 0, "scan", "image", "--archive", sampleImage, "--vex", vexFile)
	var hit *result.Risk
	for i := range doc.Risks {
		if doc.Risks[i].Vulnerability == "CVE-2021-44228" {
			hit = &doc.Risks[i]
		}
	}
	if hit == nil || hit.Suppressed == nil || hit.Suppressed.By != "vex" || hit.VEX == nil || hit.VEX.Justification != "vulnerable_code_not_in_execute_path" {
		t.Fatalf("log4shell risk not suppressed by the VEX statement: %+v", hit)
	}
	if doc.Risks[len(doc.Risks)-1].Suppressed == nil {
		t.Error("the suppressed entry is not listed last")
	}
	if f := doc.Summary.Risk; f.Suppressed != 1 || f.Immediate+f.OutOfCycle+f.Scheduled+f.Defer+f.Suppressed != f.Findings {
		t.Errorf("funnel %+v: want 1 suppressed and tiers adding up", f)
	}
	_, out, _ := c.run("", "scan", "image", "--archive", sampleImage, "--vex", vexFile)
	if !strings.Contains(out, "1 suppressed by VEX") || strings.Contains(out, "SUPPRESSED (") {
		t.Errorf("table without --show-suppressed:\n%s", out)
	}
	_, out, _ = c.run("", "scan", "image", "--archive", sampleImage, "--vex", vexFile, "--show-suppressed")
	if !strings.Contains(out, "SUPPRESSED (1)") || !strings.Contains(out, "VEX not_affected: vulnerable_code_not_in_execute_path") {
		t.Errorf("table with --show-suppressed:\n%s", out)
	}
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--vex", writeFile(t, "bad.json", `{"not": "vex"}`)); code != 64 || !strings.Contains(stderr, "bad.json") {
		t.Errorf("bad VEX file: exit %d, stderr %q; want 64 naming the file", code, stderr)
	}
}

func TestPolicyAndFailOnTier(t *testing.T) {
	c := newCLI(t)
	// The sample's two KEV log4j findings are out-of-cycle: CI fails on it.
	code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--fail-on-tier", "out-of-cycle", "-o", filepath.Join(t.TempDir(), "r.txt"))
	if code != 1 || !strings.Contains(stderr, "--fail-on-tier out-of-cycle: 2 risks in tier out-of-cycle or above") {
		t.Errorf("--fail-on-tier out-of-cycle: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := c.run("", "scan", "image", "--archive", sampleImage, "--fail-on-tier", "immediate"); code != 0 {
		t.Errorf("--fail-on-tier immediate: exit %d, want 0 (nothing immediate)", code)
	}
	// Accepting both log4j findings clears the out-of-cycle tier.
	policy := writeFile(t, "policy.yaml", `
accept:
  - vulnerability: CVE-2021-44228
    reason: JNDI disabled by configuration
    expires: 2099-01-01
  - vulnerability: CVE-2021-45046
    reason: JNDI disabled by configuration
    expires: 2099-01-01
`)
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--policy", policy, "--fail-on-tier", "out-of-cycle"); code != 0 {
		t.Errorf("accepted risks still fail CI: exit %d: %s", code, stderr)
	}
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--policy", writeFile(t, "p.yaml", "accept: [{vulnerability: CVE-1}]")); code != 64 || !strings.Contains(stderr, "reason is required") {
		t.Errorf("bad policy: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := c.run("", "scan", "image", "--archive", sampleImage, "--fail-on-tier", "soon"); code != 64 {
		t.Errorf("--fail-on-tier soon: exit %d, want 64", code)
	}
}

// TestReportReplaysIntoEveryFormat: a saved result renders in every
// format, each non-empty, and explain shows an entry's path.
func TestReportReplaysIntoEveryFormat(t *testing.T) {
	c := newCLI(t)
	saved := filepath.Join(t.TempDir(), "result.json")
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "-f", "json", "-o", saved); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range report.Names() {
		code, out, stderr := c.run("", "report", "--input", saved, "--format", name)
		if code != 0 || len(out) < 200 {
			t.Errorf("report --format %s: exit %d, %d bytes; stderr %s", name, code, len(out), stderr)
		}
	}
	code, out, stderr := c.run("", "explain", "CVE-2021-44228", "--input", saved)
	if code != 0 || !strings.Contains(out, "row 69") || !strings.Contains(out, "path: exploitation active → system exposure open → automatable yes → human impact medium → out-of-cycle") {
		t.Errorf("explain: exit %d, stderr %s\n%s", code, stderr, out)
	}
	if code, _, stderr := c.run("", "explain", "r-nothing", "--input", saved); code == 0 || !strings.Contains(stderr, "no risk") {
		t.Errorf("explain of an unknown id: exit %d, %s", code, stderr)
	}
}

// TestEvidenceGivesRisksTheirRuntimeState: a node agent's evidence for
// the web workload's three pods — log4j-core loaded in one, everything
// watched for 48 h with no drops — makes log4shell "loaded" (the record in
// its reasons) and lodash, never seen in use, "not-observed" with its
// System Exposure lowered to small; the api workload, unwatched, stays
// unknown.
func TestEvidenceGivesRisksTheirRuntimeState(t *testing.T) {
	c := newCLI(t)
	const web = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	window := `{"start": "2026-11-29T00:00:00Z", "end": "2026-12-01T00:00:00Z", "complete": true}`
	containers := ""
	for i := 1; i <= 3; i++ {
		if i > 1 {
			containers += ","
		}
		containers += `{"id": "c` + string(rune('0'+i)) + `", "name": "web", "pod_uid": "0a1b2c3d-0000-4000-8000-00000000000` + string(rune('0'+i)) + `", "digest": "` + web + `", "window": ` + window + `}`
	}
	ev := writeFile(t, "node-1.json", `{"schema_version": "1.0", "node": "node-1", "window": `+window+`,
  "containers": [`+containers+`],
  "records": [{"digest": "`+web+`", "package": {"name": "org.apache.logging.log4j:log4j-core", "version": "2.14.1"},
    "pod_uid": "0a1b2c3d-0000-4000-8000-000000000002", "pod_namespace": "shop", "pod_name": "web-7d9f-b2", "state": "loaded",
    "pids": [4242], "files": ["/app/lib/log4j-core-2.14.1.jar"], "window": `+window+`}]}`)
	code, out, stderr := c.run("", "report", "--input", "testdata/cluster.json", "--evidence", ev, "-f", "json")
	if code != 2 { // the fixture has a failed image
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc result.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	by := map[string]result.Risk{}
	for _, r := range doc.Risks {
		by[r.Workload+" "+r.Vulnerability] = r
	}
	log4shell, lodash, api := by["Deployment/web CVE-2021-44228"], by["Deployment/web CVE-2021-23337"], by["Deployment/api CVE-2024-45296"]
	if log4shell.Runtime.State != result.RuntimeLoaded || !strings.Contains(strings.Join(log4shell.Reasons, "|"), "runtime: loaded (loaded by pid 4242 (/app/lib/log4j-core-2.14.1.jar) in shop/web-7d9f-b2)") {
		t.Errorf("log4shell: %+v", log4shell.Runtime)
	}
	if lodash.Runtime.State != result.RuntimeNotObserved || lodash.Decision.SystemExposure.Value != "small" || lodash.Decision.SystemExposure.Source != result.SourceRuntime {
		t.Errorf("lodash: runtime %+v, exposure %+v", lodash.Runtime, lodash.Decision.SystemExposure)
	}
	if lodash.Score >= log4shell.Score || api.Runtime.State != result.RuntimeUnknown {
		t.Errorf("scores %.1f (lodash) vs %.1f (log4shell); api %s", lodash.Score, log4shell.Score, api.Runtime.State)
	}
	if f := doc.Summary.Risk; f.InUse == nil || *f.InUse != 1 {
		t.Errorf("funnel in use %v, want 1", f.InUse)
	}
	if code, _, stderr := c.run("", "report", "--input", "testdata/cluster.json", "--evidence", writeFile(t, "bad.json", "{}")); code != 64 || !strings.Contains(stderr, "bad.json") {
		t.Errorf("bad evidence: exit %d, %s", code, stderr)
	}
}
