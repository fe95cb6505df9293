package clusterscan

import (
	"context"
	"sort"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/runlens/runlens/internal/k8s/discover"
	"github.com/runlens/runlens/internal/result"
)

// target is one unique digest and where it runs.
type target struct {
	digest, ref string
	runningIn   []string
	// pulls are (cluster, namespace, pull secrets) that may authenticate it.
	pulls []pullRef
}

type pullRef struct {
	cluster, namespace string
	secrets            []string
}

// keychain returns a keychain of every pull secret that may serve t, or
// nil (default keychain only) when it has none.
func (t *target) keychain(ctx context.Context, keychains *discover.Keychains) authn.Keychain {
	var kcs []authn.Keychain
	for _, p := range t.pulls {
		if kc := keychains.For(ctx, p.cluster, p.namespace, p.secrets); kc != nil {
			kcs = append(kcs, kc)
		}
	}
	if len(kcs) == 0 {
		return nil
	}
	return authn.NewMultiKeychain(kcs...)
}

// notPulled tells keychains that t could not be scanned, so unusable pull
// secrets its pods name are reported.
func (t *target) notPulled(ctx context.Context, keychains *discover.Keychains) {
	for _, p := range t.pulls {
		keychains.NotPulled(ctx, p.cluster, p.namespace, p.secrets)
	}
}

// collectTargets deduplicates running digests across clusters.
func collectTargets(discs []*discover.Discovery) []*target {
	by := map[string]*target{}
	for _, d := range discs {
		for i := range d.Workloads {
			w := &d.Workloads[i]
			ref := result.WorkloadRef(w)
			for _, c := range w.Containers {
				if c.Digest == "" || c.Repository == "" {
					continue
				}
				t := by[c.Digest]
				if t == nil {
					t = &target{digest: c.Digest, ref: c.Repository + "@" + c.Digest}
					by[c.Digest] = t
				}
				if n := len(t.runningIn); n == 0 || t.runningIn[n-1] != ref {
					t.runningIn = append(t.runningIn, ref)
				}
				if len(c.PullSecrets) > 0 {
					t.pulls = append(t.pulls, pullRef{cluster: w.Cluster, namespace: w.Namespace, secrets: c.PullSecrets})
				}
			}
		}
	}
	out := make([]*target, 0, len(by))
	for _, t := range by {
		sort.Strings(t.runningIn)
		out = append(out, t)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ref < out[b].ref })
	return out
}
