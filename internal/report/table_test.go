package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// A finding without a fixed version shows what its distribution said of
// the fix in FIXED IN; one with no word (affected) shows "-".
func TestTableFixedInShowsTheStatus(t *testing.T) {
	fd := func(id, status string, fixed ...string) match.Finding {
		return match.Finding{ID: id, Severity: "LOW", Status: status, FixedVersions: fixed,
			Package: match.PackageRef{Name: "pkg-" + id, Version: "1", Ecosystem: "Debian:12", Type: "deb"}}
	}
	img := &result.Image{
		Target: image.Descriptor{Reference: "r/app:1", Digest: webDigest}, Status: result.StatusScanned,
		Findings: []match.Finding{
			fd("CVE-2099-0001", match.StatusWillNotFix),
			fd("CVE-2099-0002", match.StatusFixDeferred),
			fd("CVE-2099-0003", match.StatusEndOfLife),
			fd("CVE-2099-0004", match.StatusAffected),
			fd("CVE-2099-0005", match.StatusFixed, "1.1", "1.2"),
			fd("CVE-2099-0006", ""), // written before schema 1.2
		},
	}
	doc := result.New(result.NewHeader("scan image", "test", nil), []*result.Image{img}, nil, nil)
	var b bytes.Buffer
	if err := writeTable(&b, doc, Options{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"CVE-2099-0001": "will not fix",
		"CVE-2099-0002": "deferred",
		"CVE-2099-0003": "end of life",
		"CVE-2099-0004": "-",
		"CVE-2099-0005": "1.1, 1.2",
		"CVE-2099-0006": "-",
	}
	for _, line := range strings.Split(b.String(), "\n") {
		for id, fixedIn := range want {
			if !strings.Contains(line, " "+id+" ") {
				continue
			}
			// The columns after the ID: SEVERITY, EXPLOIT, FIXED IN, TYPE.
			_, rest, _ := strings.Cut(line, " "+id+" ")
			cols := strings.Fields(strings.TrimSpace(rest))
			got := strings.Join(cols[2:len(cols)-1], " ")
			if got != fixedIn {
				t.Errorf("%s: FIXED IN %q, want %q\n%s", id, got, fixedIn, line)
			}
			delete(want, id)
		}
	}
	for id := range want {
		t.Errorf("%s: no table row\n%s", id, b.String())
	}
}
