package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanUsesLayerCacheUnderCacheDir: scans record layer replays in
// <cache-dir>/layers, a rescan that misses the inventory cache replays
// them to the same findings, and --no-cache writes nothing.
func TestScanUsesLayerCacheUnderCacheDir(t *testing.T) {
	c := newCLI(t)
	first := c.json("", 0, "scan", "image", "--archive", sampleImage)
	layers, _ := filepath.Glob(filepath.Join(c.cacheDir, "layers", "layer-*"))
	if len(layers) == 0 {
		t.Fatalf("no layer replays under %s/layers", c.cacheDir)
	}
	inv, _ := filepath.Glob(filepath.Join(c.cacheDir, "inv*.json.gz"))
	if len(inv) == 0 {
		t.Fatalf("no inventory cache entry under %s", c.cacheDir)
	}
	for _, p := range inv {
		os.Remove(p) // force extraction again, from the replays
	}
	second := c.json("", 0, "scan", "image", "--archive", sampleImage)
	if second.Images[0].Cached {
		t.Fatal("second scan answered from the inventory cache; the test needs a layer replay")
	}
	if diff := cmp.Diff(pairs(first.Images[0]), pairs(second.Images[0])); diff != "" {
		t.Errorf("findings after replaying layers (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(first.Images[0].Packages, second.Images[0].Packages); diff != "" {
		t.Errorf("packages (-first +second):\n%s", diff)
	}

	nc := newCLI(t)
	nc.json("", 0, "scan", "image", "--archive", sampleImage, "--no-cache")
	if _, err := os.Stat(filepath.Join(nc.cacheDir, "layers")); !os.IsNotExist(err) {
		t.Errorf("--no-cache created %s/layers (err %v)", nc.cacheDir, err)
	}
}
