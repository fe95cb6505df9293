package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/result"
)

// A partial scan is never shown as clean, in any format or on replay: the
// table says PARTIAL with the reason and counts it in the totals, the JSON
// says partial, a saved result replays as partial, and every path exits 2.
func TestPartialScanIsNeverCleanInAnyFormat(t *testing.T) {
	base := gzTar(t, files(stretch, file("app/node_modules/lodash/package.json", lodashJSON)))
	top := gzTar(t, files(file("app/extra.txt", strings.Repeat("runlens ", 4096))))
	top.gz = top.gz[:len(top.gz)/2] // truncated: the layer breaks mid-stream
	archive := archiveOf(t, base, top)
	c := newCLI(t)

	code, out, _ := c.run("", "scan", "image", "--archive", archive)
	if code != exitError {
		t.Errorf("table: exit %d, want %d", code, exitError)
	}
	if !strings.Contains(out, "PARTIAL SCAN (results incomplete)") || !strings.Contains(out, "1 PARTIAL") {
		t.Errorf("table does not say the scan is partial:\n%s", out)
	}

	saved := filepath.Join(t.TempDir(), "partial.json")
	if code, _, stderr := c.run("", "scan", "image", "--archive", archive, "-f", "json", "-o", saved); code != exitError {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	r := jsonResult(t, string(b))
	if r.Status != result.StatusPartial || r.Error == "" || !hasFinding(r, "lodash") {
		t.Errorf("json: status %q error %q findings %v; want partial with a reason and the base layer's findings", r.Status, r.Error, pairs(r))
	}

	code, out, _ = c.run("", "report", "--input", saved)
	if code != exitError || !strings.Contains(out, "PARTIAL SCAN") {
		t.Errorf("replay: exit %d; want %d and PARTIAL in:\n%s", code, exitError, out)
	}
}
