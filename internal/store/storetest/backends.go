// Package storetest holds what tests of the server's store and of its
// users need: every backend (SQLite in a temporary directory, PostgreSQL
// in a throwaway server of its own) and seeded stores built from real,
// ranked results.
package storetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/runlens/runlens/internal/store"
)

// Backend is one store to run a test against.
type Backend struct {
	Name  string
	Store store.Store
	// DSN opens the same store again.
	DSN string
}

// Backends returns an empty store of each backend: "sqlite" always and
// "postgres" when a PostgreSQL server can be started (under CI=true its
// absence fails the test; otherwise the test logs why and goes on with
// SQLite alone). Each store is closed (and its database dropped) at the
// end of the test.
func Backends(t testing.TB) []Backend {
	t.Helper()
	out := []Backend{SQLite(t)}
	if b, ok := Postgres(t); ok {
		out = append(out, b)
	}
	return out
}

// SQLite returns an empty SQLite store in t.TempDir().
func SQLite(t testing.TB) Backend {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "runlens.db")
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return Backend{Name: "sqlite", Store: st, DSN: dsn}
}

// Postgres returns an empty store in a fresh database of the test
// binary's PostgreSQL server (started at first use); ok is false when
// there is none (skipped, or failed under CI=true).
func Postgres(t testing.TB) (Backend, bool) {
	t.Helper()
	dsn, err := PostgresDSN(t)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("postgres backend: %v", err)
		}
		t.Logf("postgres backend skipped: %v", err)
		return Backend{}, false
	}
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return Backend{Name: "postgres", Store: st, DSN: dsn}, true
}

// Each runs fn as a subtest on every backend.
func Each(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var b Backend
			if name == "sqlite" {
				b = SQLite(t)
			} else {
				var ok bool
				if b, ok = Postgres(t); !ok {
					t.Skip("no PostgreSQL server")
				}
			}
			fn(t, b)
		})
	}
}
