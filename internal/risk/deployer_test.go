package risk

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/result"
)

// tableRows reads the published table straight from the file, apart from
// the parser under test.
func tableRows(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open("ssvc/deployer_patch_application_priority_1_0_0.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[1:]
}

// factsFor crafts workload and finding facts that give the four SSVC
// values, the way a real scan would state them.
func factsFor(exploitation, exposure, automatable, impact string) facts {
	f := facts{automatable: automatable, impact: "total", epss: -1}
	switch exploitation {
	case "none":
		f.exploitation = "none"
	case "public poc":
		f.exploitation = "poc"
	case "active":
		f.exploitation, f.kev = "active", true
	}
	f.exposure = map[string]string{"open": "internet", "controlled": "cluster", "small": "isolated"}[exposure]
	f.class = map[string]string{"very high": ClassTakeover, "high": ClassLateral, "medium": ClassFoothold, "low": ClassContained}[impact]
	return f
}

func TestEveryRowOfTheDeployerTable(t *testing.T) {
	rows := tableRows(t)
	if len(rows) != 72 {
		t.Fatalf("%d rows, want 72", len(rows))
	}
	for _, row := range rows {
		t.Run(strings.Join(row[1:5], "/"), func(t *testing.T) {
			e := rankOne(t, factsFor(row[1], row[2], row[3], row[4]), Options{})
			d := e.Decision
			got := []string{d.Exploitation.Value, d.SystemExposure.Value, d.Automatable.Value, d.HumanImpact.Value}
			if strings.Join(got, "/") != strings.Join(row[1:5], "/") {
				t.Fatalf("inputs %v, want %v", got, row[1:5])
			}
			if e.Tier != strings.ToLower(row[5]) || d.Outcome != e.Tier || itoa(d.Row) != row[0] {
				t.Errorf("tier %s (row %d), want %s (row %s)", e.Tier, d.Row, row[5], row[0])
			}
			if len(e.Reasons) == 0 {
				t.Error("no reasons")
			}
		})
	}
}

// TestPublishedOutcomes pins a few rows by hand, so a table swapped for
// another cannot pass.
func TestPublishedOutcomes(t *testing.T) {
	tab, err := Deployer()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   [4]string
		tier string
		row  int
	}{
		{[4]string{"none", "small", "no", "low"}, result.TierDefer, 0},
		{[4]string{"none", "open", "yes", "very high"}, result.TierOutOfCycle, 23},
		{[4]string{"active", "small", "yes", "very high"}, result.TierOutOfCycle, 55},
		{[4]string{"active", "open", "no", "very high"}, result.TierImmediate, 67},
		{[4]string{"active", "open", "yes", "high"}, result.TierImmediate, 70},
		{[4]string{"active", "open", "yes", "medium"}, result.TierOutOfCycle, 69},
	} {
		r, ok := tab.Decide(c.in[0], c.in[1], c.in[2], c.in[3])
		if !ok || r.Tier != c.tier || r.Number != c.row {
			t.Errorf("%v: %+v, want %s row %d", c.in, r, c.tier, c.row)
		}
	}
	if _, ok := tab.Decide("active", "open", "maybe", "high"); ok {
		t.Error("unknown value decided")
	}
}

func TestCorruptTablesAreRefused(t *testing.T) {
	head := "row,a,b,c,d,e\n"
	for name, data := range map[string]string{
		"empty":         "",
		"unknown value": head + "0,none,small,no,huge,defer\n",
		"unknown tier":  head + "0,none,small,no,low,never\n",
		"short":         head + "0,none,small,no,low,defer\n",
		"duplicate":     head + "0,none,small,no,low,defer\n1,none,small,no,low,defer\n",
	} {
		if _, err := parseTable([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
