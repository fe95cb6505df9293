package vulndb

import (
	"net/http"

	"github.com/runlens/runlens/internal/usage"
)

// MirrorOptions are the mirror credentials of `runlens db update`.
type MirrorOptions struct {
	// HeaderFile, if set, is a file of "Name: value" headers
	// (ReadHeaderFile): --header-file.
	HeaderFile string
	// Getenv reads the credentials of AuthFromEnv.
	Getenv func(string) string
	// Mirrors are the URLs whose origins receive the headers.
	Mirrors []string
}

// MirrorClient is the HTTP client of an update: base (bounded retries
// honouring Retry-After) with the headers of o.HeaderFile and the
// environment added only for the origins of o.Mirrors. Mistakes in the
// header file, the environment or the URLs are *usage.Error.
func MirrorClient(base http.RoundTripper, o MirrorOptions) (*http.Client, error) {
	header := http.Header{}
	if o.HeaderFile != "" {
		h, err := ReadHeaderFile(o.HeaderFile)
		if err != nil {
			return nil, usage.Errorf("%v", err)
		}
		header = h
	}
	env, err := AuthFromEnv(o.Getenv)
	if err != nil {
		return nil, usage.Errorf("%v", err)
	}
	for k, vs := range env {
		if header.Get(k) != "" {
			return nil, usage.Errorf("header %s is set both in --header-file and the environment", k)
		}
		header[k] = vs
	}
	rt, err := NewScopedHeaders(base, header, o.Mirrors...)
	if err != nil {
		return nil, usage.Errorf("%v", err)
	}
	return &http.Client{Transport: rt}, nil
}
