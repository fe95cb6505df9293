package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/runlens/runlens/internal/result"
)

// riskWhere is q's filter as a WHERE clause (without the cursor) and its
// arguments.
func (s *sqlStore) riskWhere(q *RiskQuery, vulns []string) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if !q.Suppressed {
		add("suppressed = 0")
	}
	if q.Cluster != "" {
		add("cluster = ?", q.Cluster)
	}
	if q.Namespace != "" {
		add("namespace = ?", q.Namespace)
	}
	if q.Workload != "" {
		add("workload = ?", q.Workload)
	}
	if q.Tier != "" {
		add("tier_rank = ?", result.TierRank(q.Tier))
	}
	if q.MinTier != "" {
		add("tier_rank <= ?", result.TierRank(q.MinTier))
	}
	if q.Owner != "" {
		add("owner = ?", q.Owner)
	}
	switch q.Fix {
	case "available":
		add("fixed_version <> ''")
	case "none":
		add("fixed_version = ''")
	}
	if q.Image != "" {
		add("digest = ?", q.Image)
	}
	if len(vulns) > 0 {
		list, a := inList(vulns)
		add("vuln IN "+list, a...)
	}
	if q.Package != "" {
		add("package = ?", q.Package)
	}
	if q.Search != "" {
		add("search LIKE ? ESCAPE '\\'", "%"+escapeLike(strings.ToLower(q.Search))+"%")
	}
	if !q.NewSince.IsZero() {
		add("first_seen > ?", nanos(q.NewSince))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

const riskColumns = `id, tier_rank, nscore, first_seen, last_seen, owner, fixed_version, data`

// scanRisk reads one row of riskColumns.
func scanRisk(rows interface{ Scan(...any) error }) (RiskRow, riskCursor, error) {
	var row RiskRow
	var c riskCursor
	var first, last int64
	var data []byte
	if err := rows.Scan(&c.id, &c.tierRank, &c.nscore, &first, &last, &row.Owner, &row.FixedVersion, &data); err != nil {
		return row, c, fmt.Errorf("store: risk: %w", err)
	}
	if err := unpack(data, &row.Risk); err != nil {
		return row, c, err
	}
	row.FirstSeen, row.LastSeen = fromNanos(first), fromNanos(last)
	return row, c, nil
}

// Risks returns one page of the ranked current risks matching q.
func (s *sqlStore) Risks(ctx context.Context, q RiskQuery) (RiskPage, error) {
	limit := pageLimit(q.Limit)
	var vulns []string
	if q.Vulnerability != "" {
		var err error
		if vulns, err = s.vulnIDs(ctx, q.Vulnerability); err != nil {
			return RiskPage{}, err
		}
	}
	where, args := s.riskWhere(&q, vulns)
	if q.Cursor != "" {
		c, err := decodeRiskCursor(q.Cursor)
		if err != nil {
			return RiskPage{}, err
		}
		if where == "" {
			where = " WHERE "
		} else {
			where += " AND "
		}
		where += "(tier_rank, nscore, id) > (?, ?, ?)"
		args = append(args, c.tierRank, c.nscore, c.id)
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT `+riskColumns+` FROM risks`+where+` ORDER BY tier_rank, nscore, id LIMIT ?`), append(args, limit+1)...)
	if err != nil {
		return RiskPage{}, fmt.Errorf("store: risks: %w", err)
	}
	defer rows.Close()
	var page RiskPage
	var last riskCursor
	for rows.Next() {
		if len(page.Risks) == limit {
			page.Next = last.encode()
			break
		}
		row, c, err := scanRisk(rows)
		if err != nil {
			return RiskPage{}, err
		}
		page.Risks = append(page.Risks, row)
		last = c
	}
	if err := rows.Err(); err != nil {
		return RiskPage{}, fmt.Errorf("store: risks: %w", err)
	}
	return page, nil
}

// Risk returns one current risk occurrence by id.
func (s *sqlStore) Risk(ctx context.Context, id string) (*result.Risk, error) {
	row, _, err := scanRisk(s.r.QueryRowContext(ctx, s.d.q(`SELECT `+riskColumns+` FROM risks WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: risk %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &row.Risk, nil
}

// Funnel totals the current risks as RiskFunnel does: unique findings
// (digest × vulnerability × package) per stage.
func (s *sqlStore) Funnel(ctx context.Context, cluster string) (result.RiskFunnel, error) {
	if cluster == "" {
		return s.totalFunnel(ctx)
	}
	return s.funnel(ctx, s.r, cluster)
}

// funnel is Funnel read through x (a transaction's view when x is one).
func (s *sqlStore) funnel(ctx context.Context, x execer, cluster string) (result.RiskFunnel, error) {
	where, args := "", []any(nil)
	if cluster != "" {
		where, args = " WHERE cluster = ?", []any{cluster}
	}
	return s.funnelWhere(ctx, x, where, args)
}

// funnelWhere totals the risks a WHERE clause keeps.
func (s *sqlStore) funnelWhere(ctx context.Context, x execer, where string, args []any) (result.RiskFunnel, error) {
	rows, err := x.QueryContext(ctx, s.d.q(`SELECT COUNT(*),
		MIN(CASE WHEN suppressed = 0 THEN tier_rank ELSE 99 END),
		MAX(CASE WHEN exposure <> 'isolated' THEN 1 ELSE 0 END),
		MAX(CASE WHEN state IN ('executed', 'loaded', 'listening') THEN 1 ELSE 0 END),
		MAX(CASE WHEN state <> 'unknown' AND state <> '' THEN 1 ELSE 0 END),
		MAX(CASE WHEN workload <> '' THEN 1 ELSE 0 END)
		FROM risks`+where+` GROUP BY digest, vuln, package`), args...)
	if err != nil {
		return result.RiskFunnel{}, fmt.Errorf("store: funnel: %w", err)
	}
	defer rows.Close()
	var f result.RiskFunnel
	var running, reachable, inUse int
	var known, placed bool
	for rows.Next() {
		var n, best, reach, use, obs, wl int
		if err := rows.Scan(&n, &best, &reach, &use, &obs, &wl); err != nil {
			return result.RiskFunnel{}, fmt.Errorf("store: funnel: %w", err)
		}
		f.Findings++
		f.Occurrences += n
		if wl == 1 {
			placed = true
			running++
			reachable += reach
		}
		inUse += use
		known = known || obs == 1
		switch best {
		case 0:
			f.Immediate++
		case 1:
			f.OutOfCycle++
		case 2:
			f.Scheduled++
		case 3:
			f.Defer++
		case 99:
			f.Suppressed++
		}
	}
	if placed {
		f.Running, f.Reachable = &running, &reachable
	}
	if known {
		f.InUse = &inUse
	}
	return f, rows.Err()
}
