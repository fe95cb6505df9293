package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/workload"
)

// DocOptions shape a Document.
type DocOptions struct {
	// Images is the number of distinct digests the workloads run
	// (workloads/2+1 when 0); FindingsPerImage the findings on each (4
	// when 0).
	Images           int
	FindingsPerImage int
	// FirstImage is the number of the first test image (0): clusters
	// given disjoint ranges share no digest.
	FirstImage int
	// Variant shifts the first finding of every image to another
	// vulnerability, so two variants share the others.
	Variant int
	// Now is the ranking's time (a fixed date when zero).
	Now time.Time
}

// Digest is the digest of the test image i: the same i in every cluster
// is the same image.
func Digest(i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "runlens-test-image-%d", i))
	return "sha256:" + hex.EncodeToString(h[:])
}

// Packages are the packages of test image i: Debian's OpenSSL, zlib and
// glibc, and an npm or PyPI dependency on alternate images.
func Packages(i int) []inventory.Package {
	ps := []inventory.Package{
		{Name: "libssl3", Version: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", Type: "deb", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2",
			PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12", Locations: []string{"/var/lib/dpkg/status"}},
		{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Ecosystem: "Debian:12", Type: "deb", SourceName: "zlib", SourceVersion: "1:1.2.13.dfsg-1",
			PURL: "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?distro=debian-12", Locations: []string{"/var/lib/dpkg/status"}},
		{Name: "libc6", Version: "2.36-9+deb12u4", Ecosystem: "Debian:12", Type: "deb", SourceName: "glibc", SourceVersion: "2.36-9+deb12u4",
			PURL: "pkg:deb/debian/libc6@2.36-9+deb12u4?distro=debian-12", Locations: []string{"/var/lib/dpkg/status"}},
	}
	if i%2 == 0 {
		ps = append(ps, inventory.Package{Name: "lodash", Version: "4.17.20", Ecosystem: "npm", Type: "npm",
			PURL: "pkg:npm/lodash@4.17.20", Locations: []string{"/app/node_modules/lodash/package.json"}})
	} else {
		ps = append(ps, inventory.Package{Name: "requests", Version: "2.31.0", Ecosystem: "PyPI", Type: "python",
			PURL: "pkg:pypi/requests@2.31.0", Locations: []string{"/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"}})
	}
	return ps
}

var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW"}

// finding is finding j of image i in variant v: a real-looking CVE on one
// of the image's packages, with CVSS, EPSS, a fix on most and KEV on a few.
func finding(i, j, v int, pkgs []inventory.Package) match.Finding {
	p := pkgs[j%len(pkgs)]
	shift := 0
	if j == 0 {
		shift = v * 3 // the variant changes one finding per image
	}
	n := 1000 + (i*7+j*13+shift)%600
	id := fmt.Sprintf("CVE-2024-%d", n)
	f := match.Finding{
		ID: id, Advisories: []string{"DEBIAN-" + id}, Aliases: []string{"DEBIAN-" + id},
		Package: match.PackageRef{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, Type: p.Type, PURL: p.PURL,
			SourceName: p.SourceName, SourceVersion: p.SourceVersion, Location: p.Locations[0]},
		Severity: severities[n%4], SeveritySource: "nvd", Status: match.StatusAffected,
		Summary: "test vulnerability " + id,
		CVSS:    &match.CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8 - float64(n%40)/10, Source: "nvd"},
		EPSS:    &match.EPSS{CVE: id, Probability: float64(n%97) / 100, Percentile: float64(n%89) / 100},
	}
	if n%5 != 0 {
		f.FixedVersions, f.Status = []string{p.Version + "+fix1"}, match.StatusFixed
	}
	if n%11 == 0 {
		f.KEV = &match.KEV{CVE: id, DateAdded: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)}
	}
	return f
}

var exposures = []string{workload.ExposureInternet, workload.ExposureCluster, workload.ExposureIsolated, workload.ExposureUnknown}

// Document builds a ranked cluster result: workloads Deployments (every
// fifth a StatefulSet) over five namespaces, each running one of the
// test images, with findings, exposure and owners, ranked by risk.Rank.
func Document(cluster string, workloads int, o DocOptions) *result.Document {
	if o.Images <= 0 {
		o.Images = workloads/2 + 1
	}
	if o.FindingsPerImage <= 0 {
		o.FindingsPerImage = 4
	}
	if o.Now.IsZero() {
		o.Now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	}
	imgs := make([]*result.Image, o.Images)
	for k := range imgs {
		i := k + o.FirstImage
		pkgs := Packages(i)
		img := &result.Image{Target: image.Descriptor{Reference: fmt.Sprintf("registry.example.com/team%d/app%d:1", i%7, i), Digest: Digest(i)},
			Status: result.StatusScanned, Distro: &inventory.Distro{ID: "debian", VersionID: "12"}, Packages: pkgs, PackageCount: len(pkgs),
			Findings: []match.Finding{}}
		for j := range o.FindingsPerImage {
			img.Findings = append(img.Findings, finding(i, j, o.Variant, pkgs))
		}
		imgs[k] = img
	}
	ws := make([]*result.Workload, workloads)
	for k := range ws {
		ix := k % o.Images
		i := ix + o.FirstImage
		kind := "Deployment"
		if k%5 == 4 {
			kind = "StatefulSet"
		}
		owner := workload.OwnerInternal
		if i%3 == 0 {
			owner = workload.OwnerExternal
		}
		w := &result.Workload{Workload: workload.Workload{
			Cluster: cluster, Namespace: fmt.Sprintf("ns%d", k%5), Kind: kind, Name: fmt.Sprintf("app%d", k), Pods: 1 + k%3,
			Containers: []workload.Container{{Name: "app", Type: "container", Image: imgs[ix].Target.Reference, Digest: imgs[ix].Target.Digest,
				Repository: fmt.Sprintf("registry.example.com/team%d/app%d", i%7, i), Owner: owner, OwnerReason: "test"}},
			Exposure:    &workload.Exposure{Level: exposures[k%4]},
			Sensitivity: &workload.Sensitivity{ServiceAccountToken: k%2 == 0},
		}}
		ws[k] = w
		imgs[ix].RunningIn = append(imgs[ix].RunningIn, w.Ref())
	}
	var used []*result.Image
	for _, img := range imgs {
		if len(img.RunningIn) > 0 {
			used = append(used, img)
		}
	}
	doc := result.New(result.NewHeader("scan cluster", "test", &result.Database{BuiltAt: o.Now.Add(-time.Hour), Advisories: 1000}),
		used, ws, []result.Cluster{{Name: cluster, Status: result.StatusScanned, Workloads: workloads}})
	if err := risk.Rank(doc, risk.Options{Now: o.Now}); err != nil {
		panic(fmt.Sprintf("storetest: rank: %v", err))
	}
	return doc
}
