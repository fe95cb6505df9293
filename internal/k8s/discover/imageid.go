package discover

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

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
		if err := registry.CheckDigest(dig); err != nil {
			return ImageID{}, fmt.Errorf("%w: %w", ErrBadImageID, err)
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
	if err := registry.CheckDigest(s); err != nil {
		return ImageID{}, fmt.Errorf("%w: %w", ErrBadImageID, err)
	}
	return ImageID{ConfigID: s}, nil
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
