package store_test

import (
	"testing"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// TestMigrations opens an empty store (every migration applied), and a
// store at migration 1 holding a result, then opens that one again: the
// rest apply and the result is kept.
func TestMigrations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		v, err := store.SchemaVersion(ctx, b.Store)
		if err != nil || v != 5 {
			t.Fatalf("fresh store at version %d, %v; want 5", v, err)
		}
		var dsn string
		if b.Name == "sqlite" {
			dsn = "sqlite:" + t.TempDir() + "/old.db"
		} else {
			d, err := storetest.PostgresDSN(t)
			if err != nil {
				t.Fatal(err)
			}
			dsn = d
		}
		old, err := store.OpenUpTo(ctx, dsn, 1)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := store.SchemaVersion(ctx, old); v != 1 {
			t.Fatalf("old store at version %d", v)
		}
		if _, err := old.CreateToken(ctx, store.Token{Name: "x", Scope: store.ScopeRead, Hash: []byte("h")}); err == nil {
			t.Fatal("tokens exist at migration 1")
		}
		doc := storetest.Document("prod", 2, storetest.DocOptions{Images: 1})
		img := doc.Images[0]
		var risk result.Risk
		for _, r := range doc.Risks {
			if r.Vulnerability == img.Findings[0].ID {
				risk = r
			}
		}
		if err := store.WriteV1Rows(ctx, old, img.Target.Digest, img.Findings[0], img.Findings[1], risk); err != nil {
			t.Fatal(err)
		}
		old.Close()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if v, _ := store.SchemaVersion(ctx, st); v != 5 {
			t.Fatalf("migrated store at version %d", v)
		}
		// The rows are kept, and what migration 3 derives from them is
		// there: the risk found by its finding's alias, the image's
		// findings counted.
		got := allRisks(t, st, store.RiskQuery{Vulnerability: img.Findings[0].Aliases[0]})
		if len(got) != 1 || got[0].ID != risk.ID {
			t.Fatalf("risks by alias after migrating: %+v", got)
		}
		im, err := st.Image(ctx, img.Target.Digest)
		if err != nil || len(im.Image.Findings) != 2 || im.Findings[img.Findings[0].Severity] == 0 {
			t.Fatalf("image after migrating %+v, %v", im, err)
		}
		if cs, _ := st.Clusters(ctx); len(cs) != 1 {
			t.Fatalf("clusters after migrating %+v", cs)
		}
		// Migration 5 counts the stored risks.
		if tc, err := st.TierCounts(ctx); err != nil || tc["prod"][risk.Tier] != 1 {
			t.Fatalf("tier counts after migrating %v, %v", tc, err)
		}
		if _, err := st.CreateToken(ctx, store.Token{Name: "x", Scope: store.ScopeRead, Hash: []byte("h")}); err != nil {
			t.Fatalf("tokens after migrating: %v", err)
		}
		// And the new code writes to it.
		if _, err := st.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: doc}); err != nil {
			t.Fatal(err)
		}
		// Opening again applies nothing twice.
		again, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		again.Close()
	})
}

// TestConcurrentOpen opens one new database from several goroutines at
// once (as servers starting together would): every Open succeeds and
// each migration is applied once.
func TestConcurrentOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		dsn := "sqlite:" + t.TempDir() + "/new.db"
		if b.Name == "postgres" {
			d, err := storetest.PostgresDSN(t)
			if err != nil {
				t.Fatal(err)
			}
			dsn = d
		}
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				st, err := store.Open(ctx, dsn)
				if err == nil {
					st.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	})
}
