package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/testing/testimage"
)

const (
	user = "scanner"
	pass = "s3cret-Pa55word"
)

func opts(t *testing.T) registry.Options {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no host credentials leak into tests
	return registry.Options{
		Username:  user,
		Password:  pass,
		Transport: registry.NewTransport(nil, registry.RetryOptions{BaseDelay: time.Millisecond}),
	}
}

func TestBasicAuth(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: user, Password: pass})
	img, _ := random.Image(512, 1)
	dig := srv.Push(t, "app:v1", img)
	ctx := context.Background()

	o := opts(t)
	got, err := registry.Resolve(ctx, srv.Ref("app:v1"), o)
	if err != nil {
		t.Fatalf("Resolve with the right password: %v", err)
	}
	want := []registry.Resolved{{
		Reference: srv.Ref("app@" + dig.String()),
		Digest:    dig.String(),
		MediaType: "application/vnd.docker.distribution.manifest.v2+json",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}

	o.Password = "wrong-Pa55word-xyz"
	_, err = registry.Resolve(ctx, srv.Ref("app:v1"), o)
	if err == nil {
		t.Fatal("Resolve with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), o.Password) || strings.Contains(err.Error(), pass) {
		t.Errorf("error text carries the password: %v", err)
	}
	if !strings.Contains(err.Error(), "UNAUTHORIZED") && !strings.Contains(err.Error(), "401") {
		t.Errorf("error does not say unauthorized: %v", err)
	}
}

func TestBearerTokenFlow(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{Auth: registrytest.BearerAuth, Username: user, Password: pass})
	dig := srv.Push(t, "app:v1", testimage.Image(t, "linux/amd64", map[string]string{"a": "b"}))
	got, err := registry.Resolve(context.Background(), srv.Ref("app:v1"), opts(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Digest != dig.String() {
		t.Errorf("Resolve = %+v, want digest %s", got, dig)
	}
	if !slices.ContainsFunc(srv.Requests(), func(r string) bool { return strings.HasPrefix(r, "GET /token?") }) {
		t.Errorf("no token request seen: %v", srv.Requests())
	}
}

// A registry naming a token realm on another host must not receive the
// credentials there; an operator can allow a genuine separate token host.
func TestHostileRealm(t *testing.T) {
	ctx := context.Background()
	srv := registrytest.New(t, registrytest.Config{Auth: registrytest.BearerAuth, Username: user, Password: pass})
	srv.Push(t, "app:v1", testimage.Image(t, "linux/amd64", map[string]string{"a": "b"}))

	t.Run("refused", func(t *testing.T) {
		attacker := registrytest.NewRecorder(t)
		srv.SetRealm("http://" + attacker.Host + "/token")
		_, err := registry.Resolve(ctx, srv.Ref("app:v1"), opts(t))
		if !errors.Is(err, registry.ErrCredentialLeak) {
			t.Fatalf("err = %v, want ErrCredentialLeak", err)
		}
		if strings.Contains(err.Error(), pass) {
			t.Errorf("error carries the password: %v", err)
		}
		n, auths := attacker.Got()
		if len(auths) != 0 || n != 0 {
			t.Errorf("attacker received %d requests, %d with credentials", n, len(auths))
		}
	})
	t.Run("metadata realm refused", func(t *testing.T) {
		for _, realm := range []string{
			"http://metadata.google.internal/computeMetadata/v1/token",
			"http://169.254.169.254/latest/meta-data/",
			"http://0.0.0.0:80/token",
			"http://[fd00:ec2::254]/token",
		} {
			srv.SetRealm(realm)
			start := time.Now()
			_, err := registry.Resolve(ctx, srv.Ref("app:v1"), opts(t))
			if err == nil {
				t.Errorf("realm %s: Resolve succeeded", realm)
			}
			// ggcr refuses link-local IP literals itself; names only reach
			// Confine.
			if strings.Contains(realm, "metadata.google") && !errors.Is(err, registry.ErrForbiddenHost) {
				t.Errorf("realm %s: err = %v, want ErrForbiddenHost", realm, err)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("realm %s: refusal took %v (was something dialled?)", realm, time.Since(start))
			}
		}
	})
	t.Run("allowed separate token host", func(t *testing.T) {
		tokens := httptest.NewServer(srv.TokenHandler())
		defer tokens.Close()
		host := "localhost:" + tokens.URL[strings.LastIndex(tokens.URL, ":")+1:]
		srv.SetRealm("http://" + host + "/token")
		o := opts(t)
		o.RealmHosts = map[string][]string{srv.Host: {host}}
		if _, err := registry.Resolve(ctx, srv.Ref("app:v1"), o); err != nil {
			t.Fatalf("allowed realm host: %v", err)
		}
	})
}

func TestConfineUnit(t *testing.T) {
	var got []string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
	}))
	defer sink.Close()
	sinkHost := "localhost:" + sink.URL[strings.LastIndex(sink.URL, ":")+1:]
	rt := registry.Confine(http.DefaultTransport, "registry.example:5000", registry.ConfineOptions{RealmHosts: []string{"auth.example"}})

	// A redirect (Response set) to another host loses the header.
	req, _ := http.NewRequest(http.MethodGet, "http://"+sinkHost+"/blob", nil)
	req.Header.Set("Authorization", "Basic c2Nhbm5lcjpzM2NyZXQ=")
	req.Response = &http.Response{StatusCode: http.StatusTemporaryRedirect}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if diff := cmp.Diff([]string{""}, got); diff != "" {
		t.Errorf("redirect target saw Authorization (-want +got):\n%s", diff)
	}
	if req.Header.Get("Authorization") == "" {
		t.Error("Confine mutated the caller's request")
	}

	// The same request not being a redirect is a credential leak: refused.
	req.Response = nil
	if _, err := rt.RoundTrip(req); !errors.Is(err, registry.ErrCredentialLeak) {
		t.Errorf("err = %v, want ErrCredentialLeak", err)
	} else if strings.Contains(err.Error(), "c2Nhbm5lcjpzM2NyZXQ") {
		t.Errorf("error carries the header: %v", err)
	}
	if len(got) != 1 {
		t.Errorf("refused request reached the server")
	}

	// Forbidden destinations are refused with or without credentials.
	for _, host := range []string{
		"169.254.169.254", "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518",
		"[fd00:ec2::254]", "[fe80::1]", "metadata.google.internal", "METADATA.google.internal.",
		"0.0.0.0", "[::]", "0", "100.100.100.200", "[::ffff:169.254.169.254]",
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://"+host+"/v2/", nil)
		if _, err := rt.RoundTrip(r); !errors.Is(err, registry.ErrForbiddenHost) {
			t.Errorf("%s: err = %v, want ErrForbiddenHost", host, err)
		}
	}
}

func TestManifestCapInTransport(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{})
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		if strings.HasSuffix(r.URL.Path, "declared") {
			w.Header().Set("Content-Length", fmt.Sprint(5<<20))
		}
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for i := 0; i < 80; i++ { // 5 MiB, streamed without a length for "chunked"
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
		return true
	})
	for _, tag := range []string{"declared", "chunked"} {
		_, err := registry.Resolve(context.Background(), srv.Ref("big:"+tag), opts(t))
		if !errors.Is(err, registry.ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", tag, err)
		}
	}
}

func TestResolveMultiArch(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: user, Password: pass})
	amd := testimage.Image(t, "linux/amd64", map[string]string{"arch": "amd64"})
	arm := testimage.Image(t, "linux/arm64", map[string]string{"arch": "arm64"})
	v7 := testimage.Image(t, "linux/arm/v7", map[string]string{"arch": "armv7"})
	idxDigest := srv.PushIndex(t, "multi:latest", testimage.Index(t, true, amd, arm, v7))
	ad, _ := amd.Digest()
	rd, _ := arm.Digest()
	vd, _ := v7.Digest()
	entry := func(h, platform string) registry.Resolved {
		return registry.Resolved{
			Reference: srv.Ref("multi@" + h), Digest: h, Platform: platform,
			MediaType: "application/vnd.oci.image.manifest.v1+json", IndexDigest: idxDigest.String(),
		}
	}
	tests := []struct {
		platforms []string
		want      []registry.Resolved
	}{
		{nil, []registry.Resolved{entry(ad.String(), "linux/amd64"), entry(rd.String(), "linux/arm64"), entry(vd.String(), "linux/arm/v7")}},
		{[]string{"linux/arm64"}, []registry.Resolved{entry(rd.String(), "linux/arm64")}},
		{[]string{"linux/arm"}, []registry.Resolved{entry(vd.String(), "linux/arm/v7")}},
		{[]string{"linux/amd64", "linux/arm/v7"}, []registry.Resolved{entry(ad.String(), "linux/amd64"), entry(vd.String(), "linux/arm/v7")}},
	}
	for _, tc := range tests {
		o := opts(t)
		o.Platforms = tc.platforms
		got, err := registry.Resolve(context.Background(), srv.Ref("multi:latest"), o)
		if err != nil {
			t.Fatalf("%v: %v", tc.platforms, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.platforms, diff)
		}
	}
	o := opts(t)
	o.Platforms = []string{"windows/amd64"}
	_, err := registry.Resolve(context.Background(), srv.Ref("multi:latest"), o)
	if err == nil || !strings.Contains(err.Error(), "linux/arm/v7") {
		t.Errorf("missing platform: err = %v, want a list of what the index has", err)
	}
}

func TestCatalogAndTagsPagination(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{Auth: registrytest.BearerAuth, Username: user, Password: pass, PaginateCatalog: true})
	img, _ := random.Image(256, 1)
	var wantRepos []string
	for _, r := range []string{"team/b", "team/a", "c", "e", "d"} {
		srv.Push(t, r+":v1", img)
		wantRepos = append(wantRepos, r)
	}
	var wantTags []string
	for i := 0; i < 7; i++ {
		tag := fmt.Sprintf("t%d", i)
		srv.Push(t, "c:"+tag, img)
		wantTags = append(wantTags, tag)
	}
	wantTags = append(wantTags, "v1")
	slices.Sort(wantRepos)

	o := opts(t)
	o.PageSize = 2
	ctx := context.Background()
	repos, err := registry.Catalog(ctx, srv.Host, o)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantRepos, repos); diff != "" {
		t.Errorf("Catalog (-want +got):\n%s", diff)
	}
	tags, err := registry.Tags(ctx, srv.Ref("c"), o)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantTags, tags); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
	var catalogPages, tagPages int
	for _, r := range srv.Requests() {
		switch {
		case strings.HasPrefix(r, "GET /v2/_catalog?"):
			catalogPages++
		case strings.HasPrefix(r, "GET /v2/c/tags/list?"):
			tagPages++
		}
	}
	// 5 repos by 2 over Link headers: 3 pages (the last one short). 8 tags by
	// 2 over `last` (ggcr sends no Link): 4 full pages and an empty one.
	if catalogPages != 3 || tagPages != 5 {
		t.Errorf("pages fetched: catalog %d, tags %d; want 3 and 5", catalogPages, tagPages)
	}
}
