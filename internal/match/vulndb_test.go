package match

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/vulndb"
)

// openVulnDB builds a real store (internal/vulndb) from the same advisory
// files the map-backed source loads.
func openVulnDB(t *testing.T) *vulndb.DB { return openVulnDBB(t) }

func openVulnDBB(t testing.TB) *vulndb.DB {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := vulndb.Import(ctx, dir, vulndb.OSVDir("testdata/osv"), vulndb.OSVDir("testdata/written")); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestKnownAdvisoriesVulnDB runs the known-advisory cases against the real
// store, and checks that matching one inventory of all their packages gives
// exactly the same Result through the store as through the map source.
func TestKnownAdvisoriesVulnDB(t *testing.T) {
	db := openVulnDB(t)
	runKnown(t, db)

	var inv inventory.Inventory
	for _, c := range knownCases() {
		inv.Packages = append(inv.Packages, c.pkg)
	}
	ctx := context.Background()
	viaDB, err := Match(ctx, &inv, db)
	if err != nil {
		t.Fatal(err)
	}
	viaMap, err := Match(ctx, &inv, realSource(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(viaMap, viaDB); diff != "" {
		t.Errorf("store and map source differ (-map +store):\n%s", diff)
	}
	if len(viaDB.Findings) < 50 {
		t.Errorf("only %d findings for the whole inventory", len(viaDB.Findings))
	}
	t.Logf("%d packages, %d findings, stats %+v", len(inv.Packages), len(viaDB.Findings), viaDB.Stats)
}
