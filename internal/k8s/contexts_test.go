package k8s_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/k8stest"
)

func TestLoadContexts(t *testing.T) {
	path := k8stest.WriteKubeconfig(t, "a", k8stest.ClosedPort(t))
	names := func(cs []k8s.ClusterClient) (out []string) {
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
		{name: "unknown", names: []string{"a", "nope"}, wantErr: k8s.ErrNoContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k8s.LoadContexts(path, tt.names, tt.all)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("contexts (-want +got):\n%s", diff)
			}
			for _, c := range got {
				if c.Err == nil && (c.Config.QPS != k8s.ClientQPS || c.Config.Burst != k8s.ClientBurst || c.API == nil) {
					t.Errorf("%s: QPS %v burst %d client %v", c.Name, c.Config.QPS, c.Config.Burst, c.API)
				}
			}
		})
	}

	// A typo names the contexts there are.
	_, err := k8s.LoadContexts(path, []string{"nope"}, false)
	var uc *k8s.UnknownContextError
	if !errors.As(err, &uc) || uc.Name != "nope" ||
		err.Error() != `context "nope" not found in kubeconfig; available: a, b, broken` {
		t.Errorf("unknown context: err = %v", err)
	}

	// KUBECONFIG is honoured when no path is given.
	t.Setenv("KUBECONFIG", path)
	got, err := k8s.LoadContexts("", nil, false)
	if err != nil || len(got) != 1 || got[0].Name != "a" {
		t.Errorf("KUBECONFIG: %v, %v", names(got), err)
	}
	// No current context: an error naming the way out.
	if _, err := k8s.LoadContexts(k8stest.WriteKubeconfig(t, "", 1), nil, false); !errors.Is(err, k8s.ErrNoContext) {
		t.Errorf("no current context: err = %v", err)
	}
	if _, err := k8s.LoadContexts(filepath.Join(t.TempDir(), "missing"), nil, false); err == nil {
		t.Error("missing explicit kubeconfig: no error")
	}
}
