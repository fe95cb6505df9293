package registry

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/usage"
)

// maxPasswordBytes caps a password or token read from Access.Password.
const maxPasswordBytes = 64 << 10

// Access is the registry access a command line asks for, before it is
// turned into Options: its checks return *usage.Error naming runlens's
// flags (--insecure, --idle-timeout, --allow-token-realm, --username,
// --password-stdin).
type Access struct {
	// Insecure allows plain HTTP.
	Insecure bool
	// IdleTimeout fails a request that sends nothing for this long; 0
	// never does, a negative value is bad usage.
	IdleTimeout time.Duration
	// AllowedRealmHosts are token-realm hosts that may receive
	// credentials (Options.AllowedRealmHosts).
	AllowedRealmHosts []string
	// Username is the explicit registry user; it needs Password.
	Username string
	// Password, when set, is read (to EOF, trailing newlines dropped) for
	// the password or token of Username: --password-stdin.
	Password io.Reader
}

// Check validates the idle timeout and the token realms.
func (a Access) Check() error {
	if a.IdleTimeout < 0 {
		return usage.Errorf("--idle-timeout: %s is negative", a.IdleTimeout)
	}
	for _, h := range a.AllowedRealmHosts {
		if err := CheckRealmHost(h); err != nil {
			return usage.Errorf("--allow-token-realm: %s", err)
		}
	}
	return nil
}

// Shared returns the options every registry request of a run shares, no
// credentials: plain HTTP if allowed, the extra token realms, and one
// transport (bounded retries, the idle timeout) for all requests.
func (a Access) Shared() (Options, error) {
	if err := a.Check(); err != nil {
		return Options{}, err
	}
	idle := a.IdleTimeout
	if idle == 0 {
		idle = -1 // RetryOptions: negative turns it off
	}
	return Options{
		Insecure:          a.Insecure,
		AllowedRealmHosts: a.AllowedRealmHosts,
		Transport:         NewTransport(nil, RetryOptions{IdleTimeout: idle}),
	}, nil
}

// Options returns Shared with the explicit credentials, reading the
// password when asked. The password is never logged.
func (a Access) Options() (Options, error) {
	o, err := a.Shared()
	if err != nil {
		return o, err
	}
	o.Username = a.Username
	switch {
	case a.Password != nil && a.Username == "":
		return o, usage.Errorf("--password-stdin needs --username")
	case a.Password != nil:
		b, err := io.ReadAll(io.LimitReader(a.Password, maxPasswordBytes))
		if err != nil {
			return o, fmt.Errorf("reading password from stdin: %w", err)
		}
		o.Password = strings.TrimRight(string(b), "\r\n")
	case a.Username != "":
		return o, usage.Errorf("--username needs --password-stdin (passwords are not taken as flags)")
	}
	return o, nil
}

// ParsePlatforms reads a comma-separated platform list: "all" is every
// platform (nil), "" the default one.
func ParsePlatforms(s string) []string {
	switch s {
	case "all":
		return nil
	case "":
		return []string{DefaultPlatform()}
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
