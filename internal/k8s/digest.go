package k8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runlens/runlens/internal/registry"
)

// ImageID is a container runtime's status.containerStatuses[].imageID,
// parsed. Exactly one of Digest (with Repository) or ConfigID is set.
type ImageID struct {
	// Repository is where the digest can be pulled from, canonical
	// ("index.docker.io/library/nginx", "localhost:5000/app").
	Repository string
	// Digest is the manifest (or index) digest the runtime pulled.
	Digest string
	// ConfigID is set instead when the runtime only knows the image by its
	// config digest (an image imported with `ctr import` or built locally):
	// it must be matched against a registry before it can be scanned.
	ConfigID string
}

// ErrBadImageID is matched by ParseImageID errors.
var ErrBadImageID = errors.New("malformed imageID")

// imageIDSchemes are the prefixes runtimes put before the ID (dockershim,
// cri-dockerd).
var imageIDSchemes = []string{"docker-pullable://", "docker://"}

// maxImageIDLen bounds what we try to parse; real IDs are a few hundred bytes.
const maxImageIDLen = 4096

// ParseImageID normalises an imageID: "docker-pullable://" and "docker://"
// are stripped, "repo@sha256:…" gives Repository and Digest, a bare
// "sha256:…" (or 64 hex digits) gives ConfigID. Digests are validated
// (algorithm and hex length) before anything is built from them.
func ParseImageID(s string) (ImageID, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return ImageID{}, fmt.Errorf("%w: empty", ErrBadImageID)
	}
	if len(s) > maxImageIDLen {
		return ImageID{}, fmt.Errorf("%w: %d bytes", ErrBadImageID, len(s))
	}
	for _, p := range imageIDSchemes {
		if strings.HasPrefix(s, p) {
			s = s[len(p):]
			break
		}
	}
	if strings.Contains(s, "://") {
		return ImageID{}, fmt.Errorf("%w: unknown scheme in %q", ErrBadImageID, s)
	}
	if repo, dig, ok := strings.Cut(s, "@"); ok {
		if err := validDigest(dig); err != nil {
			return ImageID{}, err
		}
		r, err := name.NewRepository(repo)
		if err != nil {
			// Some runtimes keep the tag: "repo:tag@sha256:…".
			t, terr := name.NewTag(repo)
			if terr != nil {
				return ImageID{}, fmt.Errorf("%w: repository %q: %v", ErrBadImageID, repo, err)
			}
			r = t.Context()
		}
		return ImageID{Repository: r.Name(), Digest: dig}, nil
	}
	if len(s) == 64 && isHex(s) {
		s = "sha256:" + s
	}
	if err := validDigest(s); err != nil {
		return ImageID{}, err
	}
	return ImageID{ConfigID: s}, nil
}

// validDigest accepts "sha256:<64 hex>" and "sha512:<128 hex>", lower case.
func validDigest(d string) error {
	alg, hex, ok := strings.Cut(d, ":")
	want := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if !ok || want == 0 || len(hex) != want || !isHex(hex) {
		return fmt.Errorf("%w: bad digest %q", ErrBadImageID, d)
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// maxIndexChildren bounds how many platform manifests of an index are
// fetched while looking for a config digest.
const maxIndexChildren = 16

// ResolveConfigID finds the manifest that image (the pod spec's reference,
// usually a tag) names in its registry and accepts it only if that
// manifest's config digest is configID — the image the runtime really runs.
// For a multi-platform index every platform manifest (up to a bound) is
// checked. It returns the repository and the matching manifest digest; an
// error says why not (unreachable registry, denied, tag moved since the pull).
func ResolveConfigID(ctx context.Context, image, configID string, opts registry.Options) (repo, digest string, err error) {
	if err := validDigest(configID); err != nil {
		return "", "", err
	}
	ref, err := name.ParseReference(image, opts.NameOptions()...)
	if err != nil {
		return "", "", fmt.Errorf("image reference %q: %w", image, err)
	}
	ropts, err := opts.RemoteOptions(ctx, ref.Context().Registry)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", ref, err)
	}
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", ref, err)
	}
	repo = ref.Context().Name()
	if !desc.MediaType.IsIndex() {
		cfg, err := configDigest(desc.Manifest)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", ref, err)
		}
		if cfg != configID {
			return "", "", fmt.Errorf("%s now has config %s, the runtime runs %s (tag moved or image built locally)", ref, short(cfg), short(configID))
		}
		return repo, desc.Digest.String(), nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return "", "", fmt.Errorf("%s: parsing index: %w", ref, err)
	}
	checked := 0
	for _, m := range idx.Manifests {
		if !m.MediaType.IsImage() || (m.Platform != nil && m.Platform.OS == "unknown") {
			continue
		}
		if checked == maxIndexChildren {
			break
		}
		checked++
		child, err := remote.Get(ref.Context().Digest(m.Digest.String()), ropts...)
		if err != nil {
			return "", "", fmt.Errorf("%s: platform manifest %s: %w", ref, short(m.Digest.String()), err)
		}
		if cfg, err := configDigest(child.Manifest); err == nil && cfg == configID {
			return repo, m.Digest.String(), nil
		}
	}
	return "", "", fmt.Errorf("%s: none of %d platform manifests has config %s (tag moved or image built locally)", ref, checked, short(configID))
}

func configDigest(manifest []byte) (string, error) {
	m, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return "", fmt.Errorf("parsing manifest: %w", err)
	}
	return m.Config.Digest.String(), nil
}

// short abbreviates a digest for messages.
func short(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return d
}
