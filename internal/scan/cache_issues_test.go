package scan_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/testing/testimage"
)

// A rescan answered by the inventory cache reports the same skipped layer
// entries as the scan that filled it.
func TestCachedRescanKeepsLayerIssues(t *testing.T) {
	f := newFixture(t, 1<<10)
	img := testimage.Image(t, "linux/amd64", baseFiles(1<<10), map[string]string{
		"../../escape":      "x",
		"/abs/../../../etc": "y",
		"app/ok.txt":        "ok",
	})
	f.reg.Push(t, "app/hostile:1", img)
	ref := f.reg.Ref("app/hostile:1")
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &scan.Scanner{Advisories: f.db, Cache: c, TempDir: t.TempDir()}
	cold := f.scan(t, s, ref)
	if cold.Cached || len(cold.LayerIssues) == 0 || len(cold.Findings) == 0 {
		t.Fatalf("cold scan: cached=%v issues=%d findings=%d; want issues and findings", cold.Cached, len(cold.LayerIssues), len(cold.Findings))
	}
	warm := f.scan(t, s, ref)
	if !warm.Cached {
		t.Fatal("rescan was not answered by the cache")
	}
	if diff := cmp.Diff(cold.LayerIssues, warm.LayerIssues); diff != "" {
		t.Errorf("layer issues (-cold +cached):\n%s", diff)
	}
}
