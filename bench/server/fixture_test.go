package serverbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

// The package universe every inventory draws from: vulnSources Debian
// source packages with an advisory of the first database that matches
// their version, then plainSources whose first-database advisories (if
// any) are fixed below it.
const (
	vulnSources     = 400
	plainSources    = 600
	vulnPerImage    = 16  // findings of every image in the first database
	plainPerImage   = 134 // so an inventory holds 150 packages
	deltaAdvisories = 1000
)

// deltaMatching are the sources whose delta advisory matches (a fix above
// the installed version): a day's worth of new findings.
var deltaMatching = map[int]bool{100: true, 300: true, 400: true, 600: true, 800: true}

// sourceName and sourceVersion name source package n.
func sourceName(n int) string { return fmt.Sprintf("srcpkg%d", n) }
func sourceVersion(n int) string {
	return fmt.Sprintf("%d.%d.%d-%d", 1+n%5, n%10, n%7, 1+n%3)
}

// inventoryOf is image i's inventory: 150 Debian 12 packages, 16 of them
// vulnerable in the first database.
func inventoryOf(i int) []inventory.Package {
	ps := make([]inventory.Package, 0, vulnPerImage+plainPerImage)
	add := func(n int) {
		name, v := "lib"+sourceName(n), sourceVersion(n)
		ps = append(ps, inventory.Package{Name: name, Version: v, Ecosystem: "Debian:12", Type: "deb",
			SourceName: sourceName(n), SourceVersion: v,
			PURL:      fmt.Sprintf("pkg:deb/debian/%s@%s?distro=debian-12", name, v),
			Locations: []string{"/var/lib/dpkg/status"}})
	}
	for k := range vulnPerImage {
		add((i*13 + k*(vulnSources/vulnPerImage)) % vulnSources)
	}
	for k := range plainPerImage {
		add(vulnSources + (i*11+k)%plainSources)
	}
	return ps
}

// vectors give the advisories their CVSS (and so their severity).
var vectors = []string{
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // 9.8
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", // 7.5
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", // 5.3
	"CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N", // 2.5
	"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", // 6.8
}

// osvRecord is one Debian advisory of source n: fixed at fixed ("" for
// none, so every version is affected).
func osvRecord(id, cve string, n int, fixed string) string {
	events := `{"introduced":"0"}`
	if fixed != "" {
		events += `,{"fixed":"` + fixed + `"}`
	}
	return fmt.Sprintf(`{"schema_version":"1.6.0","id":%q,"modified":"2026-05-01T00:00:00Z","published":"2026-05-01T00:00:00Z",
"aliases":[%q],"summary":"%s: advisory %s","severity":[{"type":"CVSS_V3","score":%q}],
"affected":[{"package":{"ecosystem":"Debian:12","name":%q},"ranges":[{"type":"ECOSYSTEM","events":[%s]}]}]}`,
		id, cve, sourceName(n), id, vectors[n%len(vectors)], sourceName(n), events)
}

// writeAdvisories writes the first database's advisories into dir — one
// per source: matching on the vulnerable ones (every fourth unfixed),
// fixed below the installed version on the others — and, with delta, the
// 1,000 advisories of the update, one more per source.
func writeAdvisories(dir string, delta bool) error {
	write := func(id, rec string) error {
		return os.WriteFile(filepath.Join(dir, id+".json"), []byte(rec), 0o644)
	}
	for n := range vulnSources + plainSources {
		fixed := "0.1-1"
		if n < vulnSources {
			fixed = sourceVersion(n) + "+deb12u1"
			if n%4 == 3 {
				fixed = ""
			}
		}
		id := fmt.Sprintf("DSA-%d-1", 5000+n)
		if err := write(id, osvRecord(id, fmt.Sprintf("CVE-2025-%d", 10000+n), n, fixed)); err != nil {
			return err
		}
	}
	if !delta {
		return nil
	}
	for k := range deltaAdvisories {
		n := k % (vulnSources + plainSources)
		fixed := "0.1-1"
		if deltaMatching[n] {
			fixed = sourceVersion(n) + "+deb12u2"
		}
		id := fmt.Sprintf("DSA-%d-1", 7000+k)
		if err := write(id, osvRecord(id, fmt.Sprintf("CVE-2026-%d", 20000+k), n, fixed)); err != nil {
			return err
		}
	}
	return nil
}

// buildDB imports the advisories (with or without the delta) into a
// database under root and returns its directory.
func buildDB(ctx context.Context, root string, delta bool, builtAt time.Time) (string, error) {
	name := "v1"
	if delta {
		name = "v2"
	}
	src, dir := filepath.Join(root, name+"-osv"), filepath.Join(root, name)
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	if err := writeAdvisories(src, delta); err != nil {
		return "", err
	}
	im := &vulndb.Importer{Now: func() time.Time { return builtAt }}
	if _, err := im.Import(ctx, dir, vulndb.OSVDir(src)); err != nil {
		return "", fmt.Errorf("import %s: %w", name, err)
	}
	return dir, nil
}

// fixture builds the cluster results of one scale, matching every image
// once against the first database.
type fixture struct {
	sc       scale
	db       *vulndb.DB
	findings map[int][]match.Finding // by image number
}

// imageFindings matches image i against the first database and adds the
// exploitation data a scan would (EPSS on all, KEV on a few).
func (f *fixture) imageFindings(ctx context.Context, i int) ([]match.Finding, error) {
	if fs, ok := f.findings[i]; ok {
		return fs, nil
	}
	res, err := match.Match(ctx, &inventory.Inventory{Distro: &inventory.Distro{ID: "debian", VersionID: "12"}, Packages: inventoryOf(i)}, f.db)
	if err != nil {
		return nil, fmt.Errorf("match image %d: %w", i, err)
	}
	fs := res.Findings
	for j := range fs {
		h := 0
		for _, c := range fs[j].ID {
			h = h*31 + int(c)
		}
		h &= 0xffff
		fs[j].EPSS = &match.EPSS{CVE: fs[j].ID, Probability: float64(h%97) / 100, Percentile: float64(h%89) / 100}
		if h%23 == 0 {
			fs[j].KEV = &match.KEV{CVE: fs[j].ID, DateAdded: time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)}
		}
	}
	f.findings[i] = fs
	return fs, nil
}

// document is cluster c's ranked result: storetest's workloads (every one
// with 4 pods) over the cluster's window of images, each image with its
// 150-package inventory and the first database's findings.
func (f *fixture) document(ctx context.Context, c int) (*result.Document, error) {
	name, first := clusterName(c), f.sc.firstImage(c)
	doc := storetest.Document(name, f.sc.workloads, storetest.DocOptions{Images: f.sc.imagesPerCluster, FirstImage: first, FindingsPerImage: 1, Now: storetest.SeedTime})
	byDigest := map[string]int{}
	for i := first; i < first+f.sc.imagesPerCluster; i++ {
		byDigest[storetest.Digest(i)] = i
	}
	for _, img := range doc.Images {
		i, ok := byDigest[img.Target.Digest]
		if !ok {
			return nil, fmt.Errorf("cluster %s: unknown image %s", name, img.Target.Digest)
		}
		fs, err := f.imageFindings(ctx, i)
		if err != nil {
			return nil, err
		}
		img.Packages = inventoryOf(i)
		img.PackageCount = len(img.Packages)
		img.Findings = append([]match.Finding(nil), fs...)
	}
	for _, w := range doc.Workloads {
		w.Pods = 4
	}
	doc.Recount()
	if err := risk.Rank(doc, risk.Options{Now: storetest.SeedTime}); err != nil {
		return nil, fmt.Errorf("rank %s: %w", name, err)
	}
	return doc, nil
}

// clusterName is cluster c's name.
func clusterName(c int) string { return fmt.Sprintf("c%d", c) }

// ingestAt is when cluster c's result arrives.
func ingestAt(c int) time.Time { return storetest.SeedTime.Add(time.Duration(c) * time.Minute) }
