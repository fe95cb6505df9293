package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"

	"github.com/runlens/runlens/internal/result"
)

// ingestRisks replaces the cluster's current risks with the document's:
// a risk kept keeps its first_seen (and its row, when nothing of it
// changed), a new one is an appeared Change, one gone a disappeared
// Change, except on digests in kept (a failed or partial scan), whose
// earlier risks stay.
func (s *sqlStore) ingestRisks(ctx context.Context, tx *sql.Tx, in *Ingest, risks []*result.Risk, packed [][]byte, kept map[string]bool, at int64, st *IngestStats) error {
	old := map[string]*oldRisk{}
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT id, first_seen, namespace, workload, digest, vuln, package, version, severity, tier_rank, data FROM risks WHERE cluster = ?`), in.Cluster)
	if err != nil {
		return fmt.Errorf("store: risks: %w", err)
	}
	for rows.Next() {
		var id string
		o := &oldRisk{}
		if err := rows.Scan(&id, &o.firstSeen, &o.namespace, &o.workload, &o.digest, &o.vuln, &o.pkg, &o.version, &o.severity, &o.tierRank, &o.data); err != nil {
			rows.Close()
			return fmt.Errorf("store: risks: %w", err)
		}
		old[id] = o
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: risks: %w", err)
	}
	st.Risks = len(risks)
	var args, changes []any
	var drop []string // stored ids to delete before the insert
	inDoc := make(map[string]bool, len(risks))
	for i, r := range risks {
		inDoc[r.ID] = true
		o := old[r.ID]
		switch {
		case o == nil:
			c := riskChange(r, ChangeAppeared, in.Cause, at)
			changes = changeArgs(changes, &c)
			st.Appeared++
			args = riskArgs(args, r, packed[i], at, at)
		case bytes.Equal(o.data, packed[i]):
			// unchanged: only last_seen moves, below
		default:
			drop = append(drop, r.ID)
			args = riskArgs(args, r, packed[i], o.firstSeen, at)
		}
	}
	keptRows := false
	for id, o := range old {
		switch {
		case inDoc[id]:
		case kept[o.digest]:
			keptRows = true // a failed scan of the image: its earlier risk stays
		default:
			drop = append(drop, id)
			c := Change{At: fromNanos(at), Kind: ChangeDisappeared, Cause: in.Cause, Cluster: in.Cluster,
				Namespace: o.namespace, Workload: o.workload, Image: o.digest, Vulnerability: o.vuln,
				Package: o.pkg, Version: o.version, Severity: o.severity, RiskID: id}
			if o.tierRank < len(result.Tiers) {
				c.Tier = result.Tiers[o.tierRank]
			}
			changes = changeArgs(changes, &c)
			st.Disappeared++
		}
	}
	if len(drop) == len(old) && len(old) > 0 {
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM risks WHERE cluster = ?`), in.Cluster); err != nil {
			return fmt.Errorf("store: risks: %w", err)
		}
	} else if err := chunks(drop, func(part []string) error {
		list, a := inList(part)
		_, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM risks WHERE id IN `+list), a...)
		return err
	}); err != nil {
		return fmt.Errorf("store: risks: %w", err)
	}
	if len(drop) < len(old) {
		q, a := `UPDATE risks SET last_seen = ? WHERE cluster = ? AND last_seen <> ?`, []any{at, in.Cluster, at}
		if keptRows {
			var ds []string
			for d := range kept {
				ds = append(ds, d)
			}
			list, da := inList(ds)
			q, a = q+` AND digest NOT IN `+list, append(a, da...)
		}
		if _, err := tx.ExecContext(ctx, s.d.q(q), a...); err != nil {
			return fmt.Errorf("store: risks: %w", err)
		}
	}
	if err := s.insertRows(ctx, tx, riskInsert, riskCols, args, ""); err != nil {
		return err
	}
	return s.insertRows(ctx, tx, changeInsert, changeCols, changes, "")
}

// ingestScan records the scan (with the document, minus what the other
// tables hold) and the cluster's row.
func (s *sqlStore) ingestScan(ctx context.Context, tx *sql.Tx, in *Ingest, st *IngestStats) error {
	doc := *in.Document
	doc.Risks = nil
	doc.Images = make([]*result.Image, len(in.Document.Images))
	for i, img := range in.Document.Images {
		doc.Images[i] = storedImage(img)
	}
	blob, err := pack(&doc)
	if err != nil {
		return err
	}
	acts := in.Document.Remediation
	if acts == nil {
		acts = []result.Action{}
	}
	remedy, err := pack(acts)
	if err != nil {
		return err
	}
	sum := clusterSummary(in.Document, in.Cluster)
	status := result.StatusScanned
	funnel := in.Document.Summary.Risk
	if sum != nil {
		status = statusOr(sum.Status, status)
		if sum.Risk != nil {
			funnel = sum.Risk
		}
	}
	if funnel == nil {
		funnel = &result.RiskFunnel{}
	}
	var dbBuilt int64
	if in.Document.Database != nil {
		dbBuilt = nanos(in.Document.Database.BuiltAt)
	}
	at := nanos(in.At)
	if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE scans SET document = NULL, remediation = NULL WHERE cluster = ? AND document IS NOT NULL`), in.Cluster); err != nil {
		return fmt.Errorf("store: scans: %w", err)
	}
	err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO scans (cluster, source, at, command, db_built_at, status, funnel, appeared, disappeared, document, remediation)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		in.Cluster, in.Source, at, in.Document.Command, dbBuilt, status, jsonText(funnel), st.Appeared, st.Disappeared, blob, remedy).Scan(&st.ScanID)
	if err != nil {
		return fmt.Errorf("store: scans: %w", err)
	}
	info := ClusterInfo{Name: in.Cluster, Status: status, Workloads: st.Workloads, Images: st.Images, Funnel: *funnel, Summary: sum}
	if sum != nil {
		for _, p := range sum.Problems {
			info.Problems = append(info.Problems, p.Kind+": "+p.Reason)
		}
	}
	_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO clusters (name, last_scan_id, last_scan_at, status, workloads, images, info) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET last_scan_id = excluded.last_scan_id, last_scan_at = excluded.last_scan_at, status = excluded.status,
		workloads = excluded.workloads, images = excluded.images, info = excluded.info`),
		in.Cluster, st.ScanID, at, status, st.Workloads, st.Images, jsonText(&info))
	if err != nil {
		return fmt.Errorf("store: clusters: %w", err)
	}
	return nil
}
