package image_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/testing/testimage"
)

// mustOpen returns a function taking an opener's results, so calls read
// mustOpen(t)(image.OpenX(...)).
func mustOpen(t *testing.T) func(image.Image, error) image.Image {
	return func(im image.Image, err error) image.Image {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { im.Close() })
		return im
	}
}

func rootFS(t *testing.T, im image.Image) layerfs.RootFS {
	t.Helper()
	fsys, err := im.RootFS(context.Background(), layerfs.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

func TestDockerSaveArchive(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	app := twoLayers(t)
	other := testimage.Image(t, "linux/arm64", map[string]string{"etc/os-release": "ID=other\n"})
	one := filepath.Join(dir, "one.tar")
	appTag, _ := name.NewTag("example.com/team/app:v1")
	if err := tarball.WriteToFile(one, appTag, app); err != nil {
		t.Fatal(err)
	}
	two := filepath.Join(dir, "two.tar")
	otherTag, _ := name.NewTag("example.com/team/other:v2")
	if err := tarball.MultiRefWriteToFile(two, map[name.Reference]v1.Image{appTag: app, otherTag: other}); err != nil {
		t.Fatal(err)
	}
	cf, _ := app.ConfigFile()
	cfgDigest, _ := app.ConfigName()
	want := image.Descriptor{
		Reference:    one,
		ConfigDigest: cfgDigest.String(),
		RepoTags:     []string{"example.com/team/app:v1"},
		Platform:     "linux/amd64",
		Created:      testimage.Created,
	}
	layers, _ := app.Layers()
	for i, l := range layers {
		sz, _ := l.Size()
		want.Layers = append(want.Layers, image.LayerInfo{DiffID: cf.RootFS.DiffIDs[i].String(), Size: sz})
	}

	im := mustOpen(t)(image.OpenArchive(ctx, one, image.LocalOptions{}))
	if diff := cmp.Diff(want, im.Descriptor()); diff != "" {
		t.Errorf("Descriptor (-want +got):\n%s", diff)
	}
	fsys := rootFS(t, im)
	if got := readFile(t, fsys, "etc/os-release"); got != "ID=alpine\n" {
		t.Errorf("etc/os-release = %q", got)
	}

	// Several images: the tag chooses, as PATH:TAG or as an option.
	for _, tc := range []struct {
		path string
		opts image.LocalOptions
		want string
	}{
		{two + ":example.com/team/other:v2", image.LocalOptions{}, "ID=other\n"},
		{two + ":team/app:v1", image.LocalOptions{}, "ID=alpine\n"},
		{two, image.LocalOptions{Tag: "v2"}, "ID=other\n"},
	} {
		im := mustOpen(t)(image.OpenArchive(ctx, tc.path, tc.opts))
		if got := readFile(t, rootFS(t, im), "etc/os-release"); got != tc.want {
			t.Errorf("%s %+v: etc/os-release = %q, want %q", tc.path, tc.opts, got, tc.want)
		}
	}
	_, err := image.OpenArchive(ctx, two, image.LocalOptions{})
	if !errors.Is(err, image.ErrNotFound) || !strings.Contains(err.Error(), "example.com/team/other:v2") || !strings.Contains(err.Error(), "example.com/team/app:v1") {
		t.Errorf("ambiguous archive: err = %v, want ErrNotFound listing both tags", err)
	}
	_, err = image.OpenArchive(ctx, two, image.LocalOptions{Tag: "nope"})
	if !errors.Is(err, image.ErrNotFound) || !strings.Contains(err.Error(), "example.com/team/app:v1") {
		t.Errorf("unknown tag: err = %v", err)
	}
}

// ociLayout writes a layout holding app (named v1) and a multi-arch index
// (named multi), and returns its directory.
func ociLayout(t *testing.T, imgs map[string]v1.Image, idx map[string]v1.ImageIndex) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for n, img := range imgs {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": n})); err != nil {
			t.Fatal(err)
		}
	}
	for n, ii := range idx {
		if err := p.AppendIndex(ii, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": n})); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tarDir packs a directory into an uncompressed tarball.
func tarDir(t *testing.T, dir, out string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, _ := d.Info()
		h, _ := tar.FileInfoHeader(info, "")
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			tw.Write(b)
		}
		return nil
	})
	if err != nil || tw.Close() != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOCILayoutAndTarball(t *testing.T) {
	ctx := context.Background()
	app := twoLayers(t)
	amd := testimage.Image(t, "linux/amd64", map[string]string{"arch": "amd64"})
	arm := testimage.Image(t, "linux/arm64", map[string]string{"arch": "arm64"})
	multi := testimage.Index(t, true, amd, arm)
	multiDigest, _ := multi.Digest()
	armDigest, _ := arm.Digest()

	single := ociLayout(t, map[string]v1.Image{"v1": app}, nil)
	both := ociLayout(t, map[string]v1.Image{"v1": app}, map[string]v1.ImageIndex{"multi": multi})
	singleTar := filepath.Join(t.TempDir(), "single.tar")
	tarDir(t, single, singleTar)
	bothTar := filepath.Join(t.TempDir(), "both.tar")
	tarDir(t, both, bothTar)

	type opener func(string, image.LocalOptions) (image.Image, error)
	openLayout := func(p string, o image.LocalOptions) (image.Image, error) { return image.OpenLayout(ctx, p, o) }
	openArchive := func(p string, o image.LocalOptions) (image.Image, error) { return image.OpenArchive(ctx, p, o) }
	for _, src := range []struct {
		kind         string
		open         opener
		single, both string
	}{
		{"layout", openLayout, single, both},
		{"tarball", openArchive, singleTar, bothTar},
	} {
		t.Run(src.kind, func(t *testing.T) {
			im := mustOpen(t)(src.open(src.single, image.LocalOptions{}))
			want := wantDescriptor(t, app, src.single)
			want.RepoTags = []string{"v1"}
			if diff := cmp.Diff(want, im.Descriptor()); diff != "" {
				t.Errorf("Descriptor (-want +got):\n%s", diff)
			}
			if got := readFile(t, rootFS(t, im), "etc/os-release"); got != "ID=alpine\n" {
				t.Errorf("etc/os-release = %q", got)
			}

			im = mustOpen(t)(src.open(src.both, image.LocalOptions{Tag: "multi", Platform: "linux/arm64"}))
			d := im.Descriptor()
			if d.Digest != armDigest.String() || d.IndexDigest != multiDigest.String() || d.Platform != "linux/arm64" {
				t.Errorf("multi/arm64: Descriptor = %+v", d)
			}
			if got := readFile(t, rootFS(t, im), "arch"); got != "arm64" {
				t.Errorf("arch = %q", got)
			}

			_, err := src.open(src.both, image.LocalOptions{})
			if !errors.Is(err, image.ErrNotFound) || !strings.Contains(err.Error(), "multi") || !strings.Contains(err.Error(), "v1") {
				t.Errorf("ambiguous: err = %v, want ErrNotFound listing v1 and multi", err)
			}
		})
	}
}

// writeTar writes an uncompressed tarball of entries in order; a value
// starting with "->" is a symlink.
func writeTar(t *testing.T, path string, entries [][2]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e[1]))}
		if strings.HasPrefix(e[1], "->") {
			h = &tar.Header{Name: e[0], Typeflag: tar.TypeSymlink, Linkname: e[1][2:], Mode: 0o777}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e[1]))
		}
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func layerTar(t *testing.T, files ...string) (string, string) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(files[i+1]))})
		tw.Write([]byte(files[i+1]))
	}
	tw.Close()
	sum := sha256.Sum256(buf.Bytes())
	return buf.String(), "sha256:" + hex.EncodeToString(sum[:])
}

func jsonString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Hand-written docker-save archives: the old layout (uncompressed
// <id>/layer.tar, duplicate layers as symlinks) and hostile variants.
func TestDockerSaveHandWritten(t *testing.T) {
	ctx := context.Background()
	l1, d1 := layerTar(t, "etc/os-release", "ID=debian\n")
	l2, d2 := layerTar(t, "etc/motd", "hi\n")
	cfg := jsonString(t, map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{d1, d2, d1}},
	})
	cfgName := sha(cfg) + ".json"
	manifest := func(config string, layers ...string) string {
		return jsonString(t, []map[string]any{{"Config": config, "RepoTags": []string{"old:1"}, "Layers": layers}})
	}
	good := [][2]string{
		{"manifest.json", manifest(cfgName, "aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar")},
		{cfgName, cfg},
		{"aaa/layer.tar", l1},
		{"bbb/layer.tar", l2},
		{"ccc/layer.tar", "->../aaa/layer.tar"},
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "good.tar")
	writeTar(t, p, good)
	im := mustOpen(t)(image.OpenArchive(ctx, p, image.LocalOptions{}))
	fsys := rootFS(t, im)
	if got := readFile(t, fsys, "etc/motd"); got != "hi\n" {
		t.Errorf("etc/motd = %q", got)
	}
	if got := im.Descriptor().ConfigDigest; got != "sha256:"+sha(cfg) {
		t.Errorf("ConfigDigest = %s", got)
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("not really a tar"))
	zw.Close()

	badLayer := strings.Replace(l2, "hi\n", "HI\n", 1)
	tests := []struct {
		name    string
		entries [][2]string
		opts    image.LocalOptions
		atOpen  error // expected from OpenArchive
		atRoot  error // expected from RootFS
	}{
		{"config renamed", [][2]string{{"manifest.json", manifest(sha("x")+".json", "aaa/layer.tar")}, {sha("x") + ".json", cfg}}, image.LocalOptions{}, image.ErrDigestMismatch, nil},
		{"config over cap", good, image.LocalOptions{MaxConfigBytes: 50}, image.ErrTooLarge, nil},
		{"manifest over cap", good, image.LocalOptions{MaxManifestBytes: 20}, image.ErrTooLarge, nil},
		{"layer outside archive", [][2]string{{"manifest.json", manifest(cfgName, "../../../etc/passwd", "bbb/layer.tar", "/etc/shadow")}, {cfgName, cfg}, {"bbb/layer.tar", l2}}, image.LocalOptions{}, fs.ErrNotExist, nil},
		{"symlink loop", [][2]string{{"manifest.json", manifest(cfgName, "a", "b", "a")}, {cfgName, cfg}, {"a", "->b"}, {"b", "->a"}}, image.LocalOptions{}, errors.New("too many links"), nil},
		{"layer tampered", [][2]string{good[0], good[1], good[2], {"bbb/layer.tar", badLayer}, good[4]}, image.LocalOptions{}, nil, image.ErrDigestMismatch},
		{"no manifest", [][2]string{{"x", "y"}}, image.LocalOptions{}, image.ErrNotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".tar")
			writeTar(t, p, tc.entries)
			im, err := image.OpenArchive(ctx, p, tc.opts)
			if !matches(err, tc.atOpen) {
				t.Fatalf("OpenArchive err = %v, want %v", err, tc.atOpen)
			}
			if err != nil {
				return
			}
			defer im.Close()
			fsys, err := im.RootFS(ctx, layerfs.Options{TempDir: t.TempDir()})
			if fsys != nil {
				defer fsys.Close()
			}
			if !matches(err, tc.atRoot) {
				t.Errorf("RootFS err = %v, want %v", err, tc.atRoot)
			}
		})
	}
	gzPath := filepath.Join(dir, "img.tar.gz")
	os.WriteFile(gzPath, gz.Bytes(), 0o644)
	if _, err := image.OpenArchive(ctx, gzPath, image.LocalOptions{}); err == nil || !strings.Contains(err.Error(), "decompress") {
		t.Errorf("gzip archive: err = %v", err)
	}
}

// matches is errors.Is, or a substring match for ad-hoc errors.
func matches(err, want error) bool {
	if want == nil || err == nil {
		return (want == nil) == (err == nil)
	}
	return errors.Is(err, want) || strings.Contains(err.Error(), want.Error())
}

func TestOCILayoutHostile(t *testing.T) {
	ctx := context.Background()
	app := twoLayers(t)
	m, _ := app.Manifest()
	outside := filepath.Join(t.TempDir(), "outside-secret")
	os.WriteFile(outside, []byte("SECRET"), 0o644)

	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, dir string)
		atOpen error
		atRoot error
	}{
		{"blob symlinked outside", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "blobs", "sha256", m.Layers[0].Digest.Hex)
			os.Remove(p)
			os.Symlink(outside, p)
		}, nil, errors.New("escapes")},
		{"config symlinked outside", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "blobs", "sha256", m.Config.Digest.Hex)
			os.Remove(p)
			os.Symlink(outside, p)
		}, errors.New("escapes"), nil},
		{"index digest hostile", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "index.json"))
			var idx map[string]any
			json.Unmarshal(b, &idx)
			idx["manifests"].([]any)[0].(map[string]any)["digest"] = "sha256:../../../outside-secret"
			os.WriteFile(filepath.Join(dir, "index.json"), []byte(jsonString(t, idx)), 0o644)
		}, errors.New("hex"), nil},
		{"layer blob longer than descriptor", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "blobs", "sha256", m.Layers[1].Digest.Hex)
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte("extra"))
			f.Close()
		}, nil, image.ErrTooLarge},
		{"layer blob replaced", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "blobs", "sha256", m.Layers[1].Digest.Hex)
			b, _ := os.ReadFile(p)
			b[9] ^= 1 // gzip OS byte: same size, still decompresses
			os.WriteFile(p, b, 0o644)
		}, nil, image.ErrDigestMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := ociLayout(t, map[string]v1.Image{"v1": app}, nil)
			tc.mutate(t, dir)
			im, err := image.OpenLayout(ctx, dir, image.LocalOptions{})
			if !matches(err, tc.atOpen) {
				t.Fatalf("OpenLayout err = %v, want %v", err, tc.atOpen)
			}
			if err != nil {
				return
			}
			defer im.Close()
			fsys, err := im.RootFS(ctx, layerfs.Options{TempDir: t.TempDir()})
			if fsys != nil {
				defer fsys.Close()
				if _, err := fs.ReadFile(fsys, "SECRET"); err == nil {
					t.Error("outside file readable")
				}
			}
			if !matches(err, tc.atRoot) {
				t.Errorf("RootFS err = %v, want %v", err, tc.atRoot)
			}
		})
	}
}

func TestOpenDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "os-release"), []byte("ID=debian\n"), 0o644)
	im := mustOpen(t)(image.OpenDir(ctx, dir))
	if diff := cmp.Diff(image.Descriptor{Reference: dir}, im.Descriptor()); diff != "" {
		t.Errorf("Descriptor (-want +got):\n%s", diff)
	}
	if got := readFile(t, rootFS(t, im), "etc/os-release"); got != "ID=debian\n" {
		t.Errorf("etc/os-release = %q", got)
	}
	if _, err := image.OpenDir(ctx, filepath.Join(dir, "etc", "os-release")); err == nil {
		t.Error("OpenDir on a file succeeded")
	}
	if _, err := image.OpenDir(ctx, filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: err = %v", err)
	}
}
