package vulndb

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Environment variables that carry mirror credentials for HTTP sources.
const (
	EnvToken    = "RUNLENS_DB_TOKEN"    // sent as "Authorization: Bearer <token>"
	EnvUsername = "RUNLENS_DB_USERNAME" // with EnvPassword: HTTP basic auth
	EnvPassword = "RUNLENS_DB_PASSWORD"
)

// maxHeaderFileBytes bounds a --header-file.
const maxHeaderFileBytes = 64 << 10

// ReadHeaderFile reads HTTP headers for mirror requests from a file of
// "Name: value" lines; blank lines and lines starting with # are skipped.
// Errors name the line number only, never its content, since values are
// secrets.
func ReadHeaderFile(path string) (http.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("header file: %w", err)
	}
	defer f.Close()
	return parseHeaders(io.LimitReader(f, maxHeaderFileBytes+1), path)
}

func parseHeaders(r io.Reader, name string) (http.Header, error) {
	h := http.Header{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxHeaderFileBytes+1)
	total := 0
	for n := 1; sc.Scan(); n++ {
		total += len(sc.Bytes()) + 1
		if total > maxHeaderFileBytes {
			return nil, fmt.Errorf("header file %s: larger than %d bytes", name, maxHeaderFileBytes)
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !validHeaderName(k) || v == "" || strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("header file %s: line %d is not `Name: value`", name, n)
		}
		h.Add(k, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("header file %s: %w", name, err)
	}
	return h, nil
}

// validHeaderName accepts RFC 9110 token characters only.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c > 0x7e || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// AuthFromEnv builds the Authorization header from EnvToken (bearer) or
// EnvUsername and EnvPassword (basic). getenv is os.Getenv in production.
// No variable set means no header and no error; both kinds set, or a user
// without a password, is an error.
func AuthFromEnv(getenv func(string) string) (http.Header, error) {
	token, user, pass := getenv(EnvToken), getenv(EnvUsername), getenv(EnvPassword)
	switch {
	case token != "" && (user != "" || pass != ""):
		return nil, fmt.Errorf("set either %s or %s/%s, not both", EnvToken, EnvUsername, EnvPassword)
	case token != "":
		return http.Header{"Authorization": {"Bearer " + token}}, nil
	case user != "" && pass != "":
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}, nil
	case user != "" || pass != "":
		return nil, fmt.Errorf("%s and %s must be set together", EnvUsername, EnvPassword)
	}
	return nil, nil
}

// ScopedHeaders is an http.RoundTripper that adds Header to requests for
// the given origins only (scheme://host[:port]), so mirror credentials never
// reach another host: not the public EPSS or KEV feed, not a redirect
// target, not the same host over plain http when the mirror is https.
// Importer.Header, by contrast, goes with every request of an import.
type ScopedHeaders struct {
	Base    http.RoundTripper // default http.DefaultTransport
	Header  http.Header
	origins map[string]bool
}

// NewScopedHeaders returns a ScopedHeaders for the origins of the given
// URLs; URLs that do not parse, or have no host, are errors (reported
// without the URL's userinfo).
func NewScopedHeaders(base http.RoundTripper, header http.Header, urls ...string) (*ScopedHeaders, error) {
	t := &ScopedHeaders{Base: base, Header: header, origins: map[string]bool{}}
	for _, s := range urls {
		o, err := origin(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", redact(s), err)
		}
		t.origins[o] = true
	}
	return t, nil
}

func origin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("not a URL")
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errors.New("not an http(s) URL")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + host + ":" + port, nil
}

// RoundTrip implements http.RoundTripper.
func (t *ScopedHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if len(t.Header) == 0 {
		return base.RoundTrip(req)
	}
	if o, err := origin(req.URL.String()); err != nil || !t.origins[o] {
		return base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	for k, vs := range t.Header {
		r.Header.Del(k)
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return base.RoundTrip(r)
}
