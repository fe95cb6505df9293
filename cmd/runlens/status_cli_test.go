package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// --ignore-status leaves findings out by status on a scan and on a saved
// result, the counts and the exit verdict follow, the document records
// it, and an unknown status is bad usage.
func TestIgnoreStatus(t *testing.T) {
	c := newCLI(t)
	full := c.json("", exitOK, "scan", "image", "--archive", sampleImage)
	total := full.Summary.Findings
	if total < 6 {
		t.Fatalf("the sample has %d findings; want at least 6", total)
	}
	for _, f := range full.Images[0].Findings {
		if f.Status != match.StatusFixed {
			t.Errorf("%s %s: status %q; every finding of the sample has a fix", f.ID, f.Package.Name, f.Status)
		}
	}

	// Every finding of the sample is fixed: ignoring them leaves none,
	// and --exit-code no longer fires.
	code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--ignore-status", "fixed", "--exit-code", "5")
	if code != exitOK {
		t.Errorf("--ignore-status fixed --exit-code 5: exit %d, want 0: %s", code, stderr)
	}
	none := c.json("", exitOK, "scan", "image", "--archive", sampleImage, "--ignore-status", "fixed")
	if len(none.Images[0].Findings) != 0 || none.Summary.Findings != 0 || !cmp.Equal(none.Filters.IgnoreStatuses, []string{"fixed"}) {
		t.Errorf("--ignore-status fixed: %d findings, summary %d, filters %+v", len(none.Images[0].Findings), none.Summary.Findings, none.Filters)
	}

	// A saved result where the distribution will not fix three findings
	// and deferred two.
	saved := full
	fs := saved.Images[0].Findings
	for i := range 5 {
		fs[i].FixedVersions = nil
		fs[i].Status = match.StatusWillNotFix
		if i >= 3 {
			fs[i].Status = match.StatusFixDeferred
		}
	}
	path := writeDoc(t, saved)
	code, out, stderr := c.run("", "report", "--input", path, "-f", "table")
	if code != exitOK || !strings.Contains(out, "will not fix") || !strings.Contains(out, "deferred") {
		t.Errorf("report -f table: exit %d, FIXED IN does not show the statuses:\n%s%s", code, out, stderr)
	}
	left := c.json("", exitOK, "report", "--input", path, "--ignore-status", "will_not_fix,fix_deferred")
	if n := len(left.Images[0].Findings); n != total-5 || left.Summary.Findings != total-5 {
		t.Errorf("report --ignore-status will_not_fix,fix_deferred: %d findings, summary %d; want %d", n, left.Summary.Findings, total-5)
	}
	sum := 0
	for _, n := range left.Summary.BySeverity {
		sum += n
	}
	if sum != total-5 {
		t.Errorf("by_severity counts %d findings, want %d", sum, total-5)
	}
	if !cmp.Equal(left.Filters.IgnoreStatuses, []string{"will_not_fix", "fix_deferred"}) {
		t.Errorf("filters recorded %+v", left.Filters)
	}
	for _, f := range left.Images[0].Findings {
		if f.Status == match.StatusWillNotFix || f.Status == match.StatusFixDeferred {
			t.Errorf("%s %s kept with status %s", f.ID, f.Package.Name, f.Status)
		}
	}

	for _, args := range [][]string{
		{"scan", "image", "--archive", sampleImage, "--ignore-status", "will_not_fix,wontfix"},
		{"report", "--input", path, "--ignore-status", "wontfix"},
	} {
		code, out, stderr := c.run("", args...)
		if code != exitUsage || out != "" || !strings.Contains(stderr, `--ignore-status: unknown status "wontfix"`) {
			t.Errorf("runlens %s: exit %d, stdout %q, stderr %q; want 64 naming the flag", strings.Join(args, " "), code, out, stderr)
		}
	}
}

// A result written by schema 1.1 has no status: report --input reads it,
// says 1.2, and --ignore-status takes a finding with fixed versions as
// fixed.
func TestIgnoreStatusReadsSchema11(t *testing.T) {
	c := newCLI(t)
	_, out, _ := c.run("", "scan", "image", "--archive", sampleImage, "-f", "json")
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	raw["schema_version"] = "1.1"
	for _, img := range raw["images"].([]any) {
		for _, f := range img.(map[string]any)["findings"].([]any) {
			delete(f.(map[string]any), "status")
		}
	}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	kept := c.json("", exitOK, "report", "--input", path, "--ignore-status", "affected")
	if kept.SchemaVersion != result.SchemaVersion || kept.Summary.Findings == 0 {
		t.Errorf("1.1 result, --ignore-status affected: schema %s, %d findings; want %s and all kept", kept.SchemaVersion, kept.Summary.Findings, result.SchemaVersion)
	}
	if gone := c.json("", exitOK, "report", "--input", path, "--ignore-status", "fixed"); gone.Summary.Findings != 0 {
		t.Errorf("1.1 result, --ignore-status fixed: %d findings left, want 0", gone.Summary.Findings)
	}
}

func writeDoc(t *testing.T, d result.Document) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "result.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
