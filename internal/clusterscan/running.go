package clusterscan

import (
	"context"
	"slices"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// MarkRunning discovers what runs in the clusters opts selects (discovery
// only: no exposure or RBAC pass) and marks each image with a digest as
// running, with the workloads that run it, or stale (Running false). It
// returns the problems of the discovery: where a cluster's view is
// incomplete, a digest may be marked stale wrongly.
func MarkRunning(ctx context.Context, opts Options, images []*result.Image) ([]workload.Problem, error) {
	discs, err := Discover(ctx, opts)
	if err != nil {
		return nil, err
	}
	var problems []workload.Problem
	where := map[string][]string{}
	for _, d := range discs {
		problems = append(problems, d.Problems...)
		for i := range d.Workloads {
			w := &d.Workloads[i]
			ref := result.WorkloadRef(w)
			for _, c := range w.Containers {
				if c.Digest != "" && !slices.Contains(where[c.Digest], ref) {
					where[c.Digest] = append(where[c.Digest], ref)
				}
			}
		}
	}
	for _, r := range images {
		if r.Target.Digest == "" {
			continue
		}
		running := len(where[r.Target.Digest]) > 0
		r.Running = &running
		r.RunningIn = where[r.Target.Digest]
	}
	return problems, nil
}
