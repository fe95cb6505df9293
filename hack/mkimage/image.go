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
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// built is an image whose layers live in temporary files until cleanup.
type built struct {
	img     v1.Image
	tmpDir  string
	cleanup func()
}

// buildImage packs every layer directory and assembles the image config.
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

	manifestType, configType, layerType := types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer
	if c.MediaTypes == "oci" {
		manifestType, configType, layerType = types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer
	}
	img := mutate.MediaType(empty.Image, manifestType)
	img = mutate.ConfigMediaType(img, configType)

	var adds []mutate.Addendum
	for i, dir := range c.Layers {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("layer %d: %s is not a directory", i, dir)
		}
		blob := filepath.Join(tmp, fmt.Sprintf("layer-%d.tar.gz", i))
		p, err := packToFile(ctx, dir, blob, c)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, dir, err)
		}
		for _, s := range p.Skipped {
			fmt.Fprintf(stderr, "mkimage: layer %d: skipped %s\n", i, s)
		}
		l, err := tarball.LayerFromFile(blob, tarball.WithMediaType(layerType))
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, dir, err)
		}
		d, _ := l.Digest()
		sz, _ := l.Size()
		fmt.Fprintf(stderr, "mkimage: layer %d %s: %d entries, %d bytes, %s\n", i, dir, p.Entries, sz, d)
		adds = append(adds, mutate.Addendum{
			Layer:     l,
			MediaType: layerType,
			History: v1.History{
				Created:   v1.Time{Time: c.MTime},
				CreatedBy: "mkimage --layer " + filepath.Base(filepath.Clean(dir)),
			},
		})
	}
	img, err = mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("appending layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cf = cf.DeepCopy()
	if err := applyConfig(cf, c); err != nil {
		return nil, err
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting config: %w", err)
	}
	b.img = img
	ok = true
	return b, nil
}

// packToFile writes the compressed layer tar of dir to path.
func packToFile(ctx context.Context, dir, path string, c config) (packedLayer, error) {
	f, err := os.Create(path)
	if err != nil {
		return packedLayer{}, fmt.Errorf("create %s: %w", path, err)
	}
	p, err := packDir(ctx, dir, f, layerOptions{MTime: c.MTime, KeepOwner: c.KeepOwner, GzipLevel: c.GzipLevel})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", path, cerr)
	}
	return p, err
}

// applyConfig writes platform, time and runtime settings into cf.
func applyConfig(cf *v1.ConfigFile, c config) error {
	plat, err := v1.ParsePlatform(c.Platform)
	if err != nil {
		return fmt.Errorf("--platform %q: %w", c.Platform, err)
	}
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = plat.OS, plat.Architecture, plat.Variant, plat.OSVersion
	cf.Created = v1.Time{Time: c.MTime}
	cf.Config.Env = c.Env
	if len(cf.Config.Env) == 0 {
		cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	cf.Config.Entrypoint = c.Entrypoint
	cf.Config.Cmd = c.Cmd
	cf.Config.WorkingDir = c.WorkDir
	if len(c.Labels) > 0 {
		cf.Config.Labels = map[string]string{}
		for _, kv := range c.Labels {
			k, v, _ := strings.Cut(kv, "=")
			cf.Config.Labels[k] = v
		}
	}
	return nil
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
