package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// execer is a *sql.Tx or *sql.DB.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// batchRows is the most rows one multi-row INSERT carries.
const batchRows = 500

// insertRows inserts the rows flattened in args (cols values each) with
// as few multi-row INSERT statements as the dialect's parameter limit
// allows: head is "INSERT INTO t (a, b)", tail what follows VALUES (an
// ON CONFLICT clause, or "").
func (s *sqlStore) insertRows(ctx context.Context, x execer, head string, cols int, args []any, tail string) error {
	return insertRows(ctx, x, s.d, head, cols, args, tail)
}

// insertRows is sqlStore.insertRows for a dialect.
func insertRows(ctx context.Context, x execer, d *dialect, head string, cols int, args []any, tail string) error {
	if len(args)%cols != 0 {
		return fmt.Errorf("store: %s: %d values for %d columns", head, len(args), cols)
	}
	per := min(batchRows, d.maxParams/cols)
	var full string
	for len(args) > 0 {
		n := min(per, len(args)/cols)
		var q string
		if n == per && full != "" {
			q = full
		} else {
			q = d.q(head + " VALUES " + placeholders(n, cols) + " " + tail)
			if n == per {
				full = q
			}
		}
		if _, err := x.ExecContext(ctx, q, args[:n*cols]...); err != nil {
			return fmt.Errorf("store: %s: %w", head, err)
		}
		args = args[n*cols:]
	}
	return nil
}

// chunks calls fn with keys in slices of at most batchRows.
func chunks(keys []string, fn func(part []string) error) error {
	for len(keys) > 0 {
		n := min(batchRows, len(keys))
		if err := fn(keys[:n]); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// inList is "(?,?,…)" for n values and the values as arguments.
func inList(keys []string) (string, []any) {
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?,", len(keys)), ",") + ")", args
}
