package store

import (
	"context"
	"database/sql"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// OpenUpTo opens a store applying migrations up to upTo only.
func OpenUpTo(ctx context.Context, dsn string, upTo int) (Store, error) {
	return openUpTo(ctx, dsn, upTo)
}

// SchemaVersion is the store's highest applied migration.
func SchemaVersion(ctx context.Context, st Store) (int, error) {
	return schemaVersion(ctx, st.(*sqlStore).r)
}

// WriteV1Rows writes, with the statements of schema version 1, one
// image with two findings, one risk of the first and its cluster with a
// scan, as a server of that version would have.
func WriteV1Rows(ctx context.Context, st Store, digest string, f1, f2 match.Finding, r result.Risk) error {
	s := st.(*sqlStore)
	return s.tx(ctx, func(tx *sql.Tx) error {
		inv, _ := pack([]inventory.Package{{Name: f1.Package.Name, Version: f1.Package.Version, Ecosystem: f1.Package.Ecosystem}})
		entry, _ := packSmall(&result.Image{Status: result.StatusScanned})
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO images (digest, reference, status, distro, package_count, owner, inventory, image, scanned_at) VALUES (?, 'r', 'scanned', '', 1, '', ?, ?, 1)`), digest, inv, entry); err != nil {
			return err
		}
		for _, f := range []*match.Finding{&f1, &f2} {
			data, _ := packSmall(f)
			if _, err := tx.ExecContext(ctx, s.d.q(findingInsert+` VALUES `+placeholders(1, findingCols)), findingArgs(nil, digest, f, data, 1)...); err != nil {
				return err
			}
		}
		data, _ := packSmall(&r)
		if _, err := tx.ExecContext(ctx, s.d.q(riskInsert+` VALUES `+placeholders(1, riskCols)), riskArgs(nil, &r, data, 1, 1)...); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO scans (cluster, source, at, command, db_built_at, status, funnel, appeared, disappeared, document) VALUES (?, 'push', 1, 'scan', 0, 'scanned', '{}', 1, 0, NULL) RETURNING id`), r.Cluster).Scan(&id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO clusters (name, last_scan_id, last_scan_at, status, workloads, images, info) VALUES (?, ?, 1, 'scanned', 1, 1, '{}')`), r.Cluster, id)
		return err
	})
}
