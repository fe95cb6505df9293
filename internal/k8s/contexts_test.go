package k8s

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
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

func TestLoadContexts(t *testing.T) {
	path := writeKubeconfig(t, "a", closedPort(t))
	names := func(cs []ClusterClient) (out []string) {
		for _, c := range cs {
			s := c.Name
			if c.Err != nil {
				s += " (err)"
			}
			if c.Namespace != "" {
				s += " ns=" + c.Namespace
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name    string
		names   []string
		all     bool
		want    []string
		wantErr error
	}{
		{name: "current", want: []string{"a"}},
		{name: "named, in order, deduplicated", names: []string{"b", "a", "b"}, want: []string{"b ns=x", "a"}},
		{name: "all", all: true, want: []string{"a", "b ns=x", "broken (err)"}},
		{name: "unknown", names: []string{"a", "nope"}, wantErr: ErrNoContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadContexts(path, tt.names, tt.all)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("contexts (-want +got):\n%s", diff)
			}
			for _, c := range got {
				if c.Err == nil && (c.Config.QPS != clientQPS || c.Config.Burst != clientBurst || c.API == nil) {
					t.Errorf("%s: QPS %v burst %d client %v", c.Name, c.Config.QPS, c.Config.Burst, c.API)
				}
			}
		})
	}

	// A typo names the contexts there are.
	_, err := LoadContexts(path, []string{"nope"}, false)
	var uc *UnknownContextError
	if !errors.As(err, &uc) || uc.Name != "nope" ||
		err.Error() != `context "nope" not found in kubeconfig; available: a, b, broken` {
		t.Errorf("unknown context: err = %v", err)
	}

	// KUBECONFIG is honoured when no path is given.
	t.Setenv("KUBECONFIG", path)
	got, err := LoadContexts("", nil, false)
	if err != nil || len(got) != 1 || got[0].Name != "a" {
		t.Errorf("KUBECONFIG: %v, %v", names(got), err)
	}
	// No current context: an error naming the way out.
	if _, err := LoadContexts(writeKubeconfig(t, "", 1), nil, false); !errors.Is(err, ErrNoContext) {
		t.Errorf("no current context: err = %v", err)
	}
	if _, err := LoadContexts(filepath.Join(t.TempDir(), "missing"), nil, false); err == nil {
		t.Error("missing explicit kubeconfig: no error")
	}
}
