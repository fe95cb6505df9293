package contentstore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/testing/testimage"
)

var host = "linux/" + runtime.GOARCH

func other() string {
	if runtime.GOARCH == "arm64" {
		return "linux/amd64"
	}
	return "linux/arm64"
}

func twoLayers(t *testing.T, platform string) v1.Image {
	return testimage.Image(t, platform,
		map[string]string{"etc/": "", "etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n", "etc/motd": "base"},
		map[string]string{"etc/motd": "top of " + platform, "usr/": "", "usr/bin/": "", "usr/bin/tool": "#!/bin/sh\n"})
}

// readFile reads name from the image's flattened root.
func readFile(t *testing.T, img image.Image, name string) (string, error) {
	t.Helper()
	rfs, err := img.RootFS(context.Background(), layerfs.Options{TempDir: t.TempDir()})
	if err != nil {
		if rfs != nil {
			rfs.Close()
		}
		return "", err
	}
	defer rfs.Close()
	b, err := fs.ReadFile(rfs, name)
	return string(b), err
}

func TestImageFromStore(t *testing.T) {
	w := newStoreDir(t)
	img := twoLayers(t, host)
	md := w.image(img)
	s, err := Open(w.root)
	must(t, err)
	defer s.Close()

	ref := "localhost:5000/shop/app@" + md.String()
	got, err := s.Image(context.Background(), ref)
	must(t, err)
	defer got.Close()
	d := got.Descriptor()
	cd, _ := img.ConfigName()
	if d.Reference != ref || d.Digest != md.String() || d.ConfigDigest != cd.String() || d.IndexDigest != "" ||
		d.Platform != host || len(d.RepoDigests) != 1 || d.RepoDigests[0] != ref || !d.Created.Equal(testimage.Created) {
		t.Errorf("descriptor %+v", d)
	}
	// The same identity as the OCI-layout source gives the same image, so
	// cached inventories and results join across sources.
	want := layoutDescriptor(t, img)
	if len(d.Layers) != 2 || len(want.Layers) != 2 {
		t.Fatalf("layers %+v, layout %+v", d.Layers, want.Layers)
	}
	for i := range d.Layers {
		if d.Layers[i] != want.Layers[i] {
			t.Errorf("layer %d: %+v, the OCI layout source says %+v", i, d.Layers[i], want.Layers[i])
		}
	}
	if s, err := readFile(t, got, "etc/motd"); err != nil || s != "top of "+host {
		t.Errorf("etc/motd = %q, %v: want the upper layer's", s, err)
	}
	if s, err := readFile(t, got, "etc/os-release"); err != nil || !strings.Contains(s, "debian") {
		t.Errorf("etc/os-release = %q, %v", s, err)
	}

	// The content directory itself opens too; a bare digest is a reference.
	s2, err := Open(filepath.Join(w.root, ContentDir))
	must(t, err)
	defer s2.Close()
	bare, err := s2.Image(context.Background(), md.String())
	must(t, err)
	if d := bare.Descriptor(); d.Reference != md.String() || len(d.RepoDigests) != 0 || d.Digest != md.String() {
		t.Errorf("bare digest: %+v", d)
	}
}

// layoutDescriptor is what image.OpenLayout says of img.
func layoutDescriptor(t *testing.T, img v1.Image) image.Descriptor {
	t.Helper()
	dir := t.TempDir()
	must(t, writeLayout(dir, img))
	li, err := image.OpenLayout(context.Background(), dir, image.LocalOptions{})
	must(t, err)
	defer li.Close()
	return li.Descriptor()
}

func TestIndexPicksPlatform(t *testing.T) {
	w := newStoreDir(t)
	idx := testimage.Index(t, true, twoLayers(t, other()), twoLayers(t, host))
	id := w.index(idx)
	s, err := Open(w.root)
	must(t, err)
	defer s.Close()
	for _, p := range []string{"", other()} {
		s.Platform = p
		img, err := s.Image(context.Background(), id.String())
		must(t, err)
		want := p
		if want == "" {
			want = host
		}
		d := img.Descriptor()
		if d.IndexDigest != id.String() || d.Platform != want || d.Digest == id.String() {
			t.Errorf("platform %q: %+v", p, d)
		}
		if got, err := readFile(t, img, "etc/motd"); err != nil || got != "top of "+want {
			t.Errorf("platform %q: etc/motd = %q, %v", p, got, err)
		}
	}
	s.Platform = "windows/amd64"
	if _, err := s.Image(context.Background(), id.String()); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("absent platform: %v, want ErrNotFound", err)
	}
}

func TestTamperedBlobs(t *testing.T) {
	img := twoLayers(t, host)
	ls := layerDigests(t, img)
	cd, _ := img.ConfigName()
	flip := func(t *testing.T, path string) {
		t.Helper()
		b, err := os.ReadFile(path)
		must(t, err)
		b[len(b)/2] ^= 0x01 // same size, different bytes
		must(t, os.WriteFile(path, b, 0o644))
	}
	open := func(t *testing.T) (blobWriter, *Store, v1.Hash) {
		w := newStoreDir(t)
		md := w.image(img)
		s, err := Open(w.root)
		must(t, err)
		t.Cleanup(func() { s.Close() })
		return w, s, md
	}

	t.Run("layer", func(t *testing.T) {
		w, s, md := open(t)
		flip(t, w.path(ls[1]))
		got, err := s.Image(context.Background(), md.String())
		must(t, err) // sizes agree; the bytes are checked as read
		_, err = readFile(t, got, "etc/motd")
		if !errors.Is(err, image.ErrDigestMismatch) || !strings.Contains(err.Error(), ls[1].String()) {
			t.Errorf("tampered layer: %v, want a digest mismatch naming %s", err, ls[1])
		}
	})
	t.Run("layer size", func(t *testing.T) {
		w, s, md := open(t)
		f, err := os.OpenFile(w.path(ls[0]), os.O_APPEND|os.O_WRONLY, 0)
		must(t, err)
		f.Write([]byte("more"))
		f.Close()
		if _, err := s.Image(context.Background(), md.String()); !errors.Is(err, image.ErrDigestMismatch) || !strings.Contains(err.Error(), ls[0].String()) {
			t.Errorf("grown layer: %v", err)
		}
	})
	t.Run("config", func(t *testing.T) {
		w, s, md := open(t)
		flip(t, w.path(cd))
		if _, err := s.Image(context.Background(), md.String()); !errors.Is(err, image.ErrDigestMismatch) || !strings.Contains(err.Error(), cd.String()) {
			t.Errorf("tampered config: %v", err)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		w, s, md := open(t)
		flip(t, w.path(md))
		if _, err := s.Image(context.Background(), md.String()); !errors.Is(err, image.ErrDigestMismatch) {
			t.Errorf("tampered manifest: %v", err)
		}
	})
	t.Run("missing layer", func(t *testing.T) {
		w, s, md := open(t)
		must(t, os.Remove(w.path(ls[0])))
		_, err := s.Image(context.Background(), md.String())
		if !errors.Is(err, ErrBlobMissing) || !strings.Contains(err.Error(), ls[0].String()) || !strings.Contains(err.Error(), "layer 0") {
			t.Errorf("missing layer: %v, want ErrBlobMissing naming %s", err, ls[0])
		}
	})
	t.Run("missing manifest", func(t *testing.T) {
		_, s, _ := open(t)
		d := "sha256:" + strings.Repeat("0", 64)
		if _, err := s.Image(context.Background(), d); !errors.Is(err, ErrBlobMissing) || !strings.Contains(err.Error(), d) {
			t.Errorf("missing manifest: %v", err)
		}
	})
	t.Run("symlink out of the store", func(t *testing.T) {
		w, s, md := open(t)
		outside := filepath.Join(t.TempDir(), "blob")
		b, _ := os.ReadFile(w.path(ls[0]))
		os.WriteFile(outside, b, 0o644)
		os.Remove(w.path(ls[0]))
		must(t, os.Symlink(outside, w.path(ls[0])))
		if _, err := s.Image(context.Background(), md.String()); err == nil {
			t.Error("a blob symlinked outside the store was read")
		}
	})
	t.Run("fifo", func(t *testing.T) {
		w, s, md := open(t)
		os.Remove(w.path(ls[0]))
		if err := syscall.Mkfifo(w.path(ls[0]), 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		done := make(chan error, 1)
		go func() { _, err := s.Image(context.Background(), md.String()); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Error("a fifo blob was accepted")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a fifo blob blocked the open")
		}
	})
}

func TestRefusals(t *testing.T) {
	w := newStoreDir(t)
	md := w.image(twoLayers(t, host))
	s, err := Open(w.root)
	must(t, err)
	defer s.Close()
	for _, ref := range []string{"sha256:../../etc/passwd", "latest", "repo@sha256:abc", "sha256:" + strings.Repeat("A", 64)} {
		if _, err := s.Image(context.Background(), ref); !errors.Is(err, image.ErrBadDigest) {
			t.Errorf("%q: %v, want ErrBadDigest", ref, err)
		}
	}
	s.MaxManifestBytes = 16
	if _, err := s.Image(context.Background(), md.String()); !errors.Is(err, image.ErrTooLarge) {
		t.Errorf("manifest over the cap: %v", err)
	}
	s.MaxManifestBytes, s.MaxConfigBytes = 0, 16
	if _, err := s.Image(context.Background(), md.String()); !errors.Is(err, image.ErrTooLarge) {
		t.Errorf("config over the cap: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Image(ctx, md.String()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Open(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no store: %v", err)
	}
}
