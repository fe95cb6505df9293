package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
)

// latestScan is what the cluster's latest scan row holds besides its
// document.
type latestScan struct {
	id       int64
	dbBuilt  int64
	document []byte
	// remediation are the scan's actions; stale says they are to be
	// grouped again from the stored risks (replaced after the scan).
	remediation []result.Action
	stale       bool
	// database, when set, replaces the document's (risks ranked again
	// against it).
	database *result.Database
}

// latestScanRow reads the cluster's latest scan with a document; the
// document is left packed unless withDocument.
func (s *sqlStore) latestScanRow(ctx context.Context, x execer, cluster string, withDocument bool) (*latestScan, error) {
	cols := `id, db_built_at, remediation, db_version`
	if withDocument {
		cols += `, document`
	}
	var ls latestScan
	var remedy []byte
	var dbv sql.NullString
	dest := []any{&ls.id, &ls.dbBuilt, &remedy, &dbv}
	if withDocument {
		dest = append(dest, &ls.document)
	}
	err := x.QueryRowContext(ctx, s.d.q(`SELECT `+cols+` FROM scans WHERE cluster = ? AND document IS NOT NULL ORDER BY id DESC LIMIT 1`), cluster).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: cluster %s: %w", cluster, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: latest scan of %s: %w", cluster, err)
	}
	if remedy == nil {
		ls.stale = true
	} else if err := unpack(remedy, &ls.remediation); err != nil {
		return nil, err
	}
	if len(ls.remediation) == 0 {
		ls.remediation = nil
	}
	if dbv.Valid && dbv.String != "" {
		ls.database = &result.Database{}
		if err := json.Unmarshal([]byte(dbv.String), ls.database); err != nil {
			return nil, fmt.Errorf("store: latest scan of %s: %w", cluster, err)
		}
	}
	return &ls, nil
}

// latestScanDocument reads the cluster's latest scan and its document as
// stored (images without packages and findings, no risks).
func (s *sqlStore) latestScanDocument(ctx context.Context, cluster string) (*latestScan, *result.Document, error) {
	ls, err := s.latestScanRow(ctx, s.r, cluster, true)
	if err != nil {
		return nil, nil, err
	}
	doc := &result.Document{}
	if err := unpack(ls.document, doc); err != nil {
		return nil, nil, err
	}
	ls.document = nil
	if ls.database != nil {
		doc.Database = ls.database
	}
	return ls, doc, nil
}

// ClusterRisks reads the cluster's current risks on digests, most
// urgent first.
func (s *sqlStore) ClusterRisks(ctx context.Context, cluster string, digests []string) ([]result.Risk, error) {
	if digests == nil {
		digests = []string{}
	}
	return s.clusterRisks(ctx, cluster, digests)
}

// clusterRisks reads the cluster's current risks (of digests only, when
// given), most urgent first.
func (s *sqlStore) clusterRisks(ctx context.Context, cluster string, digests []string) ([]result.Risk, error) {
	var blobs [][]byte
	read := func(q string, args ...any) error {
		rows, err := s.r.QueryContext(ctx, s.d.q(q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&data); err != nil {
				return err
			}
			blobs = append(blobs, data)
		}
		return rows.Err()
	}
	var err error
	if digests == nil {
		err = read(`SELECT data FROM risks WHERE cluster = ?`, cluster)
	} else {
		err = chunks(digests, func(part []string) error {
			list, a := inList(part)
			return read(`SELECT data FROM risks WHERE `+s.d.byDigest()+` AND digest IN `+list, append([]any{cluster}, a...)...)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: risks of %s: %w", cluster, err)
	}
	out := make([]result.Risk, len(blobs))
	if err := unpackAll(len(blobs), func(i int) ([]byte, any) { return blobs[i], &out[i] }); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b result.Risk) int {
		return cmp.Or(cmp.Compare(result.TierRank(a.Tier), result.TierRank(b.Tier)), cmp.Compare(b.Score, a.Score), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Remediation returns the actions of the cluster's latest result: as
// stored at ingest, or, when its risks were replaced since, grouped
// again from the stored risks (and kept for the next read).
func (s *sqlStore) Remediation(ctx context.Context, cluster string) ([]result.Action, error) {
	ls, err := s.latestScanRow(ctx, s.r, cluster, false)
	if err != nil {
		return nil, err
	}
	if !ls.stale {
		return ls.remediation, nil
	}
	_, doc, err := s.latestScanDocument(ctx, cluster)
	if err != nil {
		return nil, err
	}
	if doc.Risks, err = s.clusterRisks(ctx, cluster, nil); err != nil {
		return nil, err
	}
	doc.CompleteFacts()
	risk.Regroup(doc)
	acts := doc.Remediation
	if acts == nil {
		acts = []result.Action{}
	}
	packed, err := pack(acts)
	if err != nil {
		return nil, err
	}
	if _, err := s.w.ExecContext(ctx, s.d.q(`UPDATE scans SET remediation = ? WHERE id = ? AND remediation IS NULL AND document IS NOT NULL`), packed, ls.id); err != nil {
		return nil, fmt.Errorf("store: remediation of %s: %w", cluster, err)
	}
	return doc.Remediation, nil
}

// PartialDocument is the cluster's latest result narrowed to digests:
// the workloads running one of them and those images, with their
// current findings, and no risks; for ranking those images again alone.
func (s *sqlStore) PartialDocument(ctx context.Context, cluster string, digests []string) (*result.Document, error) {
	_, doc, err := s.latestScanDocument(ctx, cluster)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(digests))
	for _, d := range digests {
		want[d] = true
	}
	var ws []*result.Workload
	for _, w := range doc.Workloads {
		for _, c := range w.Containers {
			if want[c.Digest] {
				ws = append(ws, w)
				break
			}
		}
	}
	var imgs []*result.Image
	var have []string
	for _, img := range doc.Images {
		if d := img.Target.Digest; want[d] {
			imgs = append(imgs, img)
			have = append(have, d)
		}
	}
	finds, err := s.findingsOf(ctx, have)
	if err != nil {
		return nil, err
	}
	for _, img := range imgs {
		img.Findings = finds[img.Target.Digest]
		sortFindings(img.Findings)
	}
	doc.Workloads, doc.Images, doc.Risks, doc.Remediation = ws, imgs, nil, nil
	return doc, nil
}

// Workload returns one workload of a cluster.
func (s *sqlStore) Workload(ctx context.Context, cluster, namespace, kind, name string) (*result.Workload, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, s.d.q(`SELECT data FROM workloads WHERE cluster = ? AND namespace = ? AND kind = ? AND name = ?`),
		cluster, namespace, kind, name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: workload %s/%s/%s/%s: %w", cluster, namespace, kind, name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: workload %s/%s/%s/%s: %w", cluster, namespace, kind, name, err)
	}
	w := &result.Workload{}
	if err := unpack(data, w); err != nil {
		return nil, err
	}
	return w, nil
}
