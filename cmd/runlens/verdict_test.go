package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// report --input narrows a saved cluster result and recounts everything
// from what is left: the total and each cluster's funnel agree.
func TestReportSeverityRecountsTheClusterFunnel(t *testing.T) {
	c := newCLI(t)
	_, out, _ := c.run("", "report", "--input", "testdata/cluster.json", "--severity", "CRITICAL")
	if !strings.Contains(out, "Total: 1 vulnerabilities (CRITICAL: 1)") || !strings.Contains(out, "2 scanned, 1 failed -> 1 findings") {
		t.Errorf("total and funnel disagree after --severity CRITICAL:\n%s", out)
	}
	doc := c.json("", exitError, "report", "--input", "testdata/cluster.json", "--ignore-unfixed")
	if s := doc.Summary; s.Findings != 8 || s.Clusters[0].Findings != 8 {
		t.Errorf("--ignore-unfixed: %d findings, cluster %d; want 8 and 8", s.Findings, s.Clusters[0].Findings)
	}
}

// A policy that matched decides the exit code even when the scan is also
// incomplete, so CI sees the policy failure; stderr says what else went
// wrong. Without a match, the incomplete scan still exits 2.
func TestFailOnWinsOverAnIncompleteScan(t *testing.T) {
	c := newCLI(t)
	code, _, stderr := c.run("", "report", "--input", "testdata/cluster.json", "--fail-on", "CRITICAL")
	if code != exitFindings {
		t.Errorf("--fail-on CRITICAL with a CRITICAL and a failed image: exit %d, want %d", code, exitFindings)
	}
	for _, want := range []string{
		"runlens: --fail-on CRITICAL: 1 findings at or above CRITICAL\n",
		"runlens: the scan is also incomplete: 1 of 3 images failed to scan completely; their results are incomplete\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code, _, _ := c.run("", "report", "--input", "testdata/cluster.json", "--exit-code", "7"); code != 7 {
		t.Errorf("--exit-code 7 with findings and a failed image: exit %d", code)
	}
	code, _, stderr = c.run("", "report", "--input", "testdata/cluster.json", "--fail-on", "CRITICAL", "--severity", "LOW")
	if code != exitError || strings.Contains(stderr, "--fail-on") {
		t.Errorf("nothing matched, an image failed: exit %d, want %d; stderr:\n%s", code, exitError, stderr)
	}
}

// When --fail-on trips and the report went to a file, one line on stderr
// says so; on stdout the report shows it and stderr stays quiet.
func TestFailOnSaysSoWhenTheReportGoesToAFile(t *testing.T) {
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "result.json")
	code, stdout, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--fail-on", "HIGH", "-f", "json", "-o", out)
	if code != exitFindings || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want %d and nothing", code, stdout, exitFindings)
	}
	// 13: the sample's 4 CRITICAL and 9 HIGH findings (testdata/sample/EXPECTED.md).
	if want := "runlens: --fail-on HIGH: 13 findings at or above HIGH (report written to " + out + ")\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--fail-on", "HIGH"); code != exitFindings || stderr != "" {
		t.Errorf("report on stdout: exit %d, stderr %q; want %d and nothing", code, stderr, exitFindings)
	}
}

// --help states the exit codes and which wins.
func TestHelpStatesTheExitCodePrecedence(t *testing.T) {
	c := newCLI(t)
	_, out, _ := c.run("", "--help")
	if !strings.Contains(out, "also\n      when a scan failed or was partial: the policy wins") {
		t.Errorf("--help does not state that the policy wins over an incomplete scan:\n%s", out)
	}
}
