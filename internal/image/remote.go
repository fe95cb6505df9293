package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/runlens/runlens/internal/registry"
)

// RegistryOptions configure OpenRegistry. Credentials, transport, insecure
// HTTP and realm allow-lists come from the embedded registry.Options.
type RegistryOptions struct {
	registry.Options
	// Platform is "os/arch[/variant]" chosen from a multi-platform index;
	// "" means registry.DefaultPlatform() (linux on the host's arch).
	Platform string
	// MaxConfigBytes caps the image config; 0 means DefaultMaxConfigBytes.
	// The manifest cap is registry.Options.MaxManifestBytes.
	MaxConfigBytes int64
}

// acceptManifests are the manifest types runlens can read; schema 1 is
// deliberately absent.
var acceptManifests = strings.Join([]string{
	string(types.OCIManifestSchema1), string(types.OCIImageIndex),
	string(types.DockerManifestSchema2), string(types.DockerManifestList),
}, ",")

// OpenRegistry opens ref (a tag or a digest) from its registry. A
// multi-platform index resolves to opts.Platform's manifest and is recorded
// as Descriptor.IndexDigest. Opening reads only the manifest chain and the
// config; RootFS fetches layers by digest from the same repository (a
// foreign layer's URLs are never fetched), each capped at its descriptor
// size and digest-verified.
//
// The requests go through ggcr's token handshake over
// opts.RoundTripper (registry.Confine), but the manifest and blob reads
// themselves are done here, so every byte passes the caps and checks above.
//
// Credentials embedded in ref ("user:token@host/repo:tag") are used when
// opts has none and never appear in the image's names or in errors.
func OpenRegistry(ctx context.Context, ref string, opts RegistryOptions) (Image, error) {
	ref, opts.Options = opts.Options.WithReferenceCredentials(ref)
	r, err := name.ParseReference(ref, opts.NameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", truncate(ref), err)
	}
	repo := r.Context()
	auth, err := opts.Authenticator(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", r, err)
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, auth, opts.RoundTripper(repo.Registry),
		[]string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, fmt.Errorf("image %s: authenticating to %s: %w", r, repo.RegistryStr(), err)
	}
	lim := limits{manifest: opts.MaxManifestBytes, config: opts.MaxConfigBytes}.withDefaults()
	s := &remoteStore{client: &http.Client{Transport: rt}, repo: repo}
	top, raw, err := s.fetchManifest(ctx, r.Identifier(), lim.manifest)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", r, err)
	}
	if d, ok := r.(name.Digest); ok && top.Digest.String() != d.DigestStr() {
		return nil, fmt.Errorf("image %s: manifest %w: content hashes to %s", r, ErrDigestMismatch, top.Digest)
	}
	md, raw, indexDigest, err := descend(ctx, s, top, raw, opts.Platform, lim)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", r, err)
	}
	img, err := build(ctx, s, r.String(), md, raw, indexDigest, lim)
	if err != nil {
		return nil, err
	}
	img.desc.RepoDigests = []string{repo.Digest(md.Digest.String()).String()}
	if t, ok := r.(name.Tag); ok {
		img.desc.RepoTags = []string{t.String()}
	}
	return img, nil
}

// remoteStore reads one repository over an authenticated client.
type remoteStore struct {
	client *http.Client
	repo   name.Repository
}

func (s *remoteStore) url(kind, id string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", s.repo.Scheme(), s.repo.RegistryStr(), s.repo.RepositoryStr(), kind, id)
}

func (s *remoteStore) get(ctx context.Context, u, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// fetchManifest gets a manifest by tag or digest (id must already be a
// valid tag or a parsed digest) and describes what arrived.
func (s *remoteStore) fetchManifest(ctx context.Context, id string, max int64) (v1.Descriptor, []byte, error) {
	resp, err := s.get(ctx, s.url("manifests", id), acceptManifests)
	if err != nil {
		return v1.Descriptor{}, nil, fmt.Errorf("fetching manifest %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > max {
		return v1.Descriptor{}, nil, fmt.Errorf("manifest %s: %w: %d bytes declared, cap is %d", id, ErrTooLarge, resp.ContentLength, max)
	}
	b, err := readLimited(resp.Body, max, "manifest "+id)
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	sum := sha256.Sum256(b)
	mt := types.MediaType(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0]))
	return v1.Descriptor{
		MediaType: mt,
		Size:      int64(len(b)),
		Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])},
	}, b, nil
}

func (s *remoteStore) readManifest(ctx context.Context, d v1.Descriptor, max int64) ([]byte, error) {
	what := fmt.Sprintf("manifest %s@%s", s.repo, d.Digest)
	if d.Size < 0 || d.Size > max {
		return nil, fmt.Errorf("%s: %w: descriptor declares %d bytes, cap is %d", what, ErrTooLarge, d.Size, max)
	}
	resp, err := s.get(ctx, s.url("manifests", d.Digest.String()), acceptManifests)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return readAllVerified(resp.Body, d, max, what)
}

func (s *remoteStore) openBlob(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	resp, err := s.get(ctx, s.url("blobs", d.Digest.String()), "")
	if err != nil {
		return nil, fmt.Errorf("fetching blob: %w", err)
	}
	if resp.ContentLength > d.Size {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: server declares %d bytes, descriptor %d", ErrTooLarge, resp.ContentLength, d.Size)
	}
	return resp.Body, nil
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
