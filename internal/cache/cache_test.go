package cache

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/runlens/runlens/internal/inventory"
)

func TestPutGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{
		Distro: &inventory.Distro{ID: "debian", VersionID: "12"},
		Packages: []inventory.Package{{
			Name: "libssl3", Version: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", Type: "deb",
			SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2",
			Locations: []string{"/var/lib/dpkg/status"}, Files: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"},
		}},
		Errors: []inventory.FileError{{Path: "/app/package.json", Extractor: "javascript/packagejson", Reason: "bad json"}},
	}
	if _, ok, err := c.Get(ctx, "sha256:aaa|v1"); ok || err != nil {
		t.Fatalf("Get on empty cache = %v, %v; want miss", ok, err)
	}
	if err := c.Put(ctx, "sha256:aaa|v1", inv); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, "sha256:aaa|v1")
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v; want hit", ok, err)
	}
	if diff := cmp.Diff(inv, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, ok, _ := c.Get(ctx, "sha256:aaa|v2"); ok {
		t.Error("a different extractor version must miss")
	}
}

func TestCorruptEntryIsAnErrorNotAHit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, _ := Open(dir)
	if err := c.Put(ctx, "k", &inventory.Inventory{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.path("k"), []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, "k"); ok || err == nil {
		t.Fatalf("corrupt entry: ok=%v err=%v; want an error", ok, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".inv-*"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left behind: %v", leftovers)
	}
}
