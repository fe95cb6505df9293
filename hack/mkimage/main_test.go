package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// makeTree writes a base layer and an app layer that exercise every entry
// type mkimage must carry: files, dirs, symlinks, hardlinks and whiteouts.
func makeTree(t *testing.T) (base, app string) {
	t.Helper()
	root := t.TempDir()
	base, app = filepath.Join(root, "base"), filepath.Join(root, "app")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(base, "etc"), 0o755))
	must(os.MkdirAll(filepath.Join(base, "usr/bin"), 0o755))
	must(os.WriteFile(filepath.Join(base, "etc/os-release"), []byte("ID=debian\n"), 0o644))
	must(os.WriteFile(filepath.Join(base, "etc/gone"), []byte("x"), 0o644))
	must(os.WriteFile(filepath.Join(base, "usr/bin/tool"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Link(filepath.Join(base, "usr/bin/tool"), filepath.Join(base, "usr/bin/tool2")))
	must(os.Symlink("usr/bin", filepath.Join(base, "bin")))
	must(os.MkdirAll(filepath.Join(app, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(app, "etc/.wh.gone"), nil, 0o644))
	must(os.WriteFile(filepath.Join(app, "app.txt"), []byte("hello"), 0o600))
	// Change times so a non-deterministic packer would differ between runs.
	must(os.Chtimes(filepath.Join(app, "app.txt"), time.Now(), time.Now()))
	return base, app
}

type entry struct {
	Name, Link string
	Type       byte
	Mode       int64
	Size       int64
	UID        int
	ModTime    int64
}

func layerEntries(t *testing.T, l v1.Layer) []entry {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []entry
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{h.Name, h.Linkname, h.Typeflag, h.Mode, h.Size, h.Uid, h.ModTime.Unix()})
	}
	return out
}

func TestDockerArchiveDeterministicAndComplete(t *testing.T) {
	base, app := makeTree(t)
	out := t.TempDir()
	var digests []string
	for _, f := range []string{"a.tar", "b.tar"} {
		var stdout, stderr bytes.Buffer
		args := []string{"--layer", base, "--layer", app, "--tag", "example.test/app:1",
			"--platform", "linux/arm64/v8", "--mtime", "1700000000", "--docker-archive", filepath.Join(out, f)}
		if err := run(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
		digests = append(digests, strings.TrimSpace(stdout.String()))
		// Touch the tree between runs: the digest must not notice.
		if err := os.Chtimes(filepath.Join(app, "app.txt"), time.Now(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if digests[0] != digests[1] || !strings.HasPrefix(digests[0], "sha256:") {
		t.Fatalf("digests differ or malformed: %q", digests)
	}
	a, err := os.ReadFile(filepath.Join(out, "a.tar"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "b.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("docker archives differ byte for byte")
	}

	tag, _ := name.NewTag("example.test/app:1")
	img, err := tarball.ImageFromPath(filepath.Join(out, "a.tar"), &tag)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d.String() != digests[0] {
		t.Errorf("archive image digest %s, printed %s", d, digests[0])
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Platform().String(); got != "linux/arm64/v8" {
		t.Errorf("platform = %q", got)
	}
	if got := cf.Created.Unix(); got != 1700000000 {
		t.Errorf("created = %d", got)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers = %d, %v", len(layers), err)
	}
	const mt = 1700000000
	wantBase := []entry{
		{Name: "bin", Link: "usr/bin", Type: tar.TypeSymlink, Mode: 0o777, ModTime: mt},
		{Name: "etc/", Type: tar.TypeDir, Mode: 0o755, ModTime: mt},
		{Name: "etc/gone", Type: tar.TypeReg, Mode: 0o644, Size: 1, ModTime: mt},
		{Name: "etc/os-release", Type: tar.TypeReg, Mode: 0o644, Size: 10, ModTime: mt},
		{Name: "usr/", Type: tar.TypeDir, Mode: 0o755, ModTime: mt},
		{Name: "usr/bin/", Type: tar.TypeDir, Mode: 0o755, ModTime: mt},
		{Name: "usr/bin/tool", Type: tar.TypeReg, Mode: 0o755, Size: 10, ModTime: mt},
		{Name: "usr/bin/tool2", Link: "usr/bin/tool", Type: tar.TypeLink, Mode: 0o755, ModTime: mt},
	}
	if diff := cmp.Diff(wantBase, layerEntries(t, layers[0])); diff != "" {
		t.Errorf("base layer (-want +got):\n%s", diff)
	}
	wantApp := []entry{
		{Name: "app.txt", Type: tar.TypeReg, Mode: 0o600, Size: 5, ModTime: mt},
		{Name: "etc/", Type: tar.TypeDir, Mode: 0o755, ModTime: mt},
		{Name: "etc/.wh.gone", Type: tar.TypeReg, Mode: 0o644, ModTime: mt},
	}
	if diff := cmp.Diff(wantApp, layerEntries(t, layers[1])); diff != "" {
		t.Errorf("app layer (-want +got):\n%s", diff)
	}
}

func TestOCILayoutAndPush(t *testing.T) {
	base, app := makeTree(t)
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := filepath.Join(t.TempDir(), "layout")
	var stdout, stderr bytes.Buffer
	args := []string{"--layer", base, "--layer", app, "--tag", "app:1", "--media-types", "oci",
		"--oci-layout", dir, "--push", host + "/app:1", "--insecure"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	want := strings.TrimSpace(stdout.String())

	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Digest.String() != want ||
		m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "app:1" {
		t.Errorf("layout index = %+v, want one manifest %s named app:1", m.Manifests, want)
	}

	ref, err := name.ParseReference(host+"/app:1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != want {
		t.Errorf("pushed digest %s, want %s", desc.Digest, want)
	}
	if string(desc.MediaType) != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("pushed media type %s", desc.MediaType)
	}
}

func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no layer", []string{"--docker-archive", "x.tar"}, "at least one --layer"},
		{"no output", []string{"--layer", dir}, "no output"},
		{"bad media", []string{"--layer", dir, "--docker-archive", "x", "--media-types", "v2"}, "want docker or oci"},
		{"bad mtime", []string{"--layer", dir, "--docker-archive", "x", "--mtime", "yesterday"}, "RFC 3339"},
		{"bad env", []string{"--layer", dir, "--docker-archive", "x", "--env", "NOVALUE"}, "KEY=VALUE"},
		{"stray arg", []string{"--layer", dir, "--docker-archive", "x", "extra"}, "unexpected arguments"},
		{"missing dir", []string{"--layer", filepath.Join(dir, "nope"), "--docker-archive", filepath.Join(dir, "x")}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want containing %q", err, tc.want)
			}
		})
	}
}
