package scan_test

import (
	"context"
	"testing"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/vulndb"
)

// scanSample scans the bundled sample image against a store of all the
// bundled advisories, EPSS, KEV, NVD and CVE 5 records.
func scanSample(t *testing.T) *result.Image {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := vulndb.Import(ctx, dir, vulndb.ClassifyDir("../../testdata/sample/advisories")...); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	img, err := image.OpenArchive(ctx, "../../testdata/sample/image.tar", image.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	s := &scan.Scanner{Advisories: db, Threats: db, TempDir: t.TempDir()}
	res, err := s.Scan(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
