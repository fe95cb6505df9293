package clusterscan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/progress"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/usage"
	"github.com/runlens/runlens/internal/workload"
)

// LoadContexts loads the kubeconfig contexts a flag names; a context the
// kubeconfig does not define is a *usage.Error naming flag, and its
// message lists the ones it does.
func LoadContexts(flag, kubeconfig string, names []string, all bool) ([]k8s.ClusterClient, error) {
	clients, err := k8s.LoadContexts(kubeconfig, names, all)
	var uc *k8s.UnknownContextError
	if errors.As(err, &uc) {
		return nil, usage.Errorf("%s: %v", flag, uc)
	}
	return clients, err
}

// Finish makes what Run returned reportable: an interruption keeps the
// result (one before any image was known becomes a failed "cluster
// discovery" entry, so the report does not look clean), any other error
// is returned. Each cluster's problems are warned about on log.
func Finish(ctx context.Context, res *Result, err error, log *slog.Logger) (*Result, error) {
	if err != nil {
		why := scan.Interrupted(ctx)
		if why == nil {
			return nil, err
		}
		if res == nil {
			res = &Result{Images: []*result.Image{result.Incomplete(image.Descriptor{Reference: "cluster discovery"},
				result.StatusFailed, fmt.Errorf("discovering workloads: %w", why))}}
		}
	}
	for _, c := range res.Clusters {
		for _, p := range c.Problems {
			log.Warn("cluster scan incomplete", "cluster", c.Name, "kind", p.Kind, "reason", p.Reason)
		}
	}
	return res, nil
}

// RunningIn is the --running-in step of a registry scan: the clusters
// whose running digests mark the registry's images running or stale.
type RunningIn struct {
	clients []k8s.ClusterClient
	err     error
}

// LoadRunningIn loads the --running-in contexts before the scan, so a
// typo is bad usage at once (a *usage.Error); a kubeconfig that cannot
// be read is kept, to be reported with the scan's report by Mark.
func LoadRunningIn(kubeconfig string, contexts []string) (*RunningIn, error) {
	clients, err := LoadContexts("--running-in", kubeconfig, contexts, false)
	if usage.Is(err) {
		return nil, err
	}
	if err != nil {
		err = fmt.Errorf("--running-in: %w", err)
	}
	return &RunningIn{clients: clients, err: err}, nil
}

// Mark marks each result running in the clusters (with its workloads) or
// stale, unless ctx ended. It returns why the report has no marks, for
// the verdict; nil when r is nil (no --running-in) or the marks are made.
func (r *RunningIn) Mark(ctx context.Context, results []*result.Image, p *progress.Line, log *slog.Logger) error {
	if r == nil {
		return nil
	}
	err := r.err
	switch {
	case ctx.Err() != nil:
		log.Warn("--running-in skipped: the scan was interrupted")
	case err == nil:
		var problems []workload.Problem
		problems, err = MarkRunning(ctx, Options{Clients: r.clients, Progress: p}, results)
		p.Clear()
		for _, pr := range problems {
			log.Warn("--running-in: cluster view incomplete; digests may be marked stale wrongly", "cluster", pr.Cluster, "kind", pr.Kind, "reason", pr.Reason)
		}
		if err != nil {
			err = fmt.Errorf("--running-in: %w", err)
		}
	}
	if err != nil {
		log.Error("the report has no running or stale marks", "err", err)
	}
	return err
}
