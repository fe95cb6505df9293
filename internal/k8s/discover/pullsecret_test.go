package discover

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func dockerConfigJSONSecret(name string, auths ...string) *corev1.Secret {
	m := map[string]map[string]string{}
	for i := 0; i+2 < len(auths); i += 3 {
		m[auths[i]] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(auths[i+1] + ":" + auths[i+2]))}
	}
	b, _ := json.Marshal(map[string]any{"auths": m})
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: b},
	}
}

func secrets(t *testing.T, s ...*corev1.Secret) []*corev1.Secret { t.Helper(); return s }

type resource struct{ reg, full string }

func (r resource) String() string      { return r.full }
func (r resource) RegistryStr() string { return r.reg }

func registryResource(host string) authn.Resource { return resource{host, host} }

// who returns the username the keychain hands out for ref, "" for anonymous.
func who(t *testing.T, kc authn.Keychain, res authn.Resource) string {
	t.Helper()
	a, err := kc.Resolve(res)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", res, err)
	}
	if a == authn.Anonymous {
		return ""
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Username
}

func TestKeychainHostConfinement(t *testing.T) {
	dockercfg, _ := json.Marshal(map[string]any{"legacy.example.com": map[string]string{"username": "legacy", "password": "p"}})
	kc, issues := KeychainFromSecrets(secrets(t,
		dockerConfigJSONSecret("a",
			"localhost:5000", "local", "p",
			"https://index.docker.io/v1/", "hub", "p",
			"*.corp.example.com", "wild", "p",
			"registry.example.com/team-a", "team-a", "p",
			"registry.example.com", "registry", "p",
		),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}, Type: corev1.SecretTypeDockercfg,
			Data: map[string][]byte{corev1.DockerConfigKey: dockercfg}},
		// Other secret types are not pull secrets.
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"evil.example.com":{"auth":"eDp5"}}}`)}},
	))
	if issues != nil {
		t.Fatal(issues)
	}
	repo := func(s string) authn.Resource {
		r, err := name.NewRepository(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		res  authn.Resource
		want string
	}{
		{repo("localhost:5000/app"), "local"},
		{registryResource("localhost:5000"), "local"},
		{repo("localhost:5001/app"), ""}, // another port is another registry
		{repo("localhost/app"), ""},
		{repo("127.0.0.1:5000/app"), ""}, // same socket, other name: no
		{repo("nginx"), "hub"},
		{repo("docker.io/library/nginx"), "hub"},
		{repo("a.corp.example.com/x"), "wild"},
		{repo("corp.example.com/x"), ""},
		{repo("a.b.corp.example.com/x"), ""},
		{repo("a.corp.example.com:8443/x"), ""},
		{repo("registry.example.com/team-a/app"), "team-a"},
		{repo("registry.example.com/team-ab/app"), "registry"},
		{repo("registry.example.com/other"), "registry"},
		{repo("legacy.example.com/x"), "legacy"},
		{repo("evil.example.com/x"), ""},
		{repo("registry.example.com.evil.io/x"), ""},
		{repo("example.com/x"), ""},
	}
	for _, tt := range tests {
		if got := who(t, kc, tt.res); got != tt.want {
			t.Errorf("%s: user %q, want %q", tt.res, got, tt.want)
		}
	}
}

func TestKeychainMalformed(t *testing.T) {
	bad := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "ns"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths": {"x": "hunter2-SECRET`)}}
	wildcardAll := dockerConfigJSONSecret("star", "*", "u", "hunter2-SECRET", "*.com", "u", "p", "ok.example.com", "ok", "hunter2-SECRET")
	kc, issues := KeychainFromSecrets(secrets(t, bad, wildcardAll))
	want := []SecretIssue{
		{"ns", "bad", "malformed kubernetes.io/dockerconfigjson"},
		{"ns", "star", `unusable registry key "*"`},
		{"ns", "star", `unusable registry key "*.com"`},
	}
	if diff := cmp.Diff(want, issues); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
	if strings.Contains(fmt.Sprint(issues), "hunter2") {
		t.Errorf("issues carry secret content: %v", issues)
	}
	if got := who(t, kc, registryResource("ok.example.com")); got != "ok" {
		t.Errorf("the good entry of a partly bad secret was dropped: %q", got)
	}
	if got := who(t, kc, registryResource("anything.com")); got != "" {
		t.Errorf("a wildcard-everything key answered: %q", got)
	}
}

func TestParseCredKey(t *testing.T) {
	tests := []struct {
		in   string
		want credEntry
		ok   bool
	}{
		{"localhost:5000", credEntry{host: "localhost:5000"}, true},
		{"HTTPS://Registry.Example.com/", credEntry{host: "registry.example.com"}, true},
		{"https://index.docker.io/v1/", credEntry{host: "index.docker.io"}, true},
		{"docker.io/library", credEntry{host: "index.docker.io", path: "library/"}, true},
		{"*.example.com", credEntry{host: "*.example.com", wildcard: true}, true},
		{"a.*.example.com", credEntry{}, false},
		{"", credEntry{}, false},
		{"user@host", credEntry{}, false},
	}
	for _, tt := range tests {
		got, ok := parseCredKey(tt.in)
		if ok != tt.ok {
			t.Errorf("parseCredKey(%q) ok = %v", tt.in, ok)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(credEntry{})); ok && diff != "" {
			t.Errorf("parseCredKey(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
