package rematch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/rematch"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

// padAdvisory writes an npm advisory for name into dir.
func padAdvisory(t *testing.T, dir, name string) {
	t.Helper()
	rec := fmt.Sprintf(`{"schema_version":"1.6.0","id":"GHSA-%s","modified":"2026-06-01T00:00:00Z","published":"2026-06-01T00:00:00Z",
		"aliases":["CVE-2026-7%d"],"summary":"%s: prototype pollution",
		"affected":[{"package":{"ecosystem":"npm","name":"%s"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"9.0.0"}]}]}],
		"database_specific":{"severity":"HIGH"}}`, name, len(name), name, name)
	if err := os.WriteFile(filepath.Join(dir, "GHSA-"+name+".json"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPartialRerankAtScale stores four clusters of 10,000 workloads
// (1,000 images each, four findings per image: 40,000 risks a cluster)
// and times two database updates that each change one image in twenty
// (an advisory for an npm package only those hold): the first ranks
// only the changed images, the second (a like delta) ranks every
// affected cluster whole. It logs both (bench/server holds the targets)
// and fails if the partial one is not the faster.
func TestPartialRerankAtScale(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timed scale test (not under -short or -race)")
	}
	ctx := context.Background()
	b := storetest.SQLite(t)
	const clusters, images, workloads = 4, 1000, 10000
	start := time.Now()
	for c := range clusters {
		name := fmt.Sprintf("c%d", c)
		doc := storetest.Document(name, workloads, storetest.DocOptions{Images: images, FirstImage: c * images})
		for i, img := range doc.Images {
			switch i % 20 {
			case 0:
				img.Packages = append(img.Packages, inventory.Package{Name: "left-pad", Version: "1.0.0", Ecosystem: "npm", Type: "npm", PURL: "pkg:npm/left-pad@1.0.0"})
			case 10:
				img.Packages = append(img.Packages, inventory.Package{Name: "right-pad", Version: "1.0.0", Ecosystem: "npm", Type: "npm", PURL: "pkg:npm/right-pad@1.0.0"})
			}
		}
		if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: name, Document: doc}); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	src := advisories(t, 1000, 4, "first")
	v1 := importDir(t, src, at)
	if _, err := rematch.Run(ctx, b.Store, nil, v1, rematch.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d clusters × %d workloads and matched them: %v", clusters, workloads, time.Since(start))
	padAdvisory(t, src, "left-pad")
	v2 := importDir(t, src, at.Add(time.Hour))
	padAdvisory(t, src, "right-pad")
	v3 := importDir(t, src, at.Add(2*time.Hour))
	var took [2]time.Duration
	for i, step := range []struct {
		old, new *vulndb.DB
		full     bool
	}{{v1, v2, false}, {v2, v3, true}} {
		t0 := time.Now()
		rep, err := rematch.Run(ctx, b.Store, step.old, step.new, rematch.Options{FullRerank: step.full})
		if err != nil {
			t.Fatal(err)
		}
		took[i] = time.Since(t0)
		t.Logf("full=%v: %d inventories changed, %d clusters ranked again, %d risks appeared: %v (match %v, rank %v)",
			step.full, rep.Changed, len(rep.Clusters), rep.RisksAppeared, took[i], rep.Match, rep.Rank)
		if rep.Changed != clusters*images/20 || len(rep.Clusters) != clusters || rep.RisksAppeared != clusters*workloads/20 {
			t.Fatalf("report %+v", rep)
		}
	}
	if took[0] >= took[1] {
		t.Fatalf("ranking the changed images alone took %v, the whole clusters %v", took[0], took[1])
	}
}
