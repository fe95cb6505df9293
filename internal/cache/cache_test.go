package cache

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

var manifestID = Identity{Kind: KindManifest, Digest: "sha256:aaa", ConfigDigest: "sha256:ccc", DiffIDs: []string{"sha256:l1", "sha256:l2"}}

func sampleEntry() *Entry {
	return &Entry{
		Identity: manifestID,
		Version:  "v1",
		Inventory: &inventory.Inventory{
			Distro: &inventory.Distro{ID: "debian", VersionID: "12"},
			Packages: []inventory.Package{{
				Name: "libssl3", Version: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", Type: "deb",
				SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2",
				Locations: []string{"/var/lib/dpkg/status"}, Files: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"},
			}},
			Errors: []inventory.FileError{{Path: "/app/package.json", Extractor: "javascript/packagejson", Reason: "bad json"}},
		},
		LayerIssues: []layerfs.Issue{{Layer: "sha256:l2", Path: "../../x", Reason: "path escapes the image root"}},
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := sampleEntry()
	if _, ok, err := c.Get(ctx, manifestID, "v1"); ok || err != nil {
		t.Fatalf("Get on empty cache = %v, %v; want miss", ok, err)
	}
	if err := c.Put(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, manifestID, "v1")
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v; want hit", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// A lookup knowing only the manifest digest (a running container's
	// image ID) is answered by the verified entry.
	if _, ok, _ := c.Get(ctx, Identity{Kind: KindManifest, Digest: "sha256:aaa"}, "v1"); !ok {
		t.Error("digest-only lookup missed")
	}
	if _, ok, _ := c.Get(ctx, manifestID, "v2"); ok {
		t.Error("a different extractor version must miss")
	}
}

func TestKindsAndChainsNeverMeet(t *testing.T) {
	ctx := context.Background()
	c, _ := Open(t.TempDir())
	// What a forged docker-save archive can prove: a config digest equal to
	// some image's manifest digest, and no layers.
	forged := &Entry{
		Identity:  Identity{Kind: KindConfig, Digest: "sha256:aaa", ConfigDigest: "sha256:aaa", DiffIDs: []string{}},
		Version:   "v1",
		Inventory: &inventory.Inventory{Packages: []inventory.Package{}},
	}
	if err := c.Put(ctx, forged); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Identity{
		"full manifest chain":  manifestID,
		"manifest digest only": {Kind: KindManifest, Digest: "sha256:aaa"},
	} {
		if _, ok, err := c.Get(ctx, want, "v1"); ok || err != nil {
			t.Errorf("%s: a config-kind entry answered (ok=%v err=%v)", name, ok, err)
		}
	}
	// Same kind and digest, another chain: a miss.
	if err := c.Put(ctx, sampleEntry()); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Identity{
		"other config": {Kind: KindManifest, Digest: "sha256:aaa", ConfigDigest: "sha256:other", DiffIDs: manifestID.DiffIDs},
		"other layers": {Kind: KindManifest, Digest: "sha256:aaa", ConfigDigest: "sha256:ccc", DiffIDs: []string{"sha256:l1"}},
		"no layers":    {Kind: KindManifest, Digest: "sha256:aaa", ConfigDigest: "sha256:ccc", DiffIDs: []string{}},
	} {
		if _, ok, _ := c.Get(ctx, want, "v1"); ok {
			t.Errorf("%s: hit", name)
		}
	}
}

func TestPutRefusesIncompleteIdentity(t *testing.T) {
	c, _ := Open(t.TempDir())
	inv := &inventory.Inventory{}
	for name, id := range map[string]Identity{
		"no kind":       {Digest: "sha256:aaa", ConfigDigest: "sha256:c", DiffIDs: []string{}},
		"no digest":     {Kind: KindManifest, ConfigDigest: "sha256:c", DiffIDs: []string{}},
		"digest only":   {Kind: KindManifest, Digest: "sha256:aaa"},
		"no layer list": {Kind: KindManifest, Digest: "sha256:aaa", ConfigDigest: "sha256:c"},
	} {
		if err := c.Put(context.Background(), &Entry{Identity: id, Version: "v1", Inventory: inv}); err == nil {
			t.Errorf("%s: Put accepted an incomplete identity", name)
		}
	}
}

// An entry planted under the right file name but recording another
// identity is a miss: the file name alone is never trusted.
func TestPlantedEntryWithOtherIdentityIsAMiss(t *testing.T) {
	ctx := context.Background()
	c, _ := Open(t.TempDir())
	planted := sampleEntry()
	planted.Identity.Kind = KindConfig
	writeRaw(t, c.path(manifestID, "v1"), planted)
	if _, ok, err := c.Get(ctx, manifestID, "v1"); ok || err != nil {
		t.Errorf("planted entry: ok=%v err=%v; want a plain miss", ok, err)
	}
}

func writeRaw(t *testing.T, path string, e *Entry) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	json.NewEncoder(zw).Encode(e)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptEntryIsAnErrorNotAHit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, _ := Open(dir)
	if err := c.Put(ctx, sampleEntry()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.path(manifestID, "v1"), []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, manifestID, "v1"); ok || err == nil {
		t.Fatalf("corrupt entry: ok=%v err=%v; want an error", ok, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".inv-*"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left behind: %v", leftovers)
	}
}

func TestFIFOEntryDoesNotHang(t *testing.T) {
	c, _ := Open(t.TempDir())
	if err := syscall.Mkfifo(c.path(manifestID, "v1"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Get(context.Background(), manifestID, "v1")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a FIFO in place of an entry was not an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get blocked on a FIFO")
	}
}

func FuzzDecodeEntry(f *testing.F) {
	b, _ := json.Marshal(sampleEntry())
	f.Add(b)
	f.Add([]byte(`{"identity":{"kind":"manifest","digest":"x"},"inventory":null}`))
	f.Add([]byte(`{"inventory":{"packages":[{"name":1}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(bytes.NewReader(data))
		if err == nil && e.Inventory == nil {
			t.Fatal("decoded an entry without an inventory")
		}
	})
}
