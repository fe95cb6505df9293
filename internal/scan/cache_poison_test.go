package scan_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/extract"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
)

// victimManifest fetches the raw manifest of ref's repository at tag from
// the fixture registry.
func victimManifest(t *testing.T, f *fixture, repo, tag string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+f.reg.Host+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("manifest: %d %v", resp.StatusCode, err)
	}
	return b
}

// forgedArchive writes a docker-save archive whose "config" is config
// byte for byte and which lists no layers.
func forgedArchive(t *testing.T, config []byte) string {
	t.Helper()
	sum := sha256.Sum256(config)
	name := hex.EncodeToString(sum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": name, "RepoTags": []string{"forged:1"}, "Layers": []string{}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name string
		body []byte
	}{{"manifest.json", manifest}, {name, config}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.body)
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "forged.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// An archive whose config is another image's manifest must never make that
// image look clean to a later scan sharing the cache: not by tag, not by
// digest (the cluster path), not from an OCI layout.
func TestForgedArchiveCannotPoisonTheInventoryCache(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1<<10)
	raw := victimManifest(t, f, "app/a", "1")
	sum := sha256.Sum256(raw)
	victim := "sha256:" + hex.EncodeToString(sum[:])

	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &scan.Scanner{Advisories: f.db, Cache: c, TempDir: t.TempDir()}

	// The forged archive: whatever it scans as, it must not claim the
	// victim's manifest digest.
	arch, err := image.OpenArchive(ctx, forgedArchive(t, raw), image.LocalOptions{})
	if err == nil {
		res, err := s.Scan(ctx, arch)
		arch.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Target.Digest == victim {
			t.Fatalf("the forged archive was identified by the victim's manifest digest")
		}
	}

	check := func(name string, res *result.Image) {
		t.Helper()
		if res.Cached || res.Status != result.StatusScanned || len(res.Findings) == 0 || res.PackageCount != 2 {
			t.Errorf("%s after the forged archive: cached=%v status=%s packages=%d findings=%d; want a fresh scan with the victim's findings",
				name, res.Cached, res.Status, res.PackageCount, len(res.Findings))
		}
	}
	// By digest, as a cluster scan asks: the registry must be consulted.
	open := func(ctx context.Context) (image.Image, error) {
		return image.OpenRegistry(ctx, f.refA, image.RegistryOptions{Options: registry.Options{Insecure: true}})
	}
	res, err := s.ScanDigest(ctx, f.refA, victim, open)
	if err != nil {
		t.Fatal(err)
	}
	check("scan by digest", res)

	// A second, honest scan is now cached, and the cache answers by digest.
	res, err = s.ScanDigest(ctx, f.refA, victim, open)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Cached || len(res.Findings) == 0 {
		t.Errorf("honest rescan by digest: cached=%v findings=%d; want a cache hit with findings", res.Cached, len(res.Findings))
	}
}

// A manifest-digest entry is bound to its config and layers: a lookup that
// knows a different chain for the same digest misses.
func TestCacheEntryBoundToChain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1<<10)
	c, _ := cache.Open(t.TempDir())
	s := &scan.Scanner{Advisories: f.db, Cache: c, TempDir: t.TempDir()}
	first := f.scan(t, s, f.refA)
	if first.Cached {
		t.Fatal("first scan cached")
	}
	id, ok := scan.Identity(first.Target)
	if !ok || id.Kind != cache.KindManifest {
		t.Fatalf("registry image identity %+v", id)
	}
	if _, hit, err := c.Get(ctx, id, extract.Version); !hit || err != nil {
		t.Fatalf("entry not stored for %+v: %v", id, err)
	}
	if _, hit, _ := c.Get(ctx, id, "other-extractor-version"); hit {
		t.Error("another extractor version hit")
	}
	forged := id
	forged.DiffIDs = append([]string{}, id.DiffIDs[:1]...)
	if _, hit, _ := c.Get(ctx, forged, extract.Version); hit {
		t.Error("a lookup with other layers hit")
	}
	asConfig := cache.Identity{Kind: cache.KindConfig, Digest: id.Digest, ConfigDigest: id.Digest, DiffIDs: []string{}}
	if _, hit, _ := c.Get(ctx, asConfig, extract.Version); hit {
		t.Error("a config-kind lookup of a manifest digest hit")
	}
}
