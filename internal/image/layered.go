package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/registry"
)

// store is where a layered image's manifests and blobs live: a registry, an
// OCI tarball or an OCI layout. Digests reaching a store have been parsed by
// v1.Hash (ParseDigest rules), so building a path or URL from them is safe.
type store interface {
	// readManifest returns the manifest or index d names, verified against
	// d and capped at max bytes.
	readManifest(ctx context.Context, d v1.Descriptor, max int64) ([]byte, error)
	// openBlob returns a blob's stored bytes; callers cap and verify them.
	openBlob(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error)
}

// limits are the JSON caps in force for one open.
type limits struct {
	manifest, config int64
}

func (l limits) withDefaults() limits {
	if l.manifest <= 0 {
		l.manifest = DefaultMaxManifestBytes
	}
	if l.config <= 0 {
		l.config = DefaultMaxConfigBytes
	}
	return l
}

// layerSource is one layer as its source stores it.
type layerSource struct {
	info   LayerInfo
	diffID v1.Hash
	// digest and size describe the stored blob; a zero digest (docker-save
	// archives, which record no blob digests) means the uncompressed stream
	// is verified against diffID instead.
	digest v1.Hash
	size   int64
	urls   []string
	open   func(ctx context.Context) (io.ReadCloser, error)
}

// layered is the one Image implementation behind every layered source.
type layered struct {
	desc    Descriptor
	layers  []layerSource
	closeFn func() error
}

// Descriptor implements Image.
func (l *layered) Descriptor() Descriptor {
	d := l.desc
	d.RepoDigests = append([]string(nil), d.RepoDigests...)
	d.RepoTags = append([]string(nil), d.RepoTags...)
	d.Layers = append([]LayerInfo(nil), d.Layers...)
	return d
}

// RootFS implements Image by flattening the layers with layerfs.
func (l *layered) RootFS(ctx context.Context, opts layerfs.Options) (layerfs.RootFS, error) {
	ls := make([]layerfs.Layer, len(l.layers))
	for i := range l.layers {
		ls[i] = layerfs.Layer{
			DiffID: l.layers[i].diffID.String(),
			Open:   func(ctx context.Context) (io.ReadCloser, error) { return l.openLayer(ctx, i) },
			// Without a blob digest openLayer verifies the uncompressed
			// stream against the diffID itself.
			DiffIDVerified: l.layers[i].digest.Hex == "",
		}
	}
	fs, err := layerfs.Flatten(ctx, ls, opts)
	if err != nil {
		return fs, fmt.Errorf("image %s: %w", l.desc.Reference, err)
	}
	return fs, nil
}

// openLayer returns layer i's uncompressed tar stream: stored bytes capped
// at the descriptor size and digest-verified, then decompressed.
func (l *layered) openLayer(ctx context.Context, i int) (io.ReadCloser, error) {
	src := l.layers[i]
	what := fmt.Sprintf("image %s layer %d (%s)", l.desc.Reference, i, src.diffID)
	if src.digest.Hex != "" {
		what = fmt.Sprintf("image %s layer %d (%s)", l.desc.Reference, i, src.digest)
	}
	rc, err := src.open(ctx)
	if err != nil {
		if len(src.urls) > 0 {
			return nil, fmt.Errorf("%s: foreign layer not in the source (its URLs are never fetched): %w", what, err)
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if src.digest.Hex != "" {
		if rc, err = newVerifier(rc, src.digest, src.size, what); err != nil {
			return nil, err
		}
	}
	u, err := decompress(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if src.digest.Hex == "" {
		if u, err = newVerifier(u, src.diffID, -1, what+" uncompressed"); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// Close implements Image.
func (l *layered) Close() error {
	if l.closeFn == nil {
		return nil
	}
	f := l.closeFn
	l.closeFn = nil
	return f()
}

// sniff tells an index from a manifest when the media type is missing, as
// it may be in OCI layouts and in descriptors written by older tools.
func isIndex(mt types.MediaType, raw []byte) bool {
	if mt != "" {
		return mt.IsIndex()
	}
	var probe struct {
		Manifests json.RawMessage `json:"manifests"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Manifests != nil
}

// descend walks from d (an index or a manifest, raw bytes in hand) down to
// the image manifest for platform, returning it and the digest of the index
// it was chosen from.
func descend(ctx context.Context, s store, d v1.Descriptor, raw []byte, platform string, lim limits) (v1.Descriptor, []byte, string, error) {
	indexDigest := ""
	for depth := 0; isIndex(d.MediaType, raw); depth++ {
		if depth >= 4 {
			return d, nil, "", fmt.Errorf("indexes nested more than %d deep", depth)
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return d, nil, "", fmt.Errorf("index %s: %w", d.Digest, err)
		}
		child, err := registry.SelectPlatform(idx, platform)
		if err != nil {
			return d, nil, "", fmt.Errorf("index %s: %w: %w", d.Digest, ErrNotFound, err)
		}
		indexDigest = d.Digest.String()
		if raw, err = s.readManifest(ctx, child, lim.manifest); err != nil {
			return d, nil, "", err
		}
		d = child
	}
	return d, raw, indexDigest, nil
}

// build reads the config an image manifest names and describes the image.
func build(ctx context.Context, s store, ref string, md v1.Descriptor, raw []byte, indexDigest string, lim limits) (*layered, error) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("image %s: manifest %s: %w", ref, md.Digest, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("image %s: manifest schema version %d is not supported", ref, m.SchemaVersion)
	}
	switch m.Config.MediaType {
	case types.DockerConfigJSON, types.OCIConfigJSON, "":
	default:
		return nil, fmt.Errorf("image %s: %w: manifest %s is an artifact (config %s), not a container image", ref, ErrNotFound, md.Digest, m.Config.MediaType)
	}
	what := fmt.Sprintf("image %s config %s", ref, m.Config.Digest)
	if m.Config.Size < 0 || m.Config.Size > lim.config {
		return nil, fmt.Errorf("%s: %w: descriptor declares %d bytes, cap is %d", what, ErrTooLarge, m.Config.Size, lim.config)
	}
	var cfgBytes []byte
	if m.Config.Data != nil {
		cfgBytes = m.Config.Data
		err = checkBytes(cfgBytes, m.Config, lim.config, what)
	} else {
		var rc io.ReadCloser
		if rc, err = s.openBlob(ctx, m.Config); err == nil {
			cfgBytes, err = readAllVerified(rc, m.Config, lim.config, what)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cfgBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("image %s: manifest has %d layers but config lists %d diff IDs", ref, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	img := &layered{desc: Descriptor{
		Reference:    ref,
		Digest:       md.Digest.String(),
		IndexDigest:  indexDigest,
		ConfigDigest: m.Config.Digest.String(),
		Platform:     configPlatform(cfg),
		Created:      cfg.Created.Time,
	}}
	for i, ld := range m.Layers {
		ld := ld
		src := layerSource{
			info: LayerInfo{
				DiffID:    cfg.RootFS.DiffIDs[i].String(),
				Digest:    ld.Digest.String(),
				Size:      ld.Size,
				MediaType: string(ld.MediaType),
			},
			diffID: cfg.RootFS.DiffIDs[i],
			digest: ld.Digest,
			size:   ld.Size,
			urls:   ld.URLs,
			open:   func(ctx context.Context) (io.ReadCloser, error) { return s.openBlob(ctx, ld) },
		}
		img.layers = append(img.layers, src)
		img.desc.Layers = append(img.desc.Layers, src.info)
	}
	return img, nil
}

func configPlatform(cfg *v1.ConfigFile) string {
	if cfg.OS == "" || cfg.Architecture == "" {
		return ""
	}
	return registry.FormatPlatform(v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant})
}

// refNames lists the names a top-level index entry carries.
func refNames(d v1.Descriptor) []string {
	var out []string
	for _, k := range []string{"io.containerd.image.name", "org.opencontainers.image.ref.name"} {
		if v := d.Annotations[k]; v != "" {
			out = append(out, v)
		}
	}
	return out
}

// nameMatches says whether a stored name ("repo:tag", "tag" or a full
// reference) is what the user asked for with want.
func nameMatches(stored, want string) bool {
	if stored == want {
		return true
	}
	// "alpine:3.20" asked, "docker.io/library/alpine:3.20" stored, or just
	// the tag asked.
	return strings.HasSuffix(stored, "/"+want) || strings.HasSuffix(stored, ":"+want) ||
		strings.HasSuffix(stored, "/library/"+want)
}

// selectEntry picks the image to open from a source's top-level index:
// the one named want, else the only one, else (entries that only differ by
// platform) the one for platform. Errors list what is there.
func selectEntry(idx *v1.IndexManifest, want, platform, source string) (v1.Descriptor, error) {
	var all []string
	var matched []v1.Descriptor
	for _, d := range idx.Manifests {
		names := refNames(d)
		if len(names) == 0 {
			all = append(all, d.Digest.String())
		} else {
			all = append(all, strings.Join(names, " = "))
		}
		if want == "" {
			continue
		}
		for _, n := range names {
			if nameMatches(n, want) {
				matched = append(matched, d)
				break
			}
		}
	}
	if want == "" {
		matched = idx.Manifests
	}
	switch {
	case len(matched) == 1:
		return matched[0], nil
	case len(matched) == 0 && want != "":
		return v1.Descriptor{}, fmt.Errorf("%s: %w: no image named %q; it holds: %s", source, ErrNotFound, want, strings.Join(all, ", "))
	case len(matched) == 0:
		return v1.Descriptor{}, fmt.Errorf("%s: %w: it holds no images", source, ErrNotFound)
	}
	withPlatform := 0
	for _, d := range matched {
		if d.Platform != nil {
			withPlatform++
		}
	}
	if withPlatform == len(matched) {
		d, err := registry.SelectPlatform(&v1.IndexManifest{Manifests: matched}, platform)
		if err != nil {
			return v1.Descriptor{}, fmt.Errorf("%s: %w: %w", source, ErrNotFound, err)
		}
		return d, nil
	}
	return v1.Descriptor{}, fmt.Errorf("%s: %w: it holds %d images (%s); choose one with PATH:TAG or the tag option", source, ErrNotFound, len(matched), strings.Join(all, ", "))
}
