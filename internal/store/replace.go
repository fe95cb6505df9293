package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// RiskUpdate is the new ranking of some of a cluster's images: every
// risk of the cluster on one of Digests, and only those.
type RiskUpdate struct {
	Cluster string
	Digests []string
	Risks   []result.Risk
	// Cause is recorded on every Change (CauseDBUpdate when empty);
	// Source names the new scan entry ("db-update" when empty).
	Cause  string
	Source string
	// Database, when set, is the database the risks were ranked against.
	Database *result.Database
	// At is when the change happens (now when zero).
	At time.Time
	// Remediation, when set, are the cluster's actions after the
	// update; when nil they are grouped again from the stored risks at
	// their next read.
	Remediation []result.Action
}

// findingsOf reads the current findings of digests.
func (s *sqlStore) findingsOf(ctx context.Context, digests []string) (map[string][]match.Finding, error) {
	type blob struct {
		digest string
		data   []byte
	}
	var fs []blob
	err := chunks(digests, func(part []string) error {
		list, a := inList(part)
		rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT digest, data FROM findings WHERE digest IN `+list), a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b blob
			if err := rows.Scan(&b.digest, &b.data); err != nil {
				return err
			}
			fs = append(fs, b)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: findings: %w", err)
	}
	ff := make([]match.Finding, len(fs))
	if err := unpackAll(len(fs), func(i int) ([]byte, any) { return fs[i].data, &ff[i] }); err != nil {
		return nil, err
	}
	out := make(map[string][]match.Finding, len(digests))
	for _, d := range digests {
		out[d] = []match.Finding{}
	}
	for i, b := range fs {
		out[b.digest] = append(out[b.digest], ff[i])
	}
	return out, nil
}

// ReplaceRisks replaces the cluster's risks on u.Digests with u.Risks in
// one transaction, as a new entry of the cluster's history: a risk kept
// keeps its first_seen, one new or gone is a Change (cause u.Cause); the
// cluster's funnel and counts are recomputed from the stored risks, and
// its remediation is marked to be grouped again on its next read.
func (s *sqlStore) ReplaceRisks(ctx context.Context, u RiskUpdate) ([]Change, error) {
	if u.Cluster == "" {
		return nil, fmt.Errorf("store: replace risks: no cluster named")
	}
	want := make(map[string]bool, len(u.Digests))
	for _, d := range u.Digests {
		want[d] = true
	}
	for i := range u.Risks {
		r := &u.Risks[i]
		if r.Cluster != u.Cluster {
			return nil, fmt.Errorf("store: replace risks of %s: risk %s belongs to cluster %q", u.Cluster, r.ID, r.Cluster)
		}
		if !want[r.Image] {
			return nil, fmt.Errorf("store: replace risks of %s: risk %s is on image %s, not one replaced", u.Cluster, r.ID, r.Image)
		}
	}
	if u.At.IsZero() {
		u.At = time.Now()
	}
	u.Cause = statusOr(u.Cause, CauseDBUpdate)
	u.Source = statusOr(u.Source, "db-update")
	risks := dedupeRisks(u.Risks)
	packed, err := packAll(len(risks), func(i int) any { return risks[i] })
	if err != nil {
		return nil, err
	}
	var out []Change
	err = s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		ls, err := s.latestScanRow(ctx, tx, u.Cluster, false)
		if err != nil {
			return err
		}
		before, err := s.digestsFunnel(ctx, tx, u.Cluster, u.Digests)
		if err != nil {
			return err
		}
		if out, err = s.replaceRiskRows(ctx, tx, &u, risks, packed); err != nil {
			return err
		}
		after, err := s.digestsFunnel(ctx, tx, u.Cluster, u.Digests)
		if err != nil {
			return err
		}
		if err := s.recountRisks(ctx, tx, u.Cluster); err != nil {
			return err
		}
		return s.replaceScan(ctx, tx, &u, ls, out, before, after)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// replaceRiskRows diffs and writes the risks of a RiskUpdate.
func (s *sqlStore) replaceRiskRows(ctx context.Context, tx *sql.Tx, u *RiskUpdate, risks []*result.Risk, packed [][]byte) ([]Change, error) {
	at := nanos(u.At)
	old := map[string]*oldRisk{}
	err := chunks(u.Digests, func(part []string) error {
		list, a := inList(part)
		rows, err := tx.QueryContext(ctx, s.d.q(`SELECT id, first_seen, namespace, workload, digest, vuln, package, version, severity, tier_rank, data
			FROM risks WHERE `+s.d.byDigest()+` AND digest IN `+list), append([]any{u.Cluster}, a...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			o := &oldRisk{}
			if err := rows.Scan(&id, &o.firstSeen, &o.namespace, &o.workload, &o.digest, &o.vuln, &o.pkg, &o.version, &o.severity, &o.tierRank, &o.data); err != nil {
				return err
			}
			old[id] = o
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: risks: %w", err)
	}
	var out []Change
	var args, changes []any
	var drop []string
	inNew := make(map[string]bool, len(risks))
	for i, r := range risks {
		inNew[r.ID] = true
		o := old[r.ID]
		switch {
		case o == nil:
			c := riskChange(r, ChangeAppeared, u.Cause, at)
			out = append(out, c)
			changes = changeArgs(changes, &c)
			args = riskArgs(args, r, packed[i], at, at)
		case bytes.Equal(o.data, packed[i]):
		default:
			drop = append(drop, r.ID)
			args = riskArgs(args, r, packed[i], o.firstSeen, at)
		}
	}
	for id, o := range old {
		if inNew[id] {
			continue
		}
		drop = append(drop, id)
		c := Change{At: fromNanos(at), Kind: ChangeDisappeared, Cause: u.Cause, Cluster: u.Cluster,
			Namespace: o.namespace, Workload: o.workload, Image: o.digest, Vulnerability: o.vuln,
			Package: o.pkg, Version: o.version, Severity: o.severity, RiskID: id}
		if o.tierRank < len(result.Tiers) {
			c.Tier = result.Tiers[o.tierRank]
		}
		out = append(out, c)
		changes = changeArgs(changes, &c)
	}
	if err := chunks(drop, func(part []string) error {
		list, a := inList(part)
		_, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM risks WHERE id IN `+list), a...)
		return err
	}); err != nil {
		return nil, fmt.Errorf("store: risks: %w", err)
	}
	if err := chunks(u.Digests, func(part []string) error {
		list, a := inList(part)
		_, err := tx.ExecContext(ctx, s.d.q(`UPDATE risks SET last_seen = ? WHERE `+s.d.byDigest()+` AND last_seen <> ? AND digest IN `+list),
			append([]any{at, u.Cluster, at}, a...)...)
		return err
	}); err != nil {
		return nil, fmt.Errorf("store: risks: %w", err)
	}
	if err := s.insertRows(ctx, tx, riskInsert, riskCols, args, ""); err != nil {
		return nil, err
	}
	if err := s.insertRows(ctx, tx, changeInsert, changeCols, changes, ""); err != nil {
		return nil, err
	}
	return out, nil
}

// replaceScan records a RiskUpdate as the cluster's newest scan: the
// latest scan's document moves to it, with the funnel of the stored
// risks (the cluster's, less what the replaced images' risks counted
// before, plus what they count after: a funnel counts findings, each of
// one image), the update's database and no remediation (grouped again
// when read).
func (s *sqlStore) replaceScan(ctx context.Context, tx *sql.Tx, u *RiskUpdate, ls *latestScan, changes []Change, before, after result.RiskFunnel) error {
	var text string
	if err := tx.QueryRowContext(ctx, s.d.q(`SELECT info FROM clusters WHERE name = ?`), u.Cluster).Scan(&text); err != nil {
		return fmt.Errorf("store: cluster %s: %w", u.Cluster, err)
	}
	var info ClusterInfo
	if err := json.Unmarshal([]byte(text), &info); err != nil {
		return fmt.Errorf("store: cluster %s: %w", u.Cluster, err)
	}
	funnel := addFunnels(addFunnels(info.Funnel, before, -1), after, 1)
	var appeared, gone int
	for _, c := range changes {
		if c.Kind == ChangeAppeared {
			appeared++
		} else {
			gone++
		}
	}
	built, dbv := ls.dbBuilt, any(nil)
	switch {
	case u.Database != nil:
		built, dbv = nanos(u.Database.BuiltAt), jsonText(u.Database)
	case ls.database != nil:
		dbv = jsonText(ls.database)
	}
	at := nanos(u.At)
	var remedy []byte
	if u.Remediation != nil {
		var err error
		if remedy, err = pack(u.Remediation); err != nil {
			return err
		}
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO scans (cluster, source, at, command, db_built_at, status, funnel, appeared, disappeared, document, remediation, db_version)
		SELECT cluster, CAST(? AS TEXT), CAST(? AS BIGINT), command, CAST(? AS BIGINT), status, CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), document, CAST(? AS `+s.d.blob+`), CAST(? AS TEXT)
		FROM scans WHERE id = ? RETURNING id`),
		u.Source, at, built, jsonText(&funnel), appeared, gone, remedy, dbv, ls.id).Scan(&id)
	if err != nil {
		return fmt.Errorf("store: scans: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE scans SET document = NULL, remediation = NULL WHERE id = ?`), ls.id); err != nil {
		return fmt.Errorf("store: scans: %w", err)
	}
	info.Funnel = funnel
	if info.Summary != nil {
		f := funnel
		info.Summary.Risk = &f
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE clusters SET last_scan_id = ?, last_scan_at = ?, info = ? WHERE name = ?`),
		id, at, jsonText(&info), u.Cluster); err != nil {
		return fmt.Errorf("store: clusters: %w", err)
	}
	return nil
}
