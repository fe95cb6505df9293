package discover

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/k8stest"
)

// TestDiscoverUnreachable: a context pointing at a closed port and one that
// cannot be built are Problems for themselves; All still returns a
// Discovery for each.
func TestDiscoverUnreachable(t *testing.T) {
	clients, err := k8s.LoadContexts(k8stest.WriteKubeconfig(t, "a", k8stest.ClosedPort(t)), nil, true)
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
