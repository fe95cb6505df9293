package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
)

// Clusters lists every cluster with its latest scan's figures.
func (s *sqlStore) Clusters(ctx context.Context) ([]ClusterInfo, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, last_scan_id, last_scan_at, info FROM clusters ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: clusters: %w", err)
	}
	defer rows.Close()
	var out []ClusterInfo
	for rows.Next() {
		var c ClusterInfo
		var id, at int64
		var name, info string
		if err := rows.Scan(&name, &id, &at, &info); err != nil {
			return nil, fmt.Errorf("store: clusters: %w", err)
		}
		if err := json.Unmarshal([]byte(info), &c); err != nil {
			return nil, fmt.Errorf("store: cluster %s: %w", name, err)
		}
		c.Name, c.LastScanID, c.LastScanAt = name, id, fromNanos(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Scans lists a cluster's scans, newest first.
func (s *sqlStore) Scans(ctx context.Context, cluster string, limit int) ([]ScanInfo, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT id, cluster, source, at, command, db_built_at, status, funnel, appeared, disappeared
		FROM scans WHERE cluster = ? ORDER BY id DESC LIMIT ?`), cluster, limit)
	if err != nil {
		return nil, fmt.Errorf("store: scans: %w", err)
	}
	defer rows.Close()
	var out []ScanInfo
	for rows.Next() {
		var sc ScanInfo
		var at, built int64
		var funnel string
		if err := rows.Scan(&sc.ID, &sc.Cluster, &sc.Source, &at, &sc.Command, &built, &sc.Status, &funnel, &sc.Appeared, &sc.Disappeared); err != nil {
			return nil, fmt.Errorf("store: scans: %w", err)
		}
		if err := json.Unmarshal([]byte(funnel), &sc.Funnel); err != nil {
			return nil, fmt.Errorf("store: scan %d: %w", sc.ID, err)
		}
		sc.At, sc.DBBuiltAt = fromNanos(at), fromNanos(built)
		out = append(out, sc)
	}
	return out, rows.Err()
}

// LatestDocument rebuilds the cluster's latest result: the document as
// stored, each image's inventory and current findings, and the current
// risks in ranked order.
func (s *sqlStore) LatestDocument(ctx context.Context, cluster string) (*result.Document, error) {
	ls, doc, err := s.latestScanDocument(ctx, cluster)
	if err != nil {
		return nil, err
	}
	var digests []string
	for _, img := range doc.Images {
		if img.Target.Digest != "" {
			digests = append(digests, img.Target.Digest)
		}
	}
	pkgs, finds, err := s.imageContents(ctx, digests)
	if err != nil {
		return nil, err
	}
	for _, img := range doc.Images {
		if d := img.Target.Digest; d != "" {
			img.Packages = pkgs[d]
			img.Findings = finds[d]
			if img.Findings == nil {
				img.Findings = []match.Finding{}
			}
			sortFindings(img.Findings)
		}
	}
	if doc.Risks, err = s.clusterRisks(ctx, cluster, nil); err != nil {
		return nil, err
	}
	doc.CompleteFacts()
	if ls.stale {
		// Risks replaced after the scan: group them again.
		risk.Regroup(doc)
	} else {
		doc.Remediation = ls.remediation
	}
	return doc, nil
}

// imageContents reads the inventories' packages and the current
// findings of digests, a batch of digests per query.
func (s *sqlStore) imageContents(ctx context.Context, digests []string) (map[string][]inventory.Package, map[string][]match.Finding, error) {
	pkgs := map[string][]inventory.Package{}
	finds := map[string][]match.Finding{}
	type blob struct {
		digest string
		data   []byte
	}
	var invs, fs []blob
	err := chunks(digests, func(part []string) error {
		list, a := inList(part)
		for _, q := range []struct {
			query string
			into  *[]blob
		}{
			{`SELECT digest, inventory FROM images WHERE inventory IS NOT NULL AND digest IN ` + list, &invs},
			{`SELECT digest, data FROM findings WHERE digest IN ` + list, &fs},
		} {
			rows, err := s.r.QueryContext(ctx, s.d.q(q.query), a...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var b blob
				if err := rows.Scan(&b.digest, &b.data); err != nil {
					rows.Close()
					return err
				}
				*q.into = append(*q.into, b)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: images: %w", err)
	}
	ps := make([][]inventory.Package, len(invs))
	if err := unpackAll(len(invs), func(i int) ([]byte, any) { return invs[i].data, &ps[i] }); err != nil {
		return nil, nil, err
	}
	for i, b := range invs {
		pkgs[b.digest] = ps[i]
	}
	ff := make([]match.Finding, len(fs))
	if err := unpackAll(len(fs), func(i int) ([]byte, any) { return fs[i].data, &ff[i] }); err != nil {
		return nil, nil, err
	}
	for i, b := range fs {
		finds[b.digest] = append(finds[b.digest], ff[i])
	}
	return pkgs, finds, nil
}

// Findings returns a digest's current findings.
func (s *sqlStore) Findings(ctx context.Context, digest string) ([]match.Finding, error) {
	return s.findings(ctx, digest)
}

// findings returns a digest's current findings, sorted as the matcher
// sorts them.
func (s *sqlStore) findings(ctx context.Context, digest string) ([]match.Finding, error) {
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT data FROM findings WHERE digest = ?`), digest)
	if err != nil {
		return nil, fmt.Errorf("store: findings of %s: %w", digest, err)
	}
	defer rows.Close()
	out := []match.Finding{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("store: findings of %s: %w", digest, err)
		}
		var f match.Finding
		if err := unpack(data, &f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	sortFindings(out)
	return out, rows.Err()
}

// Workloads lists the workloads of a cluster ("" for all).
func (s *sqlStore) Workloads(ctx context.Context, cluster string) ([]result.Workload, error) {
	q, args := `SELECT data FROM workloads ORDER BY cluster, namespace, kind, name`, []any(nil)
	if cluster != "" {
		q, args = `SELECT data FROM workloads WHERE cluster = ? ORDER BY namespace, kind, name`, []any{cluster}
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: workloads: %w", err)
	}
	defer rows.Close()
	var out []result.Workload
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("store: workloads: %w", err)
		}
		var w result.Workload
		if err := unpack(data, &w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}
