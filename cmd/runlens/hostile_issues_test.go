package main

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hostileEntries writes entries the layer reader refuses, each an Issue,
// beside a vulnerable dpkg status.
func hostileEntries(tw *tar.Writer) error {
	if err := files(stretch, file("var/lib/dpkg/status", opensslStatus))(tw); err != nil {
		return err
	}
	for _, h := range []*tar.Header{
		{Name: "../../etc/escape", Typeflag: tar.TypeReg},
		{Name: `..\..\win-escape`, Typeflag: tar.TypeReg},
		{Name: strings.Repeat("n", 300), Typeflag: tar.TypeReg},
		{Name: "hard", Typeflag: tar.TypeLink, Linkname: "../../etc/shadow"},
		{Name: "odd", Typeflag: 'V'},
		{Name: "/abs/file", Typeflag: tar.TypeReg},
	} {
		if err := tw.WriteHeader(withMode(h)); err != nil {
			return err
		}
	}
	return nil
}

// TestCachedRescansKeepLayerIssues: the entries a cold scan skipped are
// reported again, the same, by a rescan answered from the inventory cache
// and by one that replays the layer from the layer cache.
func TestCachedRescansKeepLayerIssues(t *testing.T) {
	archive := archiveOf(t, gzTar(t, hostileEntries))
	c := newCLI(t)
	scanIt := func() (cached bool, issues []string) {
		code, out, stderr := c.run("", "scan", "image", "--archive", archive, "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		r := jsonResult(t, out)
		if !hasFinding(r, "openssl") {
			t.Errorf("findings lost: %v", pairs(r))
		}
		for _, is := range r.LayerIssues {
			issues = append(issues, is.Layer+" "+is.Path+": "+is.Reason)
		}
		return r.Cached, issues
	}
	_, cold := scanIt()
	t.Logf("cold scan: %d layer issues", len(cold))
	if len(cold) < 6 {
		t.Fatalf("cold scan reported %d issues, want one per hostile entry: %q", len(cold), cold)
	}
	cached, warm := scanIt()
	if !cached {
		t.Error("second scan did not come from the inventory cache")
	}
	if diff := cmp.Diff(cold, warm); diff != "" {
		t.Errorf("inventory-cached rescan: issues (-cold +cached):\n%s", diff)
	}

	// Without the inventory entry the layer is replayed from the layer cache.
	inv, _ := filepath.Glob(filepath.Join(c.cacheDir, "inv*"))
	for _, p := range inv {
		os.Remove(p)
	}
	if layers, _ := filepath.Glob(filepath.Join(c.cacheDir, "layers", "layer-*")); len(layers) == 0 {
		t.Fatal("no layer replay recorded")
	}
	cached, replayed := scanIt()
	if cached {
		t.Fatal("the inventory cache still answered; the test needs a layer replay")
	}
	if diff := cmp.Diff(cold, replayed); diff != "" {
		t.Errorf("replayed rescan: issues (-cold +replayed):\n%s", diff)
	}
}
