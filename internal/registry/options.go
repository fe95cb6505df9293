// Package registry talks to container registries as a whole: listing
// repositories and tags, resolving tags to digests, and the HTTP transport
// every registry request in runlens goes through (bounded retries,
// credential confinement, response caps).
package registry

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DefaultMaxManifestBytes caps one manifest or index response. Real
// manifests are a few KiB; the cap keeps a hostile registry from making us
// buffer and decode arbitrarily large JSON.
const DefaultMaxManifestBytes = 4 << 20

// Options configure how runlens talks to one registry. The zero value pulls
// anonymously (or with ~/.docker/config.json credentials) over HTTPS.
type Options struct {
	// Username and Password are explicit basic credentials; when set they win
	// over every keychain. They are never logged or put in errors.
	Username string
	Password string
	// Keychain is consulted after explicit credentials and before
	// authn.DefaultKeychain; Kubernetes pull secrets (k8schain) plug in here.
	Keychain authn.Keychain
	// Insecure allows plain HTTP (and is required for non-localhost HTTP
	// registries).
	Insecure bool
	// Transport is the shared base transport, normally from NewTransport so
	// that retries are bounded; nil means NewTransport(nil, RetryOptions{}).
	// Every request is additionally wrapped by Confine for its registry.
	Transport http.RoundTripper
	// RealmHosts lists extra token-realm hosts that may receive credentials,
	// keyed by registry host (e.g. "registry.gitlab.com": {"gitlab.com"}).
	// Defaults (docker.io -> auth.docker.io) are always included.
	RealmHosts map[string][]string
	// AllowedRealmHosts are token-realm hosts ("host" or "host:port") that
	// may receive the credentials of any registry (--allow-token-realm).
	// Metadata, link-local and unspecified addresses are refused whatever
	// this says.
	AllowedRealmHosts []string
	// MaxManifestBytes caps each manifest response; 0 means
	// DefaultMaxManifestBytes.
	MaxManifestBytes int64
	// PageSize is the page size for Catalog and Tags; 0 means 1000.
	PageSize int
	// MaxRepositories caps the names a catalog listing keeps; 0 means
	// DefaultMaxRepositories.
	MaxRepositories int
	// MaxTags caps the tags one repository listing keeps; 0 means
	// DefaultMaxTags.
	MaxTags int
	// MaxListPageBytes caps one catalog or tags page; 0 means
	// DefaultMaxListPageBytes.
	MaxListPageBytes int64
	// Platforms filters Resolve to these "os/arch[/variant]" platforms; empty
	// means every platform the index lists (attestations excluded).
	Platforms []string
}

// defaultRealmHosts are token services known to belong to their registry.
var defaultRealmHosts = map[string][]string{
	"index.docker.io":      {"auth.docker.io"},
	"docker.io":            {"auth.docker.io"},
	"registry-1.docker.io": {"auth.docker.io"},
}

// NameOptions returns the name-parsing options these Options imply.
func (o Options) NameOptions() []name.Option {
	if o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Authenticator resolves the credentials for res: explicit basic auth, then
// o.Keychain, then authn.DefaultKeychain; anonymous if none match.
func (o Options) Authenticator(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	if o.Username != "" || o.Password != "" {
		return &authn.Basic{Username: o.Username, Password: o.Password}, nil
	}
	var kc authn.Keychain = authn.DefaultKeychain
	if o.Keychain != nil {
		kc = authn.NewMultiKeychain(o.Keychain, authn.DefaultKeychain)
	}
	a, err := authn.Resolve(ctx, kc, res)
	if err != nil {
		// Keychain errors can quote helper output; keep only the registry.
		return nil, fmt.Errorf("resolving credentials for %s: keychain failed", res.RegistryStr())
	}
	return a, nil
}

// RoundTripper returns the transport for requests to reg: the shared base
// (or a fresh NewTransport) wrapped by Confine for that registry.
func (o Options) RoundTripper(reg name.Registry) http.RoundTripper {
	base := o.Transport
	if base == nil {
		base = NewTransport(nil, RetryOptions{})
	}
	host := reg.RegistryStr()
	realms := append([]string(nil), defaultRealmHosts[host]...)
	realms = append(realms, o.RealmHosts[host]...)
	if host != reg.Name() {
		realms = append(realms, o.RealmHosts[reg.Name()]...)
	}
	realms = append(realms, o.AllowedRealmHosts...)
	return Confine(base, host, ConfineOptions{
		RealmHosts:       realms,
		MaxManifestBytes: o.MaxManifestBytes,
	})
}

// RemoteOptions returns go-containerregistry remote options for reg: the
// confined transport, the resolved credentials, and ggcr's own retries
// switched off (NewTransport owns retrying, so attempts stay bounded).
func (o Options) RemoteOptions(ctx context.Context, reg name.Registry) ([]remote.Option, error) {
	auth, err := o.Authenticator(ctx, reg)
	if err != nil {
		return nil, err
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(auth),
		remote.WithTransport(o.RoundTripper(reg)),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithRetryStatusCodes(),
	}, nil
}

func (o Options) pageSize() int {
	if o.PageSize > 0 {
		return o.PageSize
	}
	return 1000
}
