package vulndb

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUpdatePlanSendsCredentialsOnlyToChosenMirrors(t *testing.T) {
	u := Update{OSVBase: "https://osv.example", EPSS: Feed{URL: "https://epss.example"},
		KEV: Feed{URL: "https://kev.mirror", Mirror: true}, CVE5: &Feed{URL: "https://cve.mirror", Mirror: true}}
	sources, mirrors := u.Plan()
	if len(sources) != 4 {
		t.Errorf("%d sources, want OSV, EPSS, KEV and CVE 5", len(sources))
	}
	if got := strings.Join(mirrors, " "); got != "https://osv.example https://kev.mirror https://cve.mirror" {
		t.Errorf("mirrors %q", got)
	}
	if sources, _ := (Update{OSVBase: "https://osv.example"}).Plan(); len(sources) != 1 {
		t.Errorf("empty feeds: %d sources, want OSV only", len(sources))
	}
}

func TestCheckAge(t *testing.T) {
	now := time.Now()
	md := Metadata{BuiltAt: now.Add(-2 * time.Hour)}
	var se *StaleError
	if err := CheckAge(md, time.Hour, now); !errors.As(err, &se) || se.Age != 2*time.Hour {
		t.Errorf("CheckAge = %v, want a StaleError of 2h", err)
	}
	if err := CheckAge(md, 0, now); err != nil {
		t.Errorf("max age 0: %v", err)
	}
}
