package registry

import (
	"regexp"
	"strings"
)

// digestSuffix matches what follows the "@" of a digest reference
// ("sha256:<hex>"); the encoded part is long, so "host:5000" never matches.
var digestSuffix = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$`)

// StripCredentials removes an http:// or https:// scheme and any userinfo
// ("user:token@") from a reference, repository or registry name, so that
// "https://u:tok@host/repo:tag" becomes "host/repo:tag". It returns the
// credentials it found; found is false when ref carried none. The userinfo
// ends at the last "@" that does not start a digest, so a password holding
// "@" or "/" is removed whole. Only the clean form may be shown to a user.
func StripCredentials(ref string) (clean, username, password string, found bool) {
	clean = ref
	lower := strings.ToLower(clean)
	for _, scheme := range []string{"https://", "http://"} {
		if strings.HasPrefix(lower, scheme) {
			clean = strings.TrimSuffix(clean[len(scheme):], "/")
			break
		}
	}
	end := len(clean)
	for {
		at := strings.LastIndex(clean[:end], "@")
		if at < 0 {
			return clean, "", "", false
		}
		if !digestSuffix.MatchString(clean[at+1 : end]) {
			username, password, _ = strings.Cut(clean[:at], ":")
			return clean[at+1:], username, password, true
		}
		end = at
	}
}

// WithReferenceCredentials strips credentials embedded in ref (see
// StripCredentials) and returns the clean reference with options that use
// them, unless o already has explicit credentials, which win.
func (o Options) WithReferenceCredentials(ref string) (string, Options) {
	clean, user, pass, found := StripCredentials(ref)
	if found && o.Username == "" && o.Password == "" {
		o.Username, o.Password = user, pass
	}
	return clean, o
}
