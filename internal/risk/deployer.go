package risk

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/runlens/runlens/internal/result"
)

// deployerCSV is CERT/CC's published SSVC Deployer table, unchanged
// (ssvc/README.md).
//
//go:embed ssvc/deployer_patch_application_priority_1_0_0.csv
var deployerCSV []byte

// DeployerTable names the decision table every tier comes from.
const DeployerTable = "SSVC Deployer patch application priority 1.0.0"

// Decision point values, as the table spells them.
var (
	// ExploitationValues are SSVC Exploitation's values, least first.
	ExploitationValues = []string{"none", "public poc", "active"}
	// ExposureValues are SSVC System Exposure's values, least first.
	ExposureValues = []string{"small", "controlled", "open"}
	// AutomatableValues are SSVC Automatable's values, least first.
	AutomatableValues = []string{"no", "yes"}
	// HumanImpactValues are SSVC Human Impact's values, least first.
	HumanImpactValues = []string{"low", "medium", "high", "very high"}
)

// Row is one row of the Deployer table.
type Row struct {
	Number                                                 int
	Exploitation, Exposure, Automatable, HumanImpact, Tier string
}

// Table is the Deployer decision table, parsed and checked.
type Table struct {
	rows  []Row
	index map[[4]string]int
}

// Deployer parses the embedded table. It is checked to hold every
// combination of the four decision points exactly once with a known
// tier; the published file passes, so an error means a corrupted build.
func Deployer() (*Table, error) {
	return parseTable(deployerCSV)
}

func parseTable(data []byte) (*Table, error) {
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("SSVC deployer table: %w", err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("SSVC deployer table: no rows")
	}
	t := &Table{index: map[[4]string]int{}}
	for _, rec := range recs[1:] {
		if len(rec) != 6 {
			return nil, fmt.Errorf("SSVC deployer table: row %q: want 6 fields", strings.Join(rec, ","))
		}
		n, err := strconv.Atoi(rec[0])
		if err != nil {
			return nil, fmt.Errorf("SSVC deployer table: row number %q: %w", rec[0], err)
		}
		r := Row{Number: n, Exploitation: rec[1], Exposure: rec[2], Automatable: rec[3], HumanImpact: rec[4], Tier: strings.ToLower(rec[5])}
		for _, c := range []struct {
			v     string
			known []string
		}{{r.Exploitation, ExploitationValues}, {r.Exposure, ExposureValues}, {r.Automatable, AutomatableValues}, {r.HumanImpact, HumanImpactValues}, {r.Tier, result.Tiers}} {
			if !slices.Contains(c.known, c.v) {
				return nil, fmt.Errorf("SSVC deployer table: row %d: unknown value %q", n, c.v)
			}
		}
		k := [4]string{r.Exploitation, r.Exposure, r.Automatable, r.HumanImpact}
		if _, dup := t.index[k]; dup {
			return nil, fmt.Errorf("SSVC deployer table: row %d repeats %v", n, k)
		}
		t.index[k] = len(t.rows)
		t.rows = append(t.rows, r)
	}
	if want := len(ExploitationValues) * len(ExposureValues) * len(AutomatableValues) * len(HumanImpactValues); len(t.rows) != want {
		return nil, fmt.Errorf("SSVC deployer table: %d rows, want %d", len(t.rows), want)
	}
	return t, nil
}

// Rows returns the table's rows in published order.
func (t *Table) Rows() []Row { return slices.Clone(t.rows) }

// Decide returns the row for the four decision point values; ok is false
// for a value the table does not know.
func (t *Table) Decide(exploitation, exposure, automatable, humanImpact string) (Row, bool) {
	i, ok := t.index[[4]string{exploitation, exposure, automatable, humanImpact}]
	if !ok {
		return Row{}, false
	}
	return t.rows[i], true
}
