package testimage

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func testFiles() []File {
	return []File{{Path: "/bin/tool", Data: []byte("#!/bin/true\n")}, {Path: "/app", Mode: 0o700, Data: []byte("app")}}
}

func TestFromFilesIsReproducible(t *testing.T) {
	a, err := FromFiles(testFiles(), Config{Entrypoint: []string{"/app"}})
	if err != nil {
		t.Fatal(err)
	}
	files := testFiles()
	files[0], files[1] = files[1], files[0] // order must not matter
	b, err := FromFiles(files, Config{Entrypoint: []string{"/app"}})
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("same files, different digests: %s vs %s", da, db)
	}
	c, err := FromFiles(testFiles(), Config{Entrypoint: []string{"/other"}})
	if err != nil {
		t.Fatal(err)
	}
	if dc, _ := c.Digest(); dc == da {
		t.Error("different entrypoint, same digest")
	}
}

// TestFromFilesLayout reads the layer back: parent directories first, modes kept.
func TestFromFilesLayout(t *testing.T) {
	img, err := FromFiles(testFiles(), Config{Entrypoint: []string{"/app"}, Env: []string{"A=1"}})
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var got []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name+" "+os.FileMode(h.Mode).String())
	}
	want := []string{"app -rwx------", "bin -rwxr-xr-x", "bin/tool -rwxr-xr-x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layer entries (-want +got):\n%s", diff)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/app"}, cf.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform = %s/%s", cf.OS, cf.Architecture)
	}
}

func TestFromFilesRejectsEmptyPath(t *testing.T) {
	if _, err := FromFiles([]File{{Path: "/"}}, Config{}); err == nil {
		t.Fatal("path \"/\" accepted")
	}
}

// TestPushAndTarball pushes to an in-process registry and writes a ctr-importable
// tarball; both must carry the image's digest.
func TestPushAndTarball(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := FromFiles(testFiles(), Config{Entrypoint: []string{"/app"}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	ctx := context.Background()
	d, err := Push(ctx, img, host+"/runlens/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if d.DigestStr() != want.String() || d.Context().RepositoryStr() != "runlens/app" {
		t.Errorf("Push = %s, want digest %s in runlens/app", d, want)
	}
	ref, _ := name.ParseReference(host + "/runlens/app:v1")
	desc, err := remote.Get(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != want {
		t.Errorf("registry has %s, want %s", desc.Digest, want)
	}

	out := filepath.Join(t.TempDir(), "img.tar")
	if err := WriteTarball(img, "registry.k8s.io/pause:3.10", out); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("registry.k8s.io/pause:3.10")
	back, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := back.Digest(); got != want {
		t.Errorf("tarball image digest %s, want %s", got, want)
	}
	if _, err := Push(ctx, img, "not a reference"); err == nil {
		t.Error("bad reference accepted")
	}
}

func TestGoStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	dir := t.TempDir()
	for f, body := range map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.24\n",
		"main.go": "package main\n\nfunc main() {}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := GoStatic(context.Background(), dir, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(bin) < 4 || string(bin[1:4]) != "ELF" {
		t.Fatalf("not an ELF binary (%d bytes)", len(bin))
	}
	if _, err := GoStatic(context.Background(), dir, "./missing"); err == nil {
		t.Error("missing package built")
	}
}
