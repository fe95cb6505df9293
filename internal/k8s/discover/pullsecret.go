package discover

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/runlens/runlens/internal/k8s"
)

// SecretIssue is an image pull secret that could not be used, and why:
// "forbidden", "not found", "malformed kubernetes.io/dockerconfigjson",
// `unusable registry key "*"`, or a short API error. It never carries the
// secret's content.
type SecretIssue struct {
	Namespace, Name, Reason string
}

// String renders the issue as "namespace/name (reason)".
func (s SecretIssue) String() string { return s.Namespace + "/" + s.Name + " (" + s.Reason + ")" }

// PullKeychain reads the named image pull secrets of namespace (the pod's
// imagePullSecrets plus its service account's) and returns a keychain that
// answers only for the registry hosts those secrets name, so credentials
// never reach another registry. Secrets the client may not read (the
// read-only scanner role grants none), missing or malformed ones are
// skipped and returned as issues; the keychain is usable even then (for
// anything else it answers Anonymous, letting a MultiKeychain fall through
// to the default keychain).
func PullKeychain(ctx context.Context, api k8s.API, namespace string, secretNames []string) (authn.Keychain, []SecretIssue) {
	var secrets []*corev1.Secret
	var issues []SecretIssue
	seen := map[string]bool{}
	for _, n := range secretNames {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		s, err := api.GetSecret(ctx, namespace, n)
		switch {
		case err == nil:
			secrets = append(secrets, s)
		case apierrors.IsNotFound(err):
			issues = append(issues, SecretIssue{namespace, n, "not found"})
		default:
			issues = append(issues, SecretIssue{namespace, n, k8s.Describe(err)})
		}
	}
	kc, bad := KeychainFromSecrets(secrets)
	return kc, append(issues, bad...)
}

// KeychainFromSecrets builds the host-confined keychain from
// kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg secrets (other
// types are ignored). Malformed secrets and unusable registry keys are
// skipped and returned as issues; the keychain holds the rest.
func KeychainFromSecrets(secrets []*corev1.Secret) (authn.Keychain, []SecretIssue) {
	kc := &pullKeychain{}
	var issues []SecretIssue
	for _, s := range secrets {
		var auths map[string]authn.AuthConfig
		var err error
		switch s.Type {
		case corev1.SecretTypeDockerConfigJson:
			var cfg struct {
				Auths map[string]authn.AuthConfig `json:"auths"`
			}
			err = json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg)
			auths = cfg.Auths
		case corev1.SecretTypeDockercfg:
			err = json.Unmarshal(s.Data[corev1.DockerConfigKey], &auths)
		default:
			continue
		}
		if err != nil {
			// json errors can quote input; name the secret only.
			issues = append(issues, SecretIssue{s.Namespace, s.Name, "malformed " + string(s.Type)})
			continue
		}
		keys := make([]string, 0, len(auths))
		for key := range auths {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			e, ok := parseCredKey(key)
			if !ok {
				issues = append(issues, SecretIssue{s.Namespace, s.Name, fmt.Sprintf("unusable registry key %q", key)})
				continue
			}
			e.cfg = auths[key]
			kc.entries = append(kc.entries, e)
		}
	}
	// Most specific first: exact hosts before wildcards, longer paths first;
	// ties keep the secret order (the pod's before the service account's).
	sort.SliceStable(kc.entries, func(i, j int) bool {
		a, b := kc.entries[i], kc.entries[j]
		if a.wildcard != b.wildcard {
			return !a.wildcard
		}
		return len(a.path) > len(b.path)
	})
	return kc, issues
}

// credEntry is one registry key of a docker config, parsed.
type credEntry struct {
	// host is lower case with its port, Docker Hub aliases folded to
	// "index.docker.io"; with wildcard, a "*."-prefixed pattern.
	host     string
	wildcard bool
	// path is an optional repository prefix ("team/").
	path string
	cfg  authn.AuthConfig
}

// pullKeychain answers with the credentials of the most specific entry whose
// host is exactly the resource's registry host.
type pullKeychain struct {
	entries []credEntry
}

// Resolve implements authn.Keychain.
func (k *pullKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	host := foldHost(strings.ToLower(res.RegistryStr()))
	repo := ""
	if s := res.String(); len(s) > len(res.RegistryStr()) && strings.HasPrefix(s, res.RegistryStr()+"/") {
		repo = s[len(res.RegistryStr())+1:] + "/"
	}
	for _, e := range k.entries {
		if !hostMatches(e, host) {
			continue
		}
		// A path-scoped entry needs the repository to know; asked about the
		// registry alone (a token exchange for the whole host) it still
		// answers, since the credentials stay on their own host.
		if e.path != "" && repo != "" && !strings.HasPrefix(repo, e.path) {
			continue
		}
		return authn.FromConfig(e.cfg), nil
	}
	return authn.Anonymous, nil
}

// parseCredKey turns a docker config key ("https://index.docker.io/v1/",
// "localhost:5000", "*.example.com/team") into an entry.
func parseCredKey(key string) (credEntry, bool) {
	k := strings.ToLower(strings.TrimSpace(key))
	k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
	host, path, _ := strings.Cut(k, "/")
	if host == "" || strings.ContainsAny(host, " @?#") {
		return credEntry{}, false
	}
	e := credEntry{host: foldHost(host)}
	if strings.HasPrefix(host, "*.") {
		if strings.Contains(host[2:], "*") || !strings.Contains(host[2:], ".") {
			return credEntry{}, false
		}
		e.wildcard = true
	} else if strings.Contains(host, "*") {
		return credEntry{}, false
	}
	path = strings.Trim(path, "/")
	// Docker Hub's legacy key carries an API version, not a repository.
	if e.host == "index.docker.io" && (path == "v1" || path == "v2") {
		path = ""
	}
	if path != "" {
		e.path = path + "/"
	}
	return e, true
}

// foldHost maps Docker Hub's names to the one ggcr uses.
func foldHost(h string) string {
	switch h {
	case "docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "index.docker.io"
	}
	return h
}

// hostMatches compares hosts exactly, ports included; "*.example.com"
// matches one label ("a.example.com", not "example.com" or "a.b.example.com").
func hostMatches(e credEntry, host string) bool {
	if !e.wildcard {
		return e.host == host
	}
	suffix := e.host[1:] // ".example.com[:port]"
	if !strings.HasSuffix(host, suffix) {
		return false
	}
	label := host[:len(host)-len(suffix)]
	return label != "" && !strings.ContainsAny(label, ".:")
}
