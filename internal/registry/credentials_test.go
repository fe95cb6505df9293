package registry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/testing/testimage"
)

func TestStripCredentials(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in, clean, user, pass string
	}{
		{"host:5000/repo:tag", "host:5000/repo:tag", "", ""},
		{"nginx@" + digest, "nginx@" + digest, "", ""},
		{"host/repo@" + digest, "host/repo@" + digest, "", ""},
		{"u:tok3n@host:5000/repo:tag", "host:5000/repo:tag", "u", "tok3n"},
		{"u:tok3n@host/repo@" + digest, "host/repo@" + digest, "u", "tok3n"},
		{"u:p@ss/w0rd@host:5000", "host:5000", "u", "p@ss/w0rd"},
		{"https://u:tok3n@registry.example.com/", "registry.example.com", "u", "tok3n"},
		{"HTTP://registry.example.com:5000/team", "registry.example.com:5000/team", "", ""},
		{"tok3n@host", "host", "tok3n", ""},
	} {
		clean, user, pass, found := registry.StripCredentials(tc.in)
		if clean != tc.clean || user != tc.user || pass != tc.pass || found != (tc.user != "") {
			t.Errorf("StripCredentials(%q) = %q, %q, %q, %v; want %q, %q, %q", tc.in, clean, user, pass, found, tc.clean, tc.user, tc.pass)
		}
	}
}

// Credentials in a reference are used and never echoed.
func TestReferenceCredentials(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: user, Password: pass})
	srv.Push(t, "app:v1", testimage.Image(t, "linux/amd64", map[string]string{"a": "b"}))
	o := opts(t)
	o.Username, o.Password = "", ""
	ctx := context.Background()

	got, err := registry.Resolve(ctx, user+":"+pass+"@"+srv.Ref("app:v1"), o)
	if err != nil {
		t.Fatalf("Resolve with credentials in the reference: %v", err)
	}
	if strings.Contains(got[0].Reference, pass) {
		t.Errorf("resolved reference carries the password: %s", got[0].Reference)
	}
	tags, err := registry.Tags(ctx, "https://"+user+":"+pass+"@"+srv.Ref("app"), o)
	if err != nil || len(tags) != 1 {
		t.Errorf("Tags with credentials in the URL: %v, %v", tags, err)
	}
	const wrong = "wr0ng-T0ken-4242"
	for _, ref := range []string{
		user + ":" + wrong + "@" + srv.Ref("app:v1"),
		user + ":" + wrong + "@" + srv.Ref("BAD:v1"),
		user + ":" + wrong + "@" + srv.Host + "/app:-bad-tag",
	} {
		_, err := registry.Resolve(ctx, ref, o)
		if err == nil || strings.Contains(err.Error(), wrong) {
			t.Errorf("Resolve(%s): err = %v; want an error without the token", ref, err)
		}
	}
	_, err = registry.Catalog(ctx, user+":"+wrong+"@bad host", o)
	if err == nil || strings.Contains(err.Error(), wrong) {
		t.Errorf("Catalog: err = %v; want an error without the token", err)
	}
}

func TestAllowedRealmHosts(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{Auth: registrytest.BearerAuth, Username: user, Password: pass})
	srv.Push(t, "app:v1", testimage.Image(t, "linux/amd64", map[string]string{"a": "b"}))
	tokens := httptest.NewServer(srv.TokenHandler())
	defer tokens.Close()
	host := "localhost:" + tokens.URL[strings.LastIndex(tokens.URL, ":")+1:]
	srv.SetRealm("http://" + host + "/token")
	ctx := context.Background()

	_, err := registry.Resolve(ctx, srv.Ref("app:v1"), opts(t))
	if !errors.Is(err, registry.ErrCredentialLeak) || !strings.Contains(err.Error(), "--allow-token-realm "+host) {
		t.Fatalf("err = %v; want a refusal that names the flag to allow it", err)
	}
	o := opts(t)
	o.AllowedRealmHosts = []string{host}
	if _, err := registry.Resolve(ctx, srv.Ref("app:v1"), o); err != nil {
		t.Fatalf("allowed token realm: %v", err)
	}

	// Metadata and link-local destinations stay refused even when allowed.
	for _, h := range []string{"169.254.169.254", "metadata.google.internal", "[fe80::1]:80", "0.0.0.0"} {
		if err := registry.CheckRealmHost(h); !errors.Is(err, registry.ErrForbiddenHost) {
			t.Errorf("CheckRealmHost(%s) = %v, want ErrForbiddenHost", h, err)
		}
		o := opts(t)
		o.AllowedRealmHosts = []string{h}
		reg, _ := name.NewRegistry(srv.Host, name.Insecure)
		req, _ := http.NewRequest(http.MethodGet, "http://"+h+"/token", nil)
		req.Header.Set("Authorization", "Basic c2Nhbm5lcg==")
		if _, err := o.RoundTripper(reg).RoundTrip(req); !errors.Is(err, registry.ErrForbiddenHost) {
			t.Errorf("allowed %s: err = %v, want ErrForbiddenHost", h, err)
		}
	}
	for _, h := range []string{"", "http://auth.example", "auth.example/token", "auth.example:99999", "u@auth.example"} {
		if err := registry.CheckRealmHost(h); err == nil {
			t.Errorf("CheckRealmHost(%q) accepted it", h)
		}
	}
	for _, h := range []string{"auth.example.com", "auth.example.com:8443", "127.0.0.1:5001"} {
		if err := registry.CheckRealmHost(h); err != nil {
			t.Errorf("CheckRealmHost(%q) = %v", h, err)
		}
	}
}
