// Package testimage builds small, real OCI images for the test cluster: a single
// layer of files (typically one static Go binary) with an entrypoint. It is used by
// hack/cluster (the pause image) and by the e2e fixtures (images pushed to the
// cluster's loopback registry). Images are reproducible: the same files give the
// same digest, so pushes are cheap to repeat.
package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// File is one regular file placed in the image layer.
type File struct {
	// Path is the absolute path inside the image, e.g. "/app".
	Path string
	// Mode is the file mode; 0 means 0o755.
	Mode int64
	// Data is the file content.
	Data []byte
}

// Config is the part of the image configuration the tests care about.
type Config struct {
	// Entrypoint is the container's command.
	Entrypoint []string
	// Env is a list of KEY=VALUE pairs.
	Env []string
	// Labels are the image labels.
	Labels map[string]string
}

// epoch keeps layer and config timestamps fixed so that digests are reproducible.
var epoch = time.Unix(0, 0).UTC()

// FromFiles returns a linux/amd64 image with one layer holding files.
func FromFiles(files []File, cfg Config) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	for _, f := range sorted {
		p := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
		if p == "" {
			return nil, fmt.Errorf("file path %q: empty", f.Path)
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch}); err != nil {
				return nil, fmt.Errorf("tar dir %s: %w", d, err)
			}
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o755
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: mode, Size: int64(len(f.Data)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", p, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, fmt.Errorf("tar data %s: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar close: %w", err)
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Entrypoint = cfg.Entrypoint
	cf.Config.Env = cfg.Env
	cf.Config.Labels = cfg.Labels
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

// GoStatic builds the Go main package pkg (a path or import path resolvable from dir)
// as a static linux binary and returns its bytes.
func GoStatic(ctx context.Context, dir, pkg string) ([]byte, error) {
	out, err := os.CreateTemp("", "testimage-bin-*")
	if err != nil {
		return nil, fmt.Errorf("temp file: %w", err)
	}
	out.Close()
	defer os.Remove(out.Name())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out.Name(), pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return os.ReadFile(out.Name())
}

// WriteTarball writes img as a docker-archive tarball tagged ref, the format that
// `ctr images import` reads.
func WriteTarball(img v1.Image, ref, file string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("tag %q: %w", ref, err)
	}
	if err := tarball.WriteToFile(file, tag, img); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// Push uploads img to ref (for example "localhost:5000/runlens/app:v1") and returns
// the digest reference "localhost:5000/runlens/app@sha256:...".
func Push(ctx context.Context, img v1.Image, ref string, opts ...remote.Option) (name.Digest, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("reference %q: %w", ref, err)
	}
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	if err := remote.Write(r, img, opts...); err != nil {
		return name.Digest{}, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("digest: %w", err)
	}
	return r.Context().Digest(d.String()), nil
}
