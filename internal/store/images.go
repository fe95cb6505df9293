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

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/severity"
)

// sortFindings orders findings as the matcher does: severity, then id,
// then package.
func sortFindings(fs []match.Finding) {
	slices.SortStableFunc(fs, func(a, b match.Finding) int {
		return cmp.Or(cmp.Compare(severity.Rank(a.Severity), severity.Rank(b.Severity)),
			strings.Compare(a.ID, b.ID), strings.Compare(a.Package.Name, b.Package.Name),
			strings.Compare(a.Package.Version, b.Package.Version), strings.Compare(a.Package.Location, b.Package.Location))
	})
}

// Images lists every stored image with where it runs.
func (s *sqlStore) Images(ctx context.Context) ([]ImageInfo, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT digest, reference, status, package_count, owner, scanned_at FROM images ORDER BY reference, digest`)
	if err != nil {
		return nil, fmt.Errorf("store: images: %w", err)
	}
	var out []ImageInfo
	at := map[string]int{}
	for rows.Next() {
		var im ImageInfo
		var scanned int64
		if err := rows.Scan(&im.Digest, &im.Reference, &im.Status, &im.Packages, &im.Owner, &scanned); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: images: %w", err)
		}
		im.ScannedAt, im.Findings = fromNanos(scanned), map[string]int{}
		at[im.Digest] = len(out)
		out = append(out, im)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: images: %w", err)
	}
	if err := s.imageFacts(ctx, out, at, ""); err != nil {
		return nil, err
	}
	return out, nil
}

// imageFacts fills the images' findings by severity and where they run,
// for every image (digest "") or one.
func (s *sqlStore) imageFacts(ctx context.Context, out []ImageInfo, at map[string]int, digest string) error {
	where, args := "", []any(nil)
	if digest != "" {
		where, args = " WHERE digest = ?", []any{digest}
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT digest, severity, n FROM image_severity`+where), args...)
	if err != nil {
		return fmt.Errorf("store: image findings: %w", err)
	}
	for rows.Next() {
		var d, sev string
		var n int
		if err := rows.Scan(&d, &sev, &n); err != nil {
			rows.Close()
			return fmt.Errorf("store: image findings: %w", err)
		}
		if i, ok := at[d]; ok {
			out[i].Findings[sev] = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.r.QueryContext(ctx, s.d.q(`SELECT digest, cluster, running_in FROM cluster_images`+where+` ORDER BY cluster`), args...)
	if err != nil {
		return fmt.Errorf("store: image clusters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, cluster, running string
		if err := rows.Scan(&d, &cluster, &running); err != nil {
			return fmt.Errorf("store: image clusters: %w", err)
		}
		i, ok := at[d]
		if !ok {
			continue
		}
		var refs []string
		if err := json.Unmarshal([]byte(running), &refs); err != nil {
			return fmt.Errorf("store: image clusters: %w", err)
		}
		out[i].Clusters = append(out[i].Clusters, cluster)
		out[i].RunningIn = append(out[i].RunningIn, refs...)
	}
	return rows.Err()
}

// Image returns one image with its inventory and current findings.
func (s *sqlStore) Image(ctx context.Context, digest string) (*ImageDetail, error) {
	var im ImageInfo
	var scanned int64
	var entry []byte
	err := s.r.QueryRowContext(ctx, s.d.q(`SELECT digest, reference, status, package_count, owner, scanned_at, image FROM images WHERE digest = ?`), digest).
		Scan(&im.Digest, &im.Reference, &im.Status, &im.Packages, &im.Owner, &scanned, &entry)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: image %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: image %s: %w", digest, err)
	}
	im.ScannedAt, im.Findings = fromNanos(scanned), map[string]int{}
	list := []ImageInfo{im}
	if err := s.imageFacts(ctx, list, map[string]int{digest: 0}, digest); err != nil {
		return nil, err
	}
	d := &ImageDetail{ImageInfo: list[0], Image: &result.Image{}}
	if len(entry) > 0 {
		if err := unpack(entry, d.Image); err != nil {
			return nil, err
		}
	}
	inv, err := s.Inventory(ctx, digest)
	if err != nil {
		return nil, err
	}
	d.Image.Packages = inv.Packages
	if d.Image.Findings, err = s.findings(ctx, digest); err != nil {
		return nil, err
	}
	return d, nil
}

// Inventory returns a digest's stored inventory.
func (s *sqlStore) Inventory(ctx context.Context, digest string) (*StoredInventory, error) {
	var ref, distro string
	var blob []byte
	err := s.r.QueryRowContext(ctx, s.d.q(`SELECT reference, distro, inventory FROM images WHERE digest = ?`), digest).Scan(&ref, &distro, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: inventory %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: inventory %s: %w", digest, err)
	}
	inv := &StoredInventory{Digest: digest, Reference: ref}
	if distro != "" {
		inv.Distro = &inventory.Distro{}
		if err := json.Unmarshal([]byte(distro), inv.Distro); err != nil {
			return nil, fmt.Errorf("store: inventory %s: %w", digest, err)
		}
	}
	if len(blob) > 0 {
		if err := unpack(blob, &inv.Packages); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// InventoriesWith returns the digests whose inventory holds one of keys.
func (s *sqlStore) InventoriesWith(ctx context.Context, keys []PackageKey) ([]string, error) {
	seen := map[string]bool{}
	for len(keys) > 0 {
		n := min(batchRows, len(keys))
		var conds []string
		var args []any
		for _, k := range keys[:n] {
			conds = append(conds, "(ecosystem = ? AND name = ?)")
			args = append(args, k.Ecosystem, k.Name)
		}
		keys = keys[n:]
		rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT DISTINCT digest FROM image_packages WHERE `+strings.Join(conds, " OR ")), args...)
		if err != nil {
			return nil, fmt.Errorf("store: inventories: %w", err)
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: inventories: %w", err)
			}
			seen[d] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: inventories: %w", err)
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}
