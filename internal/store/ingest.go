package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// oldRisk is what an ingest needs of a stored risk: its history, what
// the feed says when it disappears, and its packed data to compare.
type oldRisk struct {
	firstSeen                                                 int64
	namespace, workload, digest, vuln, pkg, version, severity string
	tierRank                                                  int
	data                                                      []byte
}

// IngestResult stores one cluster's result in one transaction.
func (s *sqlStore) IngestResult(ctx context.Context, in Ingest) (IngestStats, error) {
	if err := checkCluster(&in); err != nil {
		return IngestStats{}, err
	}
	if in.At.IsZero() {
		in.At = time.Now()
	}
	if in.Cause == "" {
		in.Cause = CauseScan
	}
	doc := in.Document
	at := nanos(in.At)
	owners := map[string]string{}
	for _, w := range doc.Workloads {
		for _, c := range w.Containers {
			if c.Digest != "" && c.Owner != "" && owners[c.Digest] == "" {
				owners[c.Digest] = c.Owner
			}
		}
	}
	risks := dedupeRisks(doc.Risks)
	packed, err := packAll(len(risks), func(i int) any { return risks[i] })
	if err != nil {
		return IngestStats{}, err
	}
	var st IngestStats
	err = s.tx(ctx, func(tx *sql.Tx) error {
		st = IngestStats{}
		kept, err := s.ingestImages(ctx, tx, doc, owners, at, &st)
		if err != nil {
			return err
		}
		if err := s.ingestWorkloads(ctx, tx, in.Cluster, doc, &st); err != nil {
			return err
		}
		if err := s.ingestRisks(ctx, tx, &in, risks, packed, kept, at, &st); err != nil {
			return err
		}
		if err := s.recountRisks(ctx, tx, in.Cluster); err != nil {
			return err
		}
		return s.ingestScan(ctx, tx, &in, &st)
	})
	if err != nil {
		return IngestStats{}, err
	}
	if s.d.name == "postgres" && st.Appeared+st.Disappeared >= analyzeAfter {
		// Fresh statistics, or the planner sorts whole tables for a page
		// until autovacuum gets to them.
		if _, err := s.w.ExecContext(ctx, `ANALYZE risks, findings, image_packages, changes`); err != nil {
			return st, fmt.Errorf("store: analyze: %w", err)
		}
	}
	return st, nil
}

// analyzeAfter is how many risks an ingest adds or removes before
// PostgreSQL's statistics are refreshed.
const analyzeAfter = 5000

// ingestImages stores the images' inventories and findings; it returns
// the digests whose scan failed or was partial and that keep what an
// earlier scan found.
func (s *sqlStore) ingestImages(ctx context.Context, tx *sql.Tx, doc *result.Document, owners map[string]string, at int64, st *IngestStats) (map[string]bool, error) {
	imgs := map[string]*result.Image{}
	var digests []string
	for _, img := range doc.Images {
		if d := img.Target.Digest; d != "" && imgs[d] == nil {
			imgs[d] = img
			digests = append(digests, d)
		}
	}
	st.Images = len(digests)
	prev := map[string]string{} // digest -> stored status
	err := chunks(digests, func(part []string) error {
		list, args := inList(part)
		rows, err := tx.QueryContext(ctx, s.d.q(`SELECT digest, status FROM images WHERE digest IN `+list), args...)
		if err != nil {
			return fmt.Errorf("store: images: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var d, status string
			if err := rows.Scan(&d, &status); err != nil {
				return err
			}
			prev[d] = status
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	kept := map[string]bool{}
	var fresh, rescanned []string // new inventories; digests whose findings are replaced
	for _, d := range digests {
		img := imgs[d]
		old, known := prev[d]
		if !known {
			st.NewImages++
		}
		switch {
		case img.Status != result.StatusScanned && known:
			kept[d] = true
		case !known || old != result.StatusScanned:
			fresh = append(fresh, d)
			rescanned = append(rescanned, d)
		default:
			rescanned = append(rescanned, d)
		}
	}
	if err := s.writeImages(ctx, tx, imgs, fresh, rescanned, owners, at); err != nil {
		return nil, err
	}
	for _, d := range digests {
		// A failed or partial rescan keeps the inventory and findings of
		// the earlier scan, and says how the latest went.
		if kept[d] && prev[d] != imgs[d].Status {
			if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE images SET status = ? WHERE digest = ?`), imgs[d].Status, d); err != nil {
				return nil, fmt.Errorf("store: image %s: %w", d, err)
			}
		}
	}
	if err := s.writeFindings(ctx, tx, imgs, rescanned, kept, at); err != nil {
		return nil, err
	}
	return kept, nil
}

// writeImages writes the images rows: whole (inventory and packages
// index) for fresh digests, the entry only for others rescanned.
func (s *sqlStore) writeImages(ctx context.Context, tx *sql.Tx, imgs map[string]*result.Image, fresh, rescanned []string, owners map[string]string, at int64) error {
	isFresh := make(map[string]bool, len(fresh))
	var args, pkgs []any
	for _, d := range fresh {
		isFresh[d] = true
		img := imgs[d]
		inv, err := pack(img.Packages)
		if err != nil {
			return err
		}
		entry, err := packSmall(storedImage(img))
		if err != nil {
			return err
		}
		args = append(args, d, img.Target.Reference, img.Status, distroText(img.Distro), max(img.PackageCount, len(img.Packages)), owners[d], inv, entry, at)
		seen := map[PackageKey]bool{}
		for i := range img.Packages {
			for _, k := range PackageKeys(&img.Packages[i]) {
				if !seen[k] {
					seen[k] = true
					pkgs = append(pkgs, d, k.Ecosystem, k.Name)
				}
			}
		}
	}
	const upsert = `ON CONFLICT (digest) DO UPDATE SET reference = excluded.reference, status = excluded.status, distro = excluded.distro,
		package_count = excluded.package_count, owner = excluded.owner, inventory = excluded.inventory, image = excluded.image, scanned_at = excluded.scanned_at`
	if err := s.insertRows(ctx, tx, `INSERT INTO images (digest, reference, status, distro, package_count, owner, inventory, image, scanned_at)`, 9, args, upsert); err != nil {
		return err
	}
	if err := chunks(fresh, func(part []string) error {
		list, a := inList(part)
		_, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM image_packages WHERE digest IN `+list), a...)
		return err
	}); err != nil {
		return fmt.Errorf("store: image packages: %w", err)
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO image_packages (digest, ecosystem, name)`, 3, pkgs, ""); err != nil {
		return err
	}
	for _, d := range rescanned {
		if isFresh[d] {
			continue
		}
		img := imgs[d]
		entry, err := packSmall(storedImage(img))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE images SET reference = ?, image = ?, owner = ?, scanned_at = ? WHERE digest = ?`),
			img.Target.Reference, entry, owners[d], at, d); err != nil {
			return fmt.Errorf("store: image %s: %w", d, err)
		}
	}
	return nil
}

// storedFinding is a findings row as an ingest compares it.
type storedFinding struct {
	first int64
	data  []byte
}

// writeFindings replaces the findings of rescanned digests whose
// findings changed (keeping each finding's first_seen) and adds a kept
// digest's new findings to those it had.
func (s *sqlStore) writeFindings(ctx context.Context, tx *sql.Tx, imgs map[string]*result.Image, rescanned []string, kept map[string]bool, at int64) error {
	all := append([]string(nil), rescanned...)
	for d := range kept {
		all = append(all, d)
	}
	old := map[string]map[string]storedFinding{} // digest -> fkey -> row
	err := chunks(all, func(part []string) error {
		list, a := inList(part)
		rows, err := tx.QueryContext(ctx, s.d.q(`SELECT digest, fkey, first_seen, data FROM findings WHERE digest IN `+list), a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d, k string
			var f storedFinding
			if err := rows.Scan(&d, &k, &f.first, &f.data); err != nil {
				return err
			}
			if old[d] == nil {
				old[d] = map[string]storedFinding{}
			}
			old[d][k] = f
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("store: findings: %w", err)
	}
	var args, aliases []any
	var replace, touched []string
	aliasSeen := map[[2]string]bool{}
	for _, d := range all {
		fs := imgs[d].Findings
		packed, err := packAll(len(fs), func(i int) any { return &fs[i] })
		if err != nil {
			return err
		}
		prev := old[d]
		seen := map[string]bool{}
		var rows []any
		var written []*match.Finding
		unchanged := true
		for i := range fs {
			k := findingKey(&fs[i])
			if seen[k] {
				continue
			}
			seen[k] = true
			p, had := prev[k]
			first := at
			if had {
				first = p.first
			}
			unchanged = unchanged && had && bytes.Equal(p.data, packed[i])
			if kept[d] && had {
				continue // a kept digest keeps the rows it has
			}
			rows = findingArgs(rows, d, &fs[i], packed[i], first)
			written = append(written, &fs[i])
		}
		switch {
		case kept[d] && len(rows) == 0:
		case kept[d]:
			touched = append(touched, d)
			args = append(args, rows...)
			aliases = aliasArgs(aliases, aliasSeen, written...)
		case unchanged && len(seen) == len(prev):
			// the same findings: nothing to write
		default:
			replace = append(replace, d)
			touched = append(touched, d)
			args = append(args, rows...)
			aliases = aliasArgs(aliases, aliasSeen, written...)
		}
	}
	if err := chunks(replace, func(part []string) error {
		list, a := inList(part)
		_, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM findings WHERE digest IN `+list), a...)
		return err
	}); err != nil {
		return fmt.Errorf("store: findings: %w", err)
	}
	if err := s.insertRows(ctx, tx, findingInsert, findingCols, args, ""); err != nil {
		return err
	}
	if err := s.insertRows(ctx, tx, aliasInsert, 2, aliases, aliasConflict); err != nil {
		return err
	}
	return s.recountSeverity(ctx, tx, touched)
}

// ingestWorkloads replaces the cluster's workloads and where its images run.
func (s *sqlStore) ingestWorkloads(ctx context.Context, tx *sql.Tx, cluster string, doc *result.Document, st *IngestStats) error {
	for _, t := range []string{"workloads", "cluster_images"} {
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM `+t+` WHERE cluster = ?`), cluster); err != nil {
			return fmt.Errorf("store: %s: %w", t, err)
		}
	}
	var args []any
	seen := map[string]bool{}
	for _, w := range doc.Workloads {
		if k := w.Ref(); !seen[k] {
			seen[k] = true
			data, err := packSmall(w)
			if err != nil {
				return err
			}
			args = append(args, cluster, w.Namespace, w.Kind, w.Name, data)
		}
	}
	st.Workloads = len(seen)
	if err := s.insertRows(ctx, tx, `INSERT INTO workloads (cluster, namespace, kind, name, data)`, 5, args, ""); err != nil {
		return err
	}
	args = args[:0]
	done := map[string]bool{}
	for _, img := range doc.Images {
		if d := img.Target.Digest; d != "" && !done[d] {
			done[d] = true
			args = append(args, cluster, d, jsonText(img.RunningIn))
		}
	}
	return s.insertRows(ctx, tx, `INSERT INTO cluster_images (cluster, digest, running_in)`, 3, args, "")
}
