package clusterscan

import (
	"github.com/runlens/runlens/internal/k8s/discover"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// join fans image results back out to workloads and builds each cluster's
// funnel: pods → containers → unique digests → scanned/failed → findings.
// The counts are result.CountClusters', the same that a report recounts
// after a filter.
func join(discs []*discover.Discovery, byDigest map[string]*result.Image) ([]*result.Workload, []result.Cluster) {
	var wls []*result.Workload
	var clusters []result.Cluster
	for _, d := range discs {
		clusters = append(clusters, result.Cluster{Name: d.Cluster, Status: clusterStatus(d.Problems), Funnel: d.Funnel,
			Workloads: len(d.Workloads), Problems: d.Problems})
		for i := range d.Workloads {
			w := &d.Workloads[i]
			wr := &result.Workload{Workload: *w}
			for _, c := range w.Containers {
				if c.Digest == "" {
					wr.Unscanned = append(wr.Unscanned, c.Name+": running digest unknown")
					continue
				}
				if r := byDigest[c.Digest]; r == nil || r.Status == result.StatusFailed {
					reason := "not scanned"
					if r != nil {
						reason = r.Error
					}
					wr.Unscanned = append(wr.Unscanned, c.Name+": "+reason)
				}
			}
			wls = append(wls, wr)
		}
	}
	result.CountClusters(byDigest, wls, clusters)
	return wls, clusters
}

// clusterStatus is failed when what runs in the cluster is unknown: it
// could not be reached or its pods could not be listed.
func clusterStatus(problems []workload.Problem) string {
	for _, p := range problems {
		if p.Kind == discover.ProblemConnect || p.Kind == discover.ProblemPods {
			return result.StatusFailed
		}
	}
	return result.StatusScanned
}
