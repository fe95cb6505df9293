// Command registry serves an OCI registry on loopback for the test cluster.
//
// It wraps go-containerregistry's in-process registry (blobs on disk, manifests in
// memory) and protects every repository under -private-prefix with HTTP basic auth,
// so pull-secret tests see a real 401 challenge. It writes "ready" to -ready-file
// once it listens, so the harness never races the first push.
package main

import (
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5000", "loopback address to listen on")
	blobs := flag.String("blobs", "", "directory for blobs (empty: memory)")
	authFile := flag.String("auth-file", "", "file holding user:password for the private prefix")
	private := flag.String("private-prefix", "private/", "repository prefix that needs basic auth")
	ready := flag.String("ready-file", "", "file written once the registry listens")
	flag.Parse()

	if err := run(*listen, *blobs, *authFile, *private, *ready); err != nil {
		log.Fatal(err)
	}
}

func run(listen, blobs, authFile, private, ready string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("the test registry listens on loopback only")
	}
	var opts []registry.Option
	if blobs != "" {
		if err := os.MkdirAll(blobs, 0o755); err != nil {
			return fmt.Errorf("blob dir: %w", err)
		}
		opts = append(opts, registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)))
	}
	opts = append(opts, registry.Logger(log.New(os.Stderr, "registry ", log.LstdFlags)))
	var user, pass string
	if authFile != "" {
		b, err := os.ReadFile(authFile)
		if err != nil {
			return fmt.Errorf("auth file: %w", err)
		}
		u, p, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
		if !ok {
			return errors.New("auth file must hold user:password")
		}
		user, pass = u, p
	}
	h := withAuth(registry.New(opts...), "/v2/"+private, user, pass)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if ready != "" {
		if err := os.WriteFile(ready, []byte("ready\n"), 0o644); err != nil {
			return fmt.Errorf("ready file: %w", err)
		}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// withAuth asks for basic credentials on every path under prefix.
func withAuth(next http.Handler, prefix, user, pass string) http.Handler {
	if user == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix) {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 ||
				subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="runlens-test-registry"`)
				w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
