package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// TestPrivatePrefixNeedsBasicAuth pushes and pulls through the real registry handler
// with go-containerregistry's client, the same client the e2e fixtures use.
func TestPrivatePrefixNeedsBasicAuth(t *testing.T) {
	srv := httptest.NewServer(withAuth(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(registry.NewDiskBlobHandler(t.TempDir()))), "/v2/private/", "u", "secret"))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := remote.WithAuth(&authn.Basic{Username: "u", Password: "secret"})
	bad := remote.WithAuth(&authn.Basic{Username: "u", Password: "wrong"})
	tests := []struct {
		name, repo string
		opts       []remote.Option
		wantStatus int // 0: success
	}{
		{name: "public, anonymous", repo: "public/app"},
		{name: "private, anonymous", repo: "private/app", wantStatus: http.StatusUnauthorized},
		{name: "private, wrong password", repo: "private/app", opts: []remote.Option{bad}, wantStatus: http.StatusUnauthorized},
		{name: "private, credentials", repo: "private/app", opts: []remote.Option{good}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := name.ParseReference(host + "/" + tt.repo + ":v1")
			if err != nil {
				t.Fatal(err)
			}
			opts := append([]remote.Option{remote.WithContext(ctx)}, tt.opts...)
			err = remote.Write(ref, img, opts...)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("push: %v", err)
				}
				if _, err := remote.Image(ref, opts...); err != nil {
					t.Fatalf("pull: %v", err)
				}
				return
			}
			var terr *transport.Error
			if !errors.As(err, &terr) || terr.StatusCode != tt.wantStatus {
				t.Fatalf("push error = %v, want HTTP %d", err, tt.wantStatus)
			}
		})
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if err := run(addr, "", "", "private/", ""); err == nil {
			t.Errorf("run(%q) started", addr)
		}
	}
}
