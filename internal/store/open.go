package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	// The two database/sql drivers the store speaks.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// sqlStore is the Store over database/sql. w takes every write (one
// connection for SQLite, whose writers serialise anyway); r serves reads
// (several connections: WAL lets them run beside the writer).
type sqlStore struct {
	w, r *sql.DB
	d    *dialect
	// path is the SQLite file ("" for PostgreSQL).
	path string
	// funnels caches Funnel("").
	funnels funnelCache
}

// Open opens (creating when needed) the store named by dsn and applies
// the migrations it lacks: a file path or "sqlite:PATH" for SQLite (one
// file in WAL mode), "postgres://…" or "postgresql://…" for PostgreSQL.
func Open(ctx context.Context, dsn string) (Store, error) {
	return openUpTo(ctx, dsn, 0)
}

// openUpTo is Open applying migrations up to upTo only (all when 0), for
// the migration tests.
func openUpTo(ctx context.Context, dsn string, upTo int) (*sqlStore, error) {
	var s *sqlStore
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s, err = openPostgres(ctx, dsn)
	} else {
		s, err = openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.w, s.d, upTo); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string) (*sqlStore, error) {
	if path == "" {
		return nil, errors.New("store: no SQLite file named")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	// A 64 MiB page cache (the default is 2 MiB) keeps the risks table's
	// indexes in memory through an ingest's inserts.
	const pragmas = "_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)"
	w, err := sql.Open("sqlite", path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	return &sqlStore{w: w, r: r, d: &sqliteDialect, path: path}, nil
}

func openPostgres(ctx context.Context, dsn string) (*sqlStore, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	return &sqlStore{w: db, r: db, d: &postgresDialect}, nil
}

// Close releases the database.
func (s *sqlStore) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// tx runs fn in one write transaction, committed when fn returns nil.
func (s *sqlStore) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
