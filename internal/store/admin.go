package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// CreateToken stores a token's row (its hash, never the secret).
func (s *sqlStore) CreateToken(ctx context.Context, t Token) (Token, error) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	err := s.w.QueryRowContext(ctx, s.d.q(`INSERT INTO tokens (name, scope, cluster, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		t.Name, t.Scope, t.Cluster, t.Hash, nanos(t.CreatedAt)).Scan(&t.ID)
	if err != nil {
		return Token{}, fmt.Errorf("store: token %s: %w", t.Name, err)
	}
	return t, nil
}

const tokenColumns = `id, name, scope, cluster, hash, created_at`

func scanToken(r interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var at int64
	err := r.Scan(&t.ID, &t.Name, &t.Scope, &t.Cluster, &t.Hash, &at)
	t.CreatedAt = fromNanos(at)
	return t, err
}

// Authenticate finds the token whose hash is hash.
func (s *sqlStore) Authenticate(ctx context.Context, hash []byte) (Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, s.d.q(`SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("store: token: %w", ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: token: %w", err)
	}
	return t, nil
}

// Tokens lists the tokens by id.
func (s *sqlStore) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken removes a token.
func (s *sqlStore) RevokeToken(ctx context.Context, id int64) error {
	return s.deleteOne(ctx, "tokens", id)
}

// deleteOne deletes row id of table, ErrNotFound when there is none.
func (s *sqlStore) deleteOne(ctx context.Context, table string, id int64) error {
	res, err := s.w.ExecContext(ctx, s.d.q(`DELETE FROM `+table+` WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: %s %d: %w", table, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: %s %d: %w", table, id, ErrNotFound)
	}
	return nil
}

// PutDocument stores a side document, replacing one of the same kind,
// cluster and name.
func (s *sqlStore) PutDocument(ctx context.Context, d SideDocument) error {
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = time.Now().UTC()
	}
	_, err := s.w.ExecContext(ctx, s.d.q(`INSERT INTO documents (kind, cluster, name, body, received_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, cluster, name) DO UPDATE SET body = excluded.body, received_at = excluded.received_at`),
		d.Kind, d.Cluster, d.Name, d.Body, nanos(d.ReceivedAt))
	if err != nil {
		return fmt.Errorf("store: document %s/%s: %w", d.Kind, d.Name, err)
	}
	return nil
}

// Documents lists a kind's side documents of a cluster ("" for all).
func (s *sqlStore) Documents(ctx context.Context, kind, cluster string) ([]SideDocument, error) {
	q, args := `SELECT kind, cluster, name, body, received_at FROM documents WHERE kind = ?`, []any{kind}
	if cluster != "" {
		q, args = q+` AND cluster = ?`, append(args, cluster)
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(q+` ORDER BY cluster, name`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: documents: %w", err)
	}
	defer rows.Close()
	var out []SideDocument
	for rows.Next() {
		var d SideDocument
		var at int64
		if err := rows.Scan(&d.Kind, &d.Cluster, &d.Name, &d.Body, &at); err != nil {
			return nil, fmt.Errorf("store: documents: %w", err)
		}
		d.ReceivedAt = fromNanos(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Accept records an accepted risk.
func (s *sqlStore) Accept(ctx context.Context, a Acceptance) (Acceptance, error) {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now().UTC()
	}
	err := s.w.QueryRowContext(ctx, s.d.q(`INSERT INTO acceptances (vuln, package, cluster, namespace, workload, image, reason, expires, by_whom, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		a.Vulnerability, a.Package, a.Cluster, a.Namespace, a.Workload, a.Image, a.Reason, nanos(a.Expires), a.By, nanos(a.CreatedAt)).Scan(&a.ID)
	if err != nil {
		return Acceptance{}, fmt.Errorf("store: accept %s: %w", a.Vulnerability, err)
	}
	return a, nil
}

// Acceptances lists the acceptances unexpired at now (never-expiring
// ones included), by id.
func (s *sqlStore) Acceptances(ctx context.Context, now time.Time) ([]Acceptance, error) {
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT id, vuln, package, cluster, namespace, workload, image, reason, expires, by_whom, created_at
		FROM acceptances WHERE expires = 0 OR expires > ? ORDER BY id`), nanos(now))
	if err != nil {
		return nil, fmt.Errorf("store: acceptances: %w", err)
	}
	defer rows.Close()
	var out []Acceptance
	for rows.Next() {
		var a Acceptance
		var exp, at int64
		if err := rows.Scan(&a.ID, &a.Vulnerability, &a.Package, &a.Cluster, &a.Namespace, &a.Workload, &a.Image, &a.Reason, &exp, &a.By, &at); err != nil {
			return nil, fmt.Errorf("store: acceptances: %w", err)
		}
		a.Expires, a.CreatedAt = fromNanos(exp), fromNanos(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Unaccept removes an acceptance.
func (s *sqlStore) Unaccept(ctx context.Context, id int64) error {
	return s.deleteOne(ctx, "acceptances", id)
}

// Prune deletes scans and changes older than before (each cluster's
// latest scan is kept) and the images no cluster runs any more that were
// last scanned before it, with their findings and package index.
func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int64, error) {
	b := nanos(before)
	var total int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		total = 0
		stmts := []string{
			`DELETE FROM scans WHERE at < ? AND id NOT IN (SELECT last_scan_id FROM clusters)`,
			`DELETE FROM changes WHERE at < ?`,
			`DELETE FROM findings WHERE digest IN (SELECT digest FROM images WHERE scanned_at < ? AND digest NOT IN (SELECT digest FROM cluster_images))`,
			`DELETE FROM image_packages WHERE digest IN (SELECT digest FROM images WHERE scanned_at < ? AND digest NOT IN (SELECT digest FROM cluster_images))`,
			`DELETE FROM image_severity WHERE digest IN (SELECT digest FROM images WHERE scanned_at < ? AND digest NOT IN (SELECT digest FROM cluster_images))`,
			`DELETE FROM images WHERE scanned_at < ? AND digest NOT IN (SELECT digest FROM cluster_images)`,
		}
		for i, q := range stmts {
			res, err := tx.ExecContext(ctx, s.d.q(q), b)
			if err != nil {
				return fmt.Errorf("store: prune: %w", err)
			}
			if n, _ := res.RowsAffected(); i < 2 || i == len(stmts)-1 {
				total += n
			}
		}
		return nil
	})
	return total, err
}

// Backup writes a consistent copy of the store to path (SQLite's VACUUM
// INTO); PostgreSQL says to use pg_dump.
func (s *sqlStore) Backup(ctx context.Context, path string) error {
	if s.d.name != "sqlite" {
		return errors.New("store: backup of a PostgreSQL store: use pg_dump (e.g. pg_dump --format=custom DBNAME > runlens.dump)")
	}
	if _, err := s.w.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}

// Size is the store's size on disk in bytes.
func (s *sqlStore) Size(ctx context.Context) (int64, error) {
	if s.d.name != "sqlite" {
		var n int64
		if err := s.r.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
			return 0, fmt.Errorf("store: size: %w", err)
		}
		return n, nil
	}
	var total int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total, nil
}
