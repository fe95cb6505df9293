package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/testing/testimage"
)

// built is an image whose layers live in temporary files until cleanup.
type built struct {
	img     v1.Image
	tmpDir  string
	cleanup func()
}

// buildImage packs every layer directory with the shared image builder
// (internal/testing/testimage) and assembles the image config.
func buildImage(ctx context.Context, c config, stderr io.Writer) (*built, error) {
	tmp, err := os.MkdirTemp("", "mkimage-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	b := &built{tmpDir: tmp, cleanup: func() { os.RemoveAll(tmp) }}
	ok := false
	defer func() {
		if !ok {
			b.cleanup()
		}
	}()

	oci := c.MediaTypes == "oci"
	var layers []v1.Layer
	var history []v1.History
	for i, dir := range c.Layers {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("layer %d: %s is not a directory", i, dir)
		}
		blob := filepath.Join(tmp, fmt.Sprintf("layer-%d.tar.gz", i))
		l, p, err := testimage.DirLayer(ctx, dir, blob, testimage.DirOptions{
			MTime: c.MTime, KeepOwner: c.KeepOwner, GzipLevel: c.GzipLevel, OCI: oci})
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, dir, err)
		}
		for _, s := range p.Skipped {
			fmt.Fprintf(stderr, "mkimage: layer %d: skipped %s\n", i, s)
		}
		d, _ := l.Digest()
		sz, _ := l.Size()
		fmt.Fprintf(stderr, "mkimage: layer %d %s: %d entries, %d bytes, %s\n", i, dir, p.Entries, sz, d)
		layers = append(layers, l)
		history = append(history, v1.History{
			Created:   v1.Time{Time: c.MTime},
			CreatedBy: "mkimage --layer " + filepath.Base(filepath.Clean(dir)),
		})
	}
	if _, err := v1.ParsePlatform(c.Platform); err != nil {
		return nil, fmt.Errorf("--platform %q: %w", c.Platform, err)
	}
	img, err := testimage.Build(layers, testimage.Options{
		Platform: c.Platform, Created: c.MTime, OCI: oci, Config: imageConfig(c), History: history})
	if err != nil {
		return nil, err
	}
	b.img = img
	ok = true
	return b, nil
}

// imageConfig is the runtime configuration the command line asks for; an
// image without --env gets the usual PATH.
func imageConfig(c config) testimage.Config {
	ic := testimage.Config{Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkDir}
	if len(ic.Env) == 0 {
		ic.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	if len(c.Labels) > 0 {
		ic.Labels = map[string]string{}
		for _, kv := range c.Labels {
			k, v, _ := strings.Cut(kv, "=")
			ic.Labels[k] = v
		}
	}
	return ic
}

// writeOutputs writes img to each output the config names.
func writeOutputs(ctx context.Context, c config, img v1.Image, stderr io.Writer) error {
	if c.DockerArchive != "" {
		if err := writeDockerArchive(c, img); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "mkimage: wrote docker archive %s\n", c.DockerArchive)
	}
	if c.OCILayout != "" {
		if err := writeOCILayout(c, img); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "mkimage: wrote OCI layout %s\n", c.OCILayout)
	}
	if c.Push != "" {
		var opts []name.Option
		if c.Insecure {
			opts = append(opts, name.Insecure)
		}
		ref, err := name.ParseReference(c.Push, opts...)
		if err != nil {
			return fmt.Errorf("--push %q: %w", c.Push, err)
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("pushing %s: %w", ref, err)
		}
		fmt.Fprintf(stderr, "mkimage: pushed %s\n", ref)
	}
	return nil
}

// writeDockerArchive writes a docker-save tarball; without --tag the
// archive's RepoTags stay empty, as with `docker save IMAGE-ID`.
func writeDockerArchive(c config, img v1.Image) error {
	var ref name.Reference
	var err error
	if c.Tag != "" {
		ref, err = name.NewTag(c.Tag)
		if err != nil {
			return fmt.Errorf("--tag %q: %w", c.Tag, err)
		}
	} else {
		d, derr := img.Digest()
		if derr != nil {
			return fmt.Errorf("image digest: %w", derr)
		}
		ref, err = name.NewDigest("mkimage@" + d.String())
		if err != nil {
			return fmt.Errorf("digest reference: %w", err)
		}
	}
	tmp := c.DockerArchive + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, map[name.Reference]v1.Image{ref: img}); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", c.DockerArchive, err)
	}
	if err := os.Rename(tmp, c.DockerArchive); err != nil {
		return fmt.Errorf("writing %s: %w", c.DockerArchive, err)
	}
	return nil
}

// writeOCILayout appends img to the layout at c.OCILayout, creating it if
// needed, and names it with the tag when one is given.
func writeOCILayout(c config, img v1.Image) error {
	p, err := layout.FromPath(c.OCILayout)
	if err != nil {
		if p, err = layout.Write(c.OCILayout, empty.Index); err != nil {
			return fmt.Errorf("creating OCI layout %s: %w", c.OCILayout, err)
		}
	}
	var opts []layout.Option
	if c.Tag != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{
			"org.opencontainers.image.ref.name": c.Tag,
		}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", c.OCILayout, err)
	}
	return nil
}
