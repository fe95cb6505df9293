package store_test

import (
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// TestMigrations opens an empty store (every migration applied), and a
// store at migration 1 holding a result, then opens that one again: the
// rest apply and the result is kept.
func TestMigrations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		v, err := store.SchemaVersion(ctx, b.Store)
		if err != nil || v != 2 {
			t.Fatalf("fresh store at version %d, %v; want 2", v, err)
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
		doc := storetest.Document("prod", 10, storetest.DocOptions{})
		if _, err := old.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: doc, At: time.Unix(10, 0)}); err != nil {
			t.Fatal(err)
		}
		old.Close()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if v, _ := store.SchemaVersion(ctx, st); v != 2 {
			t.Fatalf("migrated store at version %d", v)
		}
		if got := allRisks(t, st, store.RiskQuery{Suppressed: true, Limit: 1000}); len(got) != len(doc.Risks) {
			t.Fatalf("%d risks after migrating, want %d", len(got), len(doc.Risks))
		}
		if _, err := st.CreateToken(ctx, store.Token{Name: "x", Scope: store.ScopeRead, Hash: []byte("h")}); err != nil {
			t.Fatalf("tokens after migrating: %v", err)
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
