package discover

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/testing/testimage"
)

const (
	hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hexB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestParseImageID(t *testing.T) {
	tests := []struct {
		in      string
		want    ImageID
		wantErr bool
	}{
		// containerd / CRI-O: the repo digest, as pulled.
		{in: "localhost:5000/app@sha256:" + hexA, want: ImageID{Repository: "localhost:5000/app", Digest: "sha256:" + hexA}},
		{in: "docker.io/library/nginx@sha256:" + hexA, want: ImageID{Repository: "index.docker.io/library/nginx", Digest: "sha256:" + hexA}},
		// dockershim / cri-dockerd.
		{in: "docker-pullable://nginx@sha256:" + hexB, want: ImageID{Repository: "index.docker.io/library/nginx", Digest: "sha256:" + hexB}},
		{in: "docker-pullable://registry.example.com:8443/team/app@sha256:" + hexB, want: ImageID{Repository: "registry.example.com:8443/team/app", Digest: "sha256:" + hexB}},
		{in: "docker://sha256:" + hexA, want: ImageID{ConfigID: "sha256:" + hexA}},
		// ctr-imported images: the config digest only.
		{in: "sha256:" + hexA, want: ImageID{ConfigID: "sha256:" + hexA}},
		{in: hexB, want: ImageID{ConfigID: "sha256:" + hexB}},
		// A tag kept before the digest.
		{in: "quay.io/org/app:v1@sha256:" + hexA, want: ImageID{Repository: "quay.io/org/app", Digest: "sha256:" + hexA}},
		{in: "  localhost:5000/app@sha512:" + strings.Repeat("b", 128) + "\n", want: ImageID{Repository: "localhost:5000/app", Digest: "sha512:" + strings.Repeat("b", 128)}},
		// Bad input: rejected before anything is built from it.
		{in: "", wantErr: true},
		{in: "sha256:../../x", wantErr: true},
		{in: "app@sha256:../../etc/passwd", wantErr: true},
		{in: "app@sha256:" + strings.ToUpper(hexA), wantErr: true},
		{in: "app@md5:" + hexA[:32], wantErr: true},
		{in: "app@sha256:" + hexA[:63], wantErr: true},
		{in: "Bad Repo@sha256:" + hexA, wantErr: true},
		{in: "containerd://sha256:" + hexA, wantErr: true},
		{in: "docker-pullable://", wantErr: true},
		{in: "nginx:latest", wantErr: true},
		{in: strings.Repeat("a", 1<<20) + "@sha256:" + hexA, wantErr: true},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			got, err := ParseImageID(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseImageID(%.80q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrBadImageID) {
					t.Errorf("error %v does not match ErrBadImageID", err)
				}
				if len(err.Error()) > 5000 {
					t.Errorf("error is %d bytes long", len(err.Error()))
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseImageID(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func testRegistryOptions(t *testing.T) registry.Options {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no host credentials
	return registry.Options{Transport: registry.NewTransport(nil, registry.RetryOptions{BaseDelay: time.Millisecond})}
}

// TestResolveConfigDigestPullSecret resolves a private image with credentials
// from a dockerconfigjson secret, and shows they are needed.
func TestResolveConfigDigestPullSecret(t *testing.T) {
	ctx := context.Background()
	srv := registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: "puller", Password: "pull-Pa55"})
	img := testimage.Image(t, "linux/amd64", map[string]string{"x": "y"})
	dig := srv.Push(t, "private/app:v1", img)
	cfg, _ := img.ConfigName()
	o := testRegistryOptions(t)

	if _, err := registry.ResolveConfigDigest(ctx, srv.Ref("private/app:v1"), cfg.String(), o); err == nil {
		t.Fatal("resolved a private image without credentials")
	}
	kc, issues := KeychainFromSecrets(secrets(t, dockerConfigJSONSecret("pull", srv.Host, "puller", "pull-Pa55")))
	if issues != nil {
		t.Fatal(issues)
	}
	o.Keychain = kc
	got, err := registry.ResolveConfigDigest(ctx, srv.Ref("private/app:v1"), cfg.String(), o)
	if err != nil {
		t.Fatalf("with the pull secret: %v", err)
	}
	if got.Digest != dig.String() {
		t.Errorf("digest = %s, want %s", got, dig)
	}
	// The same keychain must not authenticate to another registry.
	other := registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: "puller", Password: "pull-Pa55"})
	other.Push(t, "private/app:v1", img)
	if _, err := registry.ResolveConfigDigest(ctx, other.Ref("private/app:v1"), cfg.String(), o); err == nil {
		t.Fatal("credentials for one registry were used for another")
	}
	if a, _ := kc.Resolve(registryResource(other.Host)); a != authn.Anonymous {
		t.Errorf("keychain answered for %s", other.Host)
	}
}
