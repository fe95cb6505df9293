package registry

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenHost is matched by errors for requests refused because their
// destination is link-local, unspecified or a cloud metadata service.
var ErrForbiddenHost = errors.New("forbidden destination")

// ErrCredentialLeak is matched by errors for requests refused because they
// would carry this registry's credentials to another host.
var ErrCredentialLeak = errors.New("refusing to send registry credentials to another host")

// ErrTooLarge is matched by errors for responses over a size cap.
var ErrTooLarge = errors.New("response exceeds size cap")

// ConfineOptions configure Confine.
type ConfineOptions struct {
	// RealmHosts may receive credentials besides the registry host itself
	// (token services such as auth.docker.io), as "host" or "host:port".
	RealmHosts []string
	// MaxManifestBytes caps manifest responses; 0 means
	// DefaultMaxManifestBytes.
	MaxManifestBytes int64
}

// Confine wraps base for traffic to one registry (registryHost as in
// name.Registry.RegistryStr, e.g. "index.docker.io" or "127.0.0.1:5000").
// It sees every request ggcr makes, including the token exchange with the
// WWW-Authenticate realm and redirected blob fetches, so it is the one place
// that enforces where credentials and requests may go:
//   - requests to link-local, unspecified or cloud-metadata destinations are
//     refused outright;
//   - a request carrying an Authorization header to a host other than the
//     registry or an allowed realm host is refused (a token realm) or has the
//     header removed (a redirect, e.g. to a blob CDN);
//   - manifest responses are capped at MaxManifestBytes, on the declared
//     Content-Length and on the bytes actually read.
//
// Errors never contain header values.
func Confine(base http.RoundTripper, registryHost string, opts ConfineOptions) http.RoundTripper {
	c := &confined{base: base, registry: registryHost, allowed: map[string]bool{}, maxManifest: opts.MaxManifestBytes}
	if c.maxManifest <= 0 {
		c.maxManifest = DefaultMaxManifestBytes
	}
	for _, h := range opts.RealmHosts {
		c.allowed[strings.ToLower(h)] = true
	}
	return c
}

type confined struct {
	base        http.RoundTripper
	registry    string
	allowed     map[string]bool
	maxManifest int64
}

// manifestPath matches /v2/<name>/manifests/<reference>.
var manifestPath = regexp.MustCompile(`^/v2/.+/manifests/[^/]+$`)

// RoundTrip implements http.RoundTripper.
func (c *confined) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if why := forbiddenHost(host); why != "" {
		return nil, fmt.Errorf("%w: refusing request to %s (%s)", ErrForbiddenHost, req.URL.Host, why)
	}
	if req.Header.Get("Authorization") != "" && !c.mayReceiveCredentials(req.URL) {
		if req.Response == nil {
			// Not a redirect: ggcr is sending credentials to a token realm
			// the registry named. Only the registry itself or an allowed
			// realm host may receive them.
			return nil, fmt.Errorf("%w: registry %s named token realm host %s; if that token service is genuine, allow it with --allow-token-realm %s",
				ErrCredentialLeak, c.registry, req.URL.Host, req.URL.Host)
		}
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if req.Method == http.MethodGet && resp.StatusCode == http.StatusOK && manifestPath.MatchString(req.URL.Path) {
		if resp.ContentLength > c.maxManifest {
			drain(resp.Body)
			return nil, fmt.Errorf("%w: manifest %s declares %d bytes, cap is %d", ErrTooLarge, req.URL.Path, resp.ContentLength, c.maxManifest)
		}
		resp.Body = &cappedBody{rc: resp.Body, left: c.maxManifest, what: "manifest " + req.URL.Path, limit: c.maxManifest}
	}
	return resp, nil
}

func (c *confined) mayReceiveCredentials(u *url.URL) bool {
	got := canonicalHost(u.Host, u.Scheme)
	if got == canonicalHost(c.registry, u.Scheme) {
		return true
	}
	for h := range c.allowed {
		if canonicalHost(h, u.Scheme) == got {
			return true
		}
	}
	return false
}

// canonicalHost lower-cases host and adds the scheme's default port.
func canonicalHost(host, scheme string) string {
	host = strings.ToLower(host)
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "443"
	if scheme == "http" {
		port = "80"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// CheckRealmHost validates a token-realm host an operator allows
// (Options.AllowedRealmHosts): "host" or "host:port", and never a metadata,
// link-local or unspecified address, which Confine refuses anyway.
func CheckRealmHost(h string) error {
	if h == "" || strings.ContainsAny(h, "/@?# ") {
		return fmt.Errorf("token realm host %q: want host or host:port", h)
	}
	host := h
	if hh, port, err := net.SplitHostPort(h); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("token realm host %q: bad port", h)
		}
		host = hh
	}
	if why := forbiddenHost(host); why != "" {
		return fmt.Errorf("%w: token realm host %s is a %s", ErrForbiddenHost, h, why)
	}
	return nil
}

// metadataNames are DNS names of cloud instance-metadata services.
var metadataNames = map[string]bool{
	"metadata.google.internal":   true,
	"metadata.goog":              true,
	"metadata":                   true,
	"instance-data":              true,
	"instance-data.ec2.internal": true,
}

// metadataAddrs are metadata addresses that are not link-local.
var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
}

// forbiddenHost says why host must never be contacted, or "" if it may.
// Loopback and private addresses stay allowed: in-cluster and development
// registries live there.
func forbiddenHost(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if metadataNames[h] {
		return "cloud metadata service"
	}
	addr, ok := parseIP(h)
	if !ok {
		return ""
	}
	return forbiddenAddr(addr)
}

func forbiddenAddr(addr netip.Addr) string {
	addr = addr.WithZone("").Unmap()
	switch {
	case metadataAddrs[addr]:
		return "cloud metadata service"
	case addr.IsUnspecified() || (addr.Is4() && addr.As4()[0] == 0):
		return "unspecified address"
	case addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast():
		return "link-local address (cloud metadata range)"
	}
	return ""
}

// parseIP accepts the forms a resolver or dialer would treat as an IP
// literal, including legacy IPv4 ("2852039166", "0xa9.254.169.254",
// "169.254.43518") so decimal or hex spellings of 169.254.169.254 are caught.
func parseIP(h string) (netip.Addr, bool) {
	h, _, _ = strings.Cut(strings.Trim(h, "[]"), "%")
	if a, err := netip.ParseAddr(h); err == nil {
		return a, true
	}
	parts := strings.Split(h, ".")
	if len(parts) < 1 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		bits := 8
		if i == len(parts)-1 {
			bits = 8 * (5 - len(parts))
		}
		n, err := strconv.ParseUint(p, 0, bits)
		if err != nil {
			return netip.Addr{}, false
		}
		if i == len(parts)-1 {
			v = v<<bits | n
		} else {
			v = v<<8 | n
		}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// safeBaseTransport is ggcr's default transport with a dialer that checks
// the resolved address, closing the DNS route to metadata services.
func safeBaseTransport() *http.Transport {
	d := &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if a, ok := parseIP(host); ok {
				if why := forbiddenAddr(a); why != "" {
					return fmt.Errorf("%w: refusing to dial %s (%s)", ErrForbiddenHost, address, why)
				}
			}
			return nil
		},
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   50,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
	}
}

// cappedBody fails a read once more than limit bytes arrive.
type cappedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
	what  string
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, b.what, b.limit)
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
