package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

// A finding that a database update adds carries that database's
// exploitation data, as a scan's would: lodash's advisory arrives with
// its CVE's EPSS score and KEV listing, and the re-matched findings and
// their risks have them (exploitation active).
func TestRematchAddsThreatData(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		storetest.Seed(t, st, 1, 4)
		dir, src := t.TempDir(), t.TempDir()
		epss := filepath.Join(t.TempDir(), "epss.csv")
		kev := filepath.Join(t.TempDir(), "kev.json")
		for path, text := range map[string]string{
			filepath.Join(src, "lodash.json"): lodashAdvisory,
			epss:                              "#model_version:v2025.03.14,score_date:2026-05-31T00:00:00+0000\ncve,epss,percentile\nCVE-2021-23337,0.91234,0.99512\n",
			kev: `{"catalogVersion":"2026.05.31","dateReleased":"2026-05-31T00:00:00.000Z","count":1,"vulnerabilities":[{"cveID":"CVE-2021-23337",
				"vendorProject":"lodash","product":"lodash","vulnerabilityName":"lodash command injection","dateAdded":"2026-05-30",
				"shortDescription":"-","requiredAction":"-","dueDate":"2026-06-20","knownRansomwareCampaignUse":"Unknown","notes":"","cwes":["CWE-94"]}]}`,
		} {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		built := testNow.Add(-time.Hour)
		im := &vulndb.Importer{Now: func() time.Time { return built }}
		if _, err := im.Import(context.Background(), dir, vulndb.OSVDir(src), vulndb.EPSS(epss), vulndb.KEV(kev)); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, Options{DBDir: dir})
		if err := e.srv.checkDB(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer e.srv.closeDB()
		fs, err := st.Findings(context.Background(), storetest.Digest(0))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fs {
			if f.ID != "CVE-2021-23337" {
				continue
			}
			found = true
			if f.EPSS == nil || f.EPSS.Probability != 0.91234 || f.KEV == nil || f.KEV.DateAdded.IsZero() {
				t.Fatalf("re-matched lodash finding without the database's threat data: EPSS %+v, KEV %+v", f.EPSS, f.KEV)
			}
		}
		if !found {
			t.Fatalf("image 0 has no lodash finding after the update: %+v", fs)
		}
		risks := e.allRisks("suppressed=true&vulnerability=CVE-2021-23337", 100)
		if len(risks) == 0 {
			t.Fatal("no risk of the new advisory")
		}
		for _, r := range risks {
			if r.Decision.Exploitation == nil || r.Decision.Exploitation.Value != "active" {
				t.Fatalf("risk %s exploitation %+v, want active (KEV)", r.ID, r.Decision.Exploitation)
			}
		}
	})
}
