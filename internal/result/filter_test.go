package result

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/match"
)

func TestParseStatuses(t *testing.T) {
	got, err := ParseStatuses(" Will_Not_Fix,fix_deferred,,will_not_fix")
	if err != nil || !cmp.Equal(got, []string{"will_not_fix", "fix_deferred"}) {
		t.Errorf("ParseStatuses: %v, %v", got, err)
	}
	if got, err := ParseStatuses(""); err != nil || got != nil {
		t.Errorf("empty list: %v, %v", got, err)
	}
	_, err = ParseStatuses("will_not_fix,wontfix")
	if err == nil || !strings.Contains(err.Error(), "--ignore-status") || !strings.Contains(err.Error(), `"wontfix"`) {
		t.Errorf("unknown status: error %v; want one naming the flag and the word", err)
	}
}

// --ignore-status drops findings by status, a finding written before
// schema 1.2 by the status its fixed versions imply, and every count
// follows.
func TestFilterIgnoreStatuses(t *testing.T) {
	d := clusterDoc()
	for _, img := range d.Images {
		for i := range img.Findings {
			switch img.Findings[i].ID {
			case "CVE-2": // left without a status: fixed, as written by 1.1
			case "CVE-3":
				img.Findings[i].Status, img.Findings[i].FixedVersions = match.StatusWillNotFix, nil
			case "CVE-5":
				img.Findings[i].Status = match.StatusFixDeferred
			default:
				img.Findings[i].Status = match.StatusFixed
			}
		}
	}
	f := Filters{IgnoreStatuses: []string{match.StatusWillNotFix, match.StatusFixDeferred}}
	d.Filter(f)
	var left []string
	for _, img := range d.Images {
		for _, fd := range img.Findings {
			left = append(left, fd.ID)
		}
	}
	if !cmp.Equal(left, []string{"CVE-4", "CVE-1", "CVE-2"}) {
		t.Errorf("findings left %v; want CVE-4, CVE-1, CVE-2", left)
	}
	if d.Summary.Findings != 3 || d.Summary.Clusters[0].Findings != 3 || d.Summary.BySeverity["UNKNOWN"] != 0 {
		t.Errorf("summary %+v, cluster %d findings; want 3 and no UNKNOWN", d.Summary, d.Summary.Clusters[0].Findings)
	}
	if !cmp.Equal(d.Filters, f) {
		t.Errorf("filters recorded %+v, want %+v", d.Filters, f)
	}

	old := match.Finding{ID: "CVE-9"}
	if StatusOf(&old) != match.StatusAffected {
		t.Errorf("a 1.1 finding without fixed versions: status %q", StatusOf(&old))
	}
	if (Filters{IgnoreStatuses: []string{match.StatusAffected}}).Keep(&old) {
		t.Error("--ignore-status affected kept a 1.1 finding without a fix")
	}
}
