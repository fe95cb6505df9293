package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ErrBadDigest is matched by CheckDigest errors.
var ErrBadDigest = errors.New("bad digest")

// MaxIndexChildren bounds how many platform manifests of an index
// ResolveConfigDigest fetches while looking for a config digest.
const MaxIndexChildren = 16

// CheckDigest accepts "sha256:<64 hex>" and "sha512:<128 hex>", lower
// case, so that a hostile value such as "sha256:../../x" is refused before
// any path or URL is built from it.
func CheckDigest(d string) error {
	alg, hex, ok := strings.Cut(d, ":")
	want := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if !ok || want == 0 || len(hex) != want || strings.Trim(hex, "0123456789abcdef") != "" {
		return fmt.Errorf("%w %q", ErrBadDigest, clipDigest(d))
	}
	return nil
}

// ResolveConfigDigest finds the manifest that ref (usually a tag) names
// and accepts it only if that manifest's config digest is configDigest:
// the image a container runtime that knows only the image ID really runs.
// For a multi-platform index every image manifest (up to
// MaxIndexChildren, attestations skipped) is fetched and compared. It
// returns the matching manifest as Resolved (Platform and IndexDigest set
// when it came from an index); an error says why not: the registry is
// unreachable or denies the pull, or the tag moved since the runtime
// pulled it.
func ResolveConfigDigest(ctx context.Context, ref, configDigest string, opts Options) (Resolved, error) {
	if err := CheckDigest(configDigest); err != nil {
		return Resolved{}, err
	}
	m, err := getManifest(ctx, ref, opts)
	switch {
	case m == nil:
		return Resolved{}, fmt.Errorf("image reference %q: %w", ref, err)
	case err != nil:
		return Resolved{}, fmt.Errorf("%s: %w", m.ref, err)
	}
	r, desc, repo := m.ref, m.desc, m.ref.Context()
	if !desc.MediaType.IsIndex() {
		cfg, err := manifestConfig(desc.Manifest)
		if err != nil {
			return Resolved{}, fmt.Errorf("%s: %w", r, err)
		}
		if cfg != configDigest {
			return Resolved{}, fmt.Errorf("%s now has config %s, the runtime runs %s (tag moved or image built locally)", r, shortDigest(cfg), shortDigest(configDigest))
		}
		return Resolved{Reference: repo.Digest(desc.Digest.String()).String(), Digest: desc.Digest.String(), MediaType: string(desc.MediaType)}, nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: parsing index: %w", r, err)
	}
	checked := 0
	for _, c := range idx.Manifests {
		if !c.MediaType.IsImage() || (c.Platform != nil && c.Platform.OS == "unknown") {
			continue
		}
		if checked == MaxIndexChildren {
			break
		}
		checked++
		child, err := remote.Get(repo.Digest(c.Digest.String()), m.ropts...)
		if err != nil {
			return Resolved{}, fmt.Errorf("%s: platform manifest %s: %w", r, shortDigest(c.Digest.String()), err)
		}
		if cfg, err := manifestConfig(child.Manifest); err == nil && cfg == configDigest {
			res := Resolved{Reference: repo.Digest(c.Digest.String()).String(), Digest: c.Digest.String(),
				MediaType: string(c.MediaType), IndexDigest: desc.Digest.String()}
			if c.Platform != nil {
				res.Platform = FormatPlatform(*c.Platform)
			}
			return res, nil
		}
	}
	return Resolved{}, fmt.Errorf("%s: none of %d platform manifests has config %s (tag moved or image built locally)", r, checked, shortDigest(configDigest))
}

// manifestConfig returns the config digest of an image manifest.
func manifestConfig(manifest []byte) (string, error) {
	m, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return "", fmt.Errorf("parsing manifest: %w", err)
	}
	return m.Config.Digest.String(), nil
}

// shortDigest abbreviates a digest for messages.
func shortDigest(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return d
}

// clipDigest bounds what an error quotes of a hostile digest.
func clipDigest(d string) string {
	if len(d) > 80 {
		return d[:80] + "..."
	}
	return d
}
