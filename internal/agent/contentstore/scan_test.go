package contentstore

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/vulndb"
)

const sampleImage = "../../../testdata/sample/image.tar"

// TestScanMatchesArchive scans the bundled sample from a content store
// and from its archive: the same packages and the same findings.
func TestScanMatchesArchive(t *testing.T) {
	ctx := context.Background()
	dbDir := t.TempDir()
	if _, err := vulndb.Import(ctx, dbDir, vulndb.ClassifyDir("../../../testdata/sample/advisories")...); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dbDir)
	must(t, err)
	defer db.Close()
	sc := &scan.Scanner{Advisories: db, Threats: db, TempDir: t.TempDir(), IncludePackages: true}

	arch, err := image.OpenArchive(ctx, sampleImage, image.LocalOptions{})
	must(t, err)
	defer arch.Close()
	fromArchive, err := sc.Scan(ctx, arch)
	must(t, err)

	sample, err := tarball.ImageFromPath(sampleImage, nil)
	must(t, err)
	w := newStoreDir(t)
	md := w.image(sample)
	s, err := Open(w.root)
	must(t, err)
	defer s.Close()
	img, err := s.Image(ctx, "localhost:5000/sample@"+md.String())
	must(t, err)
	fromStore, err := sc.Scan(ctx, img)
	must(t, err)

	if fromStore.Status != result.StatusScanned || fromArchive.Status != result.StatusScanned {
		t.Fatalf("status: store %s (%s), archive %s (%s)", fromStore.Status, fromStore.Error, fromArchive.Status, fromArchive.Error)
	}
	if fromStore.PackageCount == 0 || len(fromStore.Findings) == 0 {
		t.Fatalf("store scan found %d packages, %d findings", fromStore.PackageCount, len(fromStore.Findings))
	}
	t.Logf("%d packages, %d findings from either source", fromStore.PackageCount, len(fromStore.Findings))
	if d := cmp.Diff(packageSet(fromArchive), packageSet(fromStore)); d != "" {
		t.Errorf("packages (-archive +store):\n%s", d)
	}
	if d := cmp.Diff(findingSet(fromArchive), findingSet(fromStore)); d != "" {
		t.Errorf("findings (-archive +store):\n%s", d)
	}
	if fromStore.Target.ConfigDigest != fromArchive.Target.ConfigDigest {
		t.Errorf("config digest: store %s, archive %s", fromStore.Target.ConfigDigest, fromArchive.Target.ConfigDigest)
	}
}

// packageSet is each package (ecosystem, type, name@version, locations,
// layer), sorted.
func packageSet(r *result.Image) []string {
	var out []string
	for _, p := range r.Packages {
		out = append(out, p.Ecosystem+" "+p.Type+" "+p.Name+"@"+p.Version+" "+strings.Join(p.Locations, ",")+" "+p.Layer)
	}
	sort.Strings(out)
	return out
}

func findingSet(r *result.Image) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID+" "+f.Package.Name+"@"+f.Package.Version)
	}
	sort.Strings(out)
	return out
}
