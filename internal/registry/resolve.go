package registry

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Resolved is one manifest a reference points to.
type Resolved struct {
	// Reference is "repo@digest", pullable as is.
	Reference string `json:"reference"`
	// Digest is the image manifest digest.
	Digest string `json:"digest"`
	// MediaType is the manifest's media type.
	MediaType string `json:"media_type,omitempty"`
	// Platform is "os/arch[/variant]" from the index; empty when the
	// reference is a single manifest (reading its config would cost a pull).
	Platform string `json:"platform,omitempty"`
	// IndexDigest is the multi-platform index the manifest came from, if any.
	IndexDigest string `json:"index_digest,omitempty"`
}

// Resolve turns a tag (or digest) into the manifest digest(s) it names. For
// a multi-platform index it returns one Resolved per platform manifest,
// filtered by opts.Platforms when set; attestation manifests
// ("unknown/unknown") are skipped.
func Resolve(ctx context.Context, ref string, opts Options) ([]Resolved, error) {
	m, err := getManifest(ctx, ref, opts)
	switch {
	case m == nil:
		return nil, fmt.Errorf("resolve: %w", err)
	case err != nil:
		return nil, fmt.Errorf("resolve %s: %w", m.ref, err)
	}
	r, desc, repo := m.ref, m.desc, m.ref.Context()
	if !desc.MediaType.IsIndex() {
		return []Resolved{{
			Reference: repo.Digest(desc.Digest.String()).String(),
			Digest:    desc.Digest.String(),
			MediaType: string(desc.MediaType),
		}}, nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("resolve %s: parsing index: %w", r, err)
	}
	var want []v1.Platform
	for _, s := range opts.Platforms {
		p, err := ParsePlatform(s)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", r, err)
		}
		want = append(want, p)
	}
	var out []Resolved
	for _, m := range idx.Manifests {
		if m.Platform == nil || m.Platform.OS == "unknown" || m.MediaType.IsIndex() {
			continue
		}
		if len(want) > 0 && !matchesAny(*m.Platform, want) {
			continue
		}
		out = append(out, Resolved{
			Reference:   repo.Digest(m.Digest.String()).String(),
			Digest:      m.Digest.String(),
			MediaType:   string(m.MediaType),
			Platform:    FormatPlatform(*m.Platform),
			IndexDigest: desc.Digest.String(),
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("resolve %s: no manifest for platforms %v; index has %s", r, opts.Platforms, strings.Join(Platforms(idx), ", "))
	}
	return out, nil
}

// manifest is what a reference named: the descriptor with its bytes, and
// the remote options that fetched it (for fetching its children).
type manifest struct {
	ref   name.Reference
	desc  *remote.Descriptor
	ropts []remote.Option
}

// getManifest fetches the manifest or index ref names, with the credentials
// written into ref or opts. When ref does not parse it returns a nil
// manifest; on any other error the manifest holds the parsed reference
// only, for the caller's message.
func getManifest(ctx context.Context, ref string, opts Options) (*manifest, error) {
	ref, opts = opts.WithReferenceCredentials(ref)
	r, err := name.ParseReference(ref, opts.NameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("parsing reference: %w", err)
	}
	m := &manifest{ref: r}
	if m.ropts, err = opts.RemoteOptions(ctx, r.Context().Registry); err != nil {
		return m, err
	}
	if m.desc, err = remote.Get(r, m.ropts...); err != nil {
		return m, err
	}
	return m, nil
}

func matchesAny(p v1.Platform, want []v1.Platform) bool {
	for _, w := range want {
		if p.Satisfies(w) {
			return true
		}
	}
	return false
}

// DefaultPlatform is linux on the host's architecture: what a node like
// this one would run.
func DefaultPlatform() string { return "linux/" + runtime.GOARCH }

// ParsePlatform parses "os/arch[/variant]".
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("platform %q is not os/arch[/variant]", s)
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// FormatPlatform renders p as "os/arch[/variant]".
func FormatPlatform(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Platforms lists the platforms an index offers, for error messages.
func Platforms(idx *v1.IndexManifest) []string {
	var out []string
	for _, m := range idx.Manifests {
		if m.Platform != nil {
			out = append(out, FormatPlatform(*m.Platform))
		}
	}
	return out
}

// SelectPlatform picks the manifest in idx for platform ("" means
// DefaultPlatform). A platform without a variant matches any variant, so
// "linux/arm" finds "linux/arm/v7"; an exact variant match wins.
func SelectPlatform(idx *v1.IndexManifest, platform string) (v1.Descriptor, error) {
	if platform == "" {
		platform = DefaultPlatform()
	}
	want, err := ParsePlatform(platform)
	if err != nil {
		return v1.Descriptor{}, err
	}
	var best *v1.Descriptor
	for i, m := range idx.Manifests {
		if m.Platform == nil || !m.Platform.Satisfies(want) {
			continue
		}
		if best == nil || (want.Variant == "" && m.Platform.Variant == "") {
			best = &idx.Manifests[i]
		}
	}
	if best == nil {
		return v1.Descriptor{}, fmt.Errorf("no manifest for platform %s; index has %s", platform, strings.Join(Platforms(idx), ", "))
	}
	return *best, nil
}
