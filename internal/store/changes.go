package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/match"
)

// ReplaceFindings replaces a digest's findings after a re-match, in one
// transaction, with a Change (cause CauseDBUpdate) for each finding that
// appeared or disappeared, dated now.
func (s *sqlStore) ReplaceFindings(ctx context.Context, digest string, findings []match.Finding, db DBVersion) ([]Change, error) {
	return s.ReplaceFindingsAt(ctx, digest, findings, db, time.Now())
}

// ReplaceFindingsAt is ReplaceFindings with its changes (and the first
// sight of the findings new) dated at.
func (s *sqlStore) ReplaceFindingsAt(ctx context.Context, digest string, findings []match.Finding, db DBVersion, at time.Time) ([]Change, error) {
	if at.IsZero() {
		at = time.Now()
	}
	var out []Change
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		var n int
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM images WHERE digest = ?`), digest).Scan(&n); err != nil {
			return fmt.Errorf("store: image %s: %w", digest, err)
		}
		if n == 0 {
			return fmt.Errorf("store: image %s: %w", digest, ErrNotFound)
		}
		type stored struct {
			first                            int64
			vuln, pkg, version, sev, ecosyst string
		}
		old := map[string]stored{}
		rows, err := tx.QueryContext(ctx, s.d.q(`SELECT fkey, first_seen, vuln, package, version, severity FROM findings WHERE digest = ?`), digest)
		if err != nil {
			return fmt.Errorf("store: findings of %s: %w", digest, err)
		}
		for rows.Next() {
			var k string
			var o stored
			if err := rows.Scan(&k, &o.first, &o.vuln, &o.pkg, &o.version, &o.sev); err != nil {
				rows.Close()
				return fmt.Errorf("store: findings of %s: %w", digest, err)
			}
			old[k] = o
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM findings WHERE digest = ?`), digest); err != nil {
			return fmt.Errorf("store: findings of %s: %w", digest, err)
		}
		var args []any
		now := nanos(at)
		seen := map[string]bool{}
		for i := range findings {
			f := &findings[i]
			k := findingKey(f)
			if seen[k] {
				continue
			}
			seen[k] = true
			first := now
			if o, ok := old[k]; ok {
				first = o.first
			} else {
				out = append(out, Change{At: at, Kind: ChangeAppeared, Cause: CauseDBUpdate, Image: digest,
					Vulnerability: f.ID, Package: f.Package.Name, Version: f.Package.Version, Severity: f.Severity})
			}
			data, err := packSmall(f)
			if err != nil {
				return err
			}
			args = findingArgs(args, digest, f, data, first)
		}
		for k, o := range old {
			if !seen[k] {
				out = append(out, Change{At: at, Kind: ChangeDisappeared, Cause: CauseDBUpdate, Image: digest,
					Vulnerability: o.vuln, Package: o.pkg, Version: o.version, Severity: o.sev})
			}
		}
		if err := s.insertRows(ctx, tx, findingInsert, findingCols, args, ""); err != nil {
			return err
		}
		var written []*match.Finding
		for i := range findings {
			written = append(written, &findings[i])
		}
		if err := s.insertRows(ctx, tx, aliasInsert, 2, aliasArgs(nil, map[[2]string]bool{}, written...), aliasConflict); err != nil {
			return err
		}
		if err := s.recountSeverity(ctx, tx, []string{digest}); err != nil {
			return err
		}
		for i := range out {
			c := &out[i]
			if err := tx.QueryRowContext(ctx, s.d.q(changeInsert+` VALUES `+placeholders(1, changeCols)+` RETURNING seq`), changeArgs(nil, c)...).Scan(&c.Seq); err != nil {
				return fmt.Errorf("store: changes: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Changes returns the feed after q.Since, newest first.
func (s *sqlStore) Changes(ctx context.Context, q ChangeQuery) (ChangePage, error) {
	limit := pageLimit(q.Limit)
	var conds []string
	var args []any
	if !q.Since.IsZero() {
		conds, args = append(conds, "at > ?"), append(args, nanos(q.Since))
	}
	if q.Cluster != "" {
		conds, args = append(conds, "cluster = ?"), append(args, q.Cluster)
	}
	if q.Kind != "" {
		conds, args = append(conds, "kind = ?"), append(args, q.Kind)
	}
	if q.Cause != "" {
		conds, args = append(conds, "cause = ?"), append(args, q.Cause)
	}
	if q.Cursor != "" {
		seq, err := decodeSeq(q.Cursor)
		if err != nil {
			return ChangePage{}, err
		}
		conds, args = append(conds, "seq < ?"), append(args, seq)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT seq, at, kind, cause, cluster, namespace, workload, image, vuln, package, version, severity, tier, risk_id
		FROM changes`+where+` ORDER BY seq DESC LIMIT ?`), append(args, limit+1)...)
	if err != nil {
		return ChangePage{}, fmt.Errorf("store: changes: %w", err)
	}
	defer rows.Close()
	var page ChangePage
	for rows.Next() {
		if len(page.Changes) == limit {
			page.Next = encodeSeq(page.Changes[limit-1].Seq)
			break
		}
		var c Change
		var at int64
		if err := rows.Scan(&c.Seq, &at, &c.Kind, &c.Cause, &c.Cluster, &c.Namespace, &c.Workload, &c.Image, &c.Vulnerability,
			&c.Package, &c.Version, &c.Severity, &c.Tier, &c.RiskID); err != nil {
			return ChangePage{}, fmt.Errorf("store: changes: %w", err)
		}
		c.At = fromNanos(at)
		page.Changes = append(page.Changes, c)
	}
	return page, rows.Err()
}

// SetDBVersion records the vulnerability database of the findings.
func (s *sqlStore) SetDBVersion(ctx context.Context, v DBVersion) error {
	return s.setMeta(ctx, "db_version", jsonText(v))
}

// DBVersion reads back what SetDBVersion recorded (zero when none).
func (s *sqlStore) DBVersion(ctx context.Context) (DBVersion, error) {
	var v DBVersion
	text, err := s.meta(ctx, "db_version")
	if err != nil || text == "" {
		return v, err
	}
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return v, fmt.Errorf("store: db version: %w", err)
	}
	return v, nil
}

func (s *sqlStore) setMeta(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, s.d.q(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`), key, value)
	if err != nil {
		return fmt.Errorf("store: meta %s: %w", key, err)
	}
	return nil
}

func (s *sqlStore) meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, s.d.q(`SELECT value FROM meta WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: meta %s: %w", key, err)
	}
	return v, nil
}
