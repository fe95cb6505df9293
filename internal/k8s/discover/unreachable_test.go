package discover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/k8s"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func writeKubeconfig(t *testing.T, current string, port int) string {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: %q
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: "not-a-real-token"}
contexts:
- name: a
  context: {cluster: c1, user: u}
- name: b
  context: {cluster: c1, user: u, namespace: x}
- name: broken
  context: {cluster: missing, user: u}
`, current, port)
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDiscoverUnreachable: a context pointing at a closed port and one that
// cannot be built are Problems for themselves; All still returns a
// Discovery for each.
func TestDiscoverUnreachable(t *testing.T) {
	clients, err := k8s.LoadContexts(writeKubeconfig(t, "a", closedPort(t)), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	ds, err := All(ctx, clients, Options{}, 2)
	if !errors.Is(err, ErrClusterUnavailable) {
		t.Errorf("err = %v, want ErrClusterUnavailable", err)
	}
	if time.Since(t0) > 20*time.Second {
		t.Errorf("took %s", time.Since(t0))
	}
	for i, d := range ds {
		if d == nil || d.Cluster != clients[i].Name || len(d.Problems) != 1 || d.Problems[0].Kind != ProblemConnect {
			t.Errorf("discovery %d: %+v", i, d)
			continue
		}
		t.Logf("%s: %s", d.Cluster, d.Problems[0].Reason)
		if strings.Contains(d.Problems[0].Reason, "not-a-real-token") {
			t.Errorf("problem carries the token: %s", d.Problems[0].Reason)
		}
	}
}
