package k8stest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// ClosedPort returns a loopback port nothing listens on.
func ClosedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// WriteKubeconfig writes a kubeconfig with contexts a, b (namespace x) and
// broken (its cluster missing), all on one cluster at 127.0.0.1:port, and
// returns its path.
func WriteKubeconfig(t testing.TB, current string, port int) string {
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
