package clusterscan

import (
	"github.com/runlens/runlens/internal/k8s/discover"
	"github.com/runlens/runlens/internal/report"
)

// join fans image results back out to workloads and totals each cluster's
// funnel: pods → containers → unique digests → scanned/failed → findings.
func join(discs []*discover.Discovery, byDigest map[string]*report.ImageResult) ([]*report.WorkloadResult, []report.ClusterResult) {
	var wls []*report.WorkloadResult
	var clusters []report.ClusterResult
	for _, d := range discs {
		cr := report.ClusterResult{Name: d.Cluster, Funnel: d.Funnel, Workloads: len(d.Workloads), Problems: d.Problems}
		seen := map[string]bool{}
		for i := range d.Workloads {
			w := &d.Workloads[i]
			wr := &report.WorkloadResult{Workload: *w, FindingsBySeverity: report.CountWorkload(w, byDigest)}
			for _, c := range w.Containers {
				if c.Digest == "" {
					wr.Unscanned = append(wr.Unscanned, c.Name+": running digest unknown")
					continue
				}
				r := byDigest[c.Digest]
				if r == nil || r.Status == report.StatusFailed {
					reason := "not scanned"
					if r != nil {
						reason = r.Error
					}
					wr.Unscanned = append(wr.Unscanned, c.Name+": "+reason)
				}
				if !seen[c.Digest] && r != nil {
					seen[c.Digest] = true
					if r.Status == report.StatusFailed {
						cr.Failed++
					} else {
						cr.Scanned++
					}
					cr.Findings += len(r.Findings)
				}
			}
			wls = append(wls, wr)
		}
		clusters = append(clusters, cr)
	}
	return wls, clusters
}

// Recount recomputes the workloads' and clusters' finding counts from the
// images, after their findings were filtered.
func (r *Result) Recount() {
	byDigest := map[string]*report.ImageResult{}
	for _, img := range r.Images {
		byDigest[img.Target.Digest] = img
	}
	perCluster := map[string]map[string]bool{}
	for _, w := range r.Workloads {
		w.FindingsBySeverity = report.CountWorkload(&w.Workload, byDigest)
		seen := perCluster[w.Cluster]
		if seen == nil {
			seen = map[string]bool{}
			perCluster[w.Cluster] = seen
		}
		for _, c := range w.Containers {
			if c.Digest != "" {
				seen[c.Digest] = true
			}
		}
	}
	for i := range r.Clusters {
		c := &r.Clusters[i]
		c.Findings = 0
		for d := range perCluster[c.Name] {
			if img := byDigest[d]; img != nil {
				c.Findings += len(img.Findings)
			}
		}
	}
}
