package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/runlens/runlens/internal/match"
)

// postMigrations are steps of a migration that SQL alone cannot do, run
// in its transaction after its statements.
var postMigrations = map[int]func(ctx context.Context, tx *sql.Tx, d *dialect) error{
	3: backfillAliases,
}

// backfillAliases fills vuln_aliases from the stored findings.
func backfillAliases(ctx context.Context, tx *sql.Tx, d *dialect) error {
	rows, err := tx.QueryContext(ctx, `SELECT data FROM findings`)
	if err != nil {
		return err
	}
	seen := map[[2]string]bool{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			rows.Close()
			return err
		}
		var f match.Finding
		if err := unpack(data, &f); err != nil {
			rows.Close()
			return err
		}
		for _, a := range f.Aliases {
			seen[[2]string{a, f.ID}] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var args []any
	for k := range seen {
		args = append(args, k[0], k[1])
	}
	return insertRows(ctx, tx, d, aliasInsert, 2, args, aliasConflict)
}

const (
	aliasInsert   = `INSERT INTO vuln_aliases (alias, vuln)`
	aliasConflict = `ON CONFLICT (alias, vuln) DO NOTHING`
)

// aliasArgs appends the (alias, id) rows of findings not yet in seen.
func aliasArgs(args []any, seen map[[2]string]bool, fs ...*match.Finding) []any {
	for _, f := range fs {
		for _, a := range f.Aliases {
			if k := [2]string{a, f.ID}; !seen[k] {
				seen[k] = true
				args = append(args, a, f.ID)
			}
		}
	}
	return args
}

// recountSeverity recomputes the per-severity finding counts of digests.
func (s *sqlStore) recountSeverity(ctx context.Context, x execer, digests []string) error {
	err := chunks(digests, func(part []string) error {
		list, a := inList(part)
		if _, err := x.ExecContext(ctx, s.d.q(`DELETE FROM image_severity WHERE digest IN `+list), a...); err != nil {
			return err
		}
		_, err := x.ExecContext(ctx, s.d.q(`INSERT INTO image_severity (digest, severity, n) SELECT digest, severity, COUNT(*) FROM findings WHERE digest IN `+list+` GROUP BY digest, severity`), a...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: severity counts: %w", err)
	}
	return nil
}

// vulnIDs are id itself and the finding ids id is an alias of.
func (s *sqlStore) vulnIDs(ctx context.Context, id string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT vuln FROM vuln_aliases WHERE alias = ?`), id)
	if err != nil {
		return nil, fmt.Errorf("store: aliases of %s: %w", id, err)
	}
	defer rows.Close()
	out := []string{id}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: aliases of %s: %w", id, err)
		}
		if v != id {
			out = append(out, v)
		}
	}
	return out, rows.Err()
}
