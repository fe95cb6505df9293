package clusterscanbench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/runlens/runlens/bench/cluster-discovery/fixture"
	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/extract"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	runresult "github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/vulndb"
)

// advisories is the repository's real sample advisory data (see its README).
const advisories = "../../testdata/sample/advisories"

// importDB builds the vulnerability database the scans match against.
func importDB(ctx context.Context, dir string) error {
	_, err := vulndb.Import(ctx, dir,
		vulndb.OSVDir(filepath.Join(advisories, "osv")),
		vulndb.EPSS(filepath.Join(advisories, "epss", "epss_sample.csv")),
		vulndb.KEV(filepath.Join(advisories, "kev", "known_exploited_vulnerabilities.json")))
	return err
}

// fillCache stands in for the image scans, and only here: it stores a small
// inventory for each of the benchmark's digests under the key ScanDigest
// looks up, so every scan is answered from the cache and no registry is
// contacted. The packages vary by digest; some versions are affected by the
// sample advisories (lodash 4.17.15, log4j-core 2.14.1, ...), some are fixed.
func fillCache(ctx context.Context, c *cache.Cache) error {
	for d := range fixture.UniqueDigests {
		// What a registry scan of the digest would have stored: the
		// manifest chain it verified (a fixed config, no layers).
		id := cache.Identity{Kind: cache.KindManifest, Digest: fixture.Digest(d), ConfigDigest: fixture.Digest(d), DiffIDs: []string{}}
		if err := c.Put(ctx, &cache.Entry{Identity: id, Version: extract.Version, Inventory: benchInventory(d)}); err != nil {
			return fmt.Errorf("digest %d: %w", d, err)
		}
	}
	return nil
}

func benchInventory(d int) *inventory.Inventory {
	npm := func(name, version string) inventory.Package {
		return inventory.Package{Name: name, Version: version, Ecosystem: "npm", Type: "npm",
			PURL:      fmt.Sprintf("pkg:npm/%s@%s", name, version),
			Locations: []string{fmt.Sprintf("/app/node_modules/%s/package.json", name)}}
	}
	maven := func(group, artifact, version string) inventory.Package {
		return inventory.Package{Name: group + ":" + artifact, Version: version, Ecosystem: "Maven", Type: "java-archive",
			PURL:      fmt.Sprintf("pkg:maven/%s/%s@%s", group, artifact, version),
			Locations: []string{fmt.Sprintf("/opt/app/lib/%s-%s.jar", artifact, version)}}
	}
	inv := &inventory.Inventory{Distro: &inventory.Distro{ID: "debian", VersionID: "12", VersionCodename: "bookworm"}}
	switch d % 3 {
	case 0: // a Node.js service
		lodash := []string{"4.17.15", "4.17.21"}[d/3%2]
		inv.Packages = append(inv.Packages, npm("lodash", lodash), npm("express", "4.17.1"), npm("minimist", "1.2.5"),
			npm("semver", "7.5.4"), npm("react", "18.2.0"))
	case 1: // a Java service
		log4j := []string{"2.14.1", "2.17.2"}[d/3%2]
		inv.Packages = append(inv.Packages, maven("org.apache.logging.log4j", "log4j-core", log4j),
			maven("com.fasterxml.jackson.core", "jackson-databind", "2.13.1"), maven("org.yaml", "snakeyaml", "2.2"),
			maven("org.slf4j", "slf4j-api", "1.7.36"))
	default: // a mix
		inv.Packages = append(inv.Packages, npm("axios", "1.5.0"), npm("ws", "8.17.1"), npm("qs", "6.11.0"),
			maven("org.apache.commons", "commons-text", "1.9"))
	}
	return inv
}

// counts lists what one cluster holds, to check the fixture against the
// benchmark's scale before measuring.
type counts struct{ pods, services, ingresses, policies, serviceAccounts, roleBindings int }

func countObjects(ctx context.Context, cs kubernetes.Interface) (counts, error) {
	var c counts
	opts := metav1.ListOptions{ResourceVersion: "0"}
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return c, err
	}
	c.pods = len(pods.Items) + int(*orZero(pods.RemainingItemCount))
	svcs, err := cs.CoreV1().Services("").List(ctx, opts)
	if err != nil {
		return c, err
	}
	ings, err := cs.NetworkingV1().Ingresses("").List(ctx, opts)
	if err != nil {
		return c, err
	}
	nps, err := cs.NetworkingV1().NetworkPolicies("").List(ctx, opts)
	if err != nil {
		return c, err
	}
	sas, err := cs.CoreV1().ServiceAccounts("").List(ctx, opts)
	if err != nil {
		return c, err
	}
	rbs, err := cs.RbacV1().RoleBindings("").List(ctx, opts)
	if err != nil {
		return c, err
	}
	// The apiserver's own "kubernetes" Service is not the fixture's.
	c.services, c.ingresses, c.policies = len(svcs.Items)-1, len(ings.Items), len(nps.Items)
	c.serviceAccounts, c.roleBindings = len(sas.Items), len(rbs.Items)
	return c, nil
}

func orZero(p *int64) *int64 {
	if p == nil {
		return new(int64)
	}
	return p
}

// TestCachedScans checks the stub outside the cluster benchmark: every
// digest is answered from the cache (open is never called), matched
// against the real advisories, and the affected versions give findings.
func TestCachedScans(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := importDB(ctx, filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := cache.Open(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fillCache(ctx, c); err != nil {
		t.Fatal(err)
	}
	s := &scan.Scanner{Advisories: db, Threats: db, Cache: c}
	noRegistry := func(context.Context) (image.Image, error) {
		t.Error("registry contacted")
		return nil, errors.New("no registry in this test")
	}
	got := map[string]int{}
	for d := range 6 {
		r, err := s.ScanDigest(ctx, "registry.bench/team/app@"+fixture.Digest(d), fixture.Digest(d), noRegistry)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Cached || r.Status != runresult.StatusScanned {
			t.Errorf("digest %d: cached %v, status %s %s", d, r.Cached, r.Status, r.Error)
		}
		for _, f := range r.Findings {
			got[f.Package.Name+"@"+f.Package.Version]++
		}
	}
	for _, want := range []string{"lodash@4.17.15", "org.apache.logging.log4j:log4j-core@2.14.1", "axios@1.5.0"} {
		if got[want] == 0 {
			t.Errorf("no finding for %s; got %v", want, got)
		}
	}
	for _, fixed := range []string{"lodash@4.17.21", "org.apache.logging.log4j:log4j-core@2.17.2", "react@18.2.0"} {
		if got[fixed] != 0 {
			t.Errorf("%d findings for unaffected %s", got[fixed], fixed)
		}
	}
}
