package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
)

func TestCheckDigest(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for _, good := range []string{"sha256:" + hex, "sha512:" + hex + hex} {
		if err := registry.CheckDigest(good); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, bad := range []string{"", "sha256:", "sha256:../../x", "sha256:" + strings.ToUpper(hex), "md5:" + hex, hex, "sha256:" + hex + "00"} {
		if err := registry.CheckDigest(bad); !errors.Is(err, registry.ErrBadDigest) {
			t.Errorf("%q: err = %v, want ErrBadDigest", bad, err)
		}
	}
}

func TestResolveConfigDigest(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no host credentials
	srv := registrytest.New(t, registrytest.Config{})
	amd := registrytest.Image(t, "linux/amd64", map[string]string{"bin/app": "amd64"})
	arm := registrytest.Image(t, "linux/arm64", map[string]string{"bin/app": "arm64"})
	other := registrytest.Image(t, "linux/amd64", map[string]string{"bin/app": "v2"})
	single := srv.Push(t, "app:v1", amd)
	srv.Push(t, "app:v2", other)
	index := srv.PushIndex(t, "multi:v1", registrytest.Index(t, true, amd, arm))
	amdCfg, _ := amd.ConfigName()
	armCfg, _ := arm.ConfigName()
	armDigest, _ := arm.Digest()
	o := registry.Options{Transport: registry.NewTransport(nil, registry.RetryOptions{BaseDelay: time.Millisecond})}

	tests := []struct {
		name, image, config string
		want                registry.Resolved
		wantErr             string
	}{
		{name: "single manifest", image: srv.Ref("app:v1"), config: amdCfg.String(),
			want: registry.Resolved{Reference: srv.Ref("app@" + single.String()), Digest: single.String()}},
		{name: "index picks the platform whose config matches", image: srv.Ref("multi:v1"), config: armCfg.String(),
			want: registry.Resolved{Reference: srv.Ref("multi@" + armDigest.String()), Digest: armDigest.String(), Platform: "linux/arm64", IndexDigest: index.String()}},
		{name: "tag moved", image: srv.Ref("app:v2"), config: amdCfg.String(), wantErr: "tag moved"},
		{name: "index without the config", image: srv.Ref("multi:v1"), config: "sha256:" + strings.Repeat("a", 64), wantErr: "none of 2 platform manifests"},
		{name: "missing tag", image: srv.Ref("app:nope"), config: amdCfg.String(), wantErr: "MANIFEST_UNKNOWN"},
		{name: "bad config id", image: srv.Ref("app:v1"), config: "sha256:../../x", wantErr: "bad digest"},
		{name: "bad reference", image: "UPPER/Case:tag", config: amdCfg.String(), wantErr: "image reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := registry.ResolveConfigDigest(ctx, tt.image, tt.config, o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.MediaType = ""
			if got != tt.want {
				t.Errorf("resolved %+v, want %+v", got, tt.want)
			}
		})
	}
}
