package rematch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/rematch"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

// advisories writes n OpenSSL advisories for Debian 12 into dir: the
// first affected of them fix a version above the test images' (they
// match), the others one below; edit changes every summary.
func advisories(t *testing.T, n, affected int, edit string) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		fixed := "1.0.0-1"
		if i < affected {
			fixed = "3.0.15-1~deb12u1"
		}
		pkg := []string{"openssl", "zlib", "glibc"}[i%3]
		rec := fmt.Sprintf(`{"schema_version":"1.6.0","id":"DSA-%d-1","modified":"2026-05-01T00:00:00Z","published":"2026-05-01T00:00:00Z",
			"aliases":["CVE-2026-%d"],"summary":"%s advisory %d",
			"affected":[{"package":{"ecosystem":"Debian:12","name":"%s"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"%s"}]}]}]}`,
			10000+i, 10000+i, edit, i, pkg, fixed)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("DSA-%d-1.json", 10000+i)), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func importDir(t *testing.T, src string, builtAt time.Time) *vulndb.DB {
	t.Helper()
	dir := t.TempDir()
	im := &vulndb.Importer{Now: func() time.Time { return builtAt }}
	if _, err := im.Import(context.Background(), dir, vulndb.OSVDir(src)); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRunAtScale re-matches 5,000 stored inventories after a
// 1,000-advisory delta (every advisory's text changed, one more matching)
// on SQLite, and logs the time (bench/server holds the target).
func TestRunAtScale(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timed scale test (not under -short or -race)")
	}
	ctx := context.Background()
	b := storetest.SQLite(t)
	const clusters, images = 5, 1000
	for c := range clusters {
		name := fmt.Sprintf("c%d", c)
		doc := storetest.Document(name, 2000, storetest.DocOptions{Images: images, FirstImage: c * images})
		if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: name, Document: doc}); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	v1 := importDir(t, advisories(t, 1000, 2, "first"), at)
	if _, err := rematch.Run(ctx, b.Store, nil, v1, rematch.Options{}); err != nil {
		t.Fatal(err)
	}
	v2 := importDir(t, advisories(t, 1000, 3, "second"), at.Add(time.Hour))
	start := time.Now()
	rep, err := rematch.Run(ctx, b.Store, v1, v2, rematch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("re-match of %d inventories (%d keys, %d changed, %d clusters ranked again, %d risks appeared): %v (diff %v, match %v, rank %v)",
		rep.Inventories, rep.Keys, rep.Changed, len(rep.Clusters), rep.RisksAppeared, took, rep.Diff, rep.Match, rep.Rank)
	if rep.Inventories != clusters*images || rep.Changed != clusters*images || len(rep.Clusters) != clusters || !strings.HasPrefix(rep.Clusters[0], "c") {
		t.Fatalf("report %+v", rep)
	}
}
