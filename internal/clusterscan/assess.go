package clusterscan

import (
	"context"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/discover"
	"github.com/runlens/runlens/internal/k8s/posture"
	"github.com/runlens/runlens/internal/workload"
)

// assess adds to one cluster's workloads who fixes each image, and, from
// the cluster's Services, policies and RBAC (posture), each workload's
// exposure and sensitivity. The Namespaces and ServiceAccounts discovery
// listed are reused, not listed again.
func assess(ctx context.Context, d *discover.Discovery, c k8s.ClusterClient, opts Options) {
	for i := range d.Workloads {
		w := &d.Workloads[i]
		for j := range w.Containers {
			ct := &w.Containers[j]
			ct.Owner, ct.OwnerReason = workload.ClassifyImage(ct.Image, w.Namespace, opts.Owner)
		}
	}
	if c.Err != nil || c.API == nil || d.Shared == nil || len(d.Workloads) == 0 {
		return
	}
	pc, problems, err := posture.Load(ctx, c.API, posture.Options{Cluster: d.Cluster, Shared: d.Shared})
	d.Problems = append(d.Problems, problems...)
	if err != nil {
		d.Problems = append(d.Problems, workload.Problem{Cluster: d.Cluster, Kind: "context", Reason: "exposure and privileges not evaluated: " + err.Error()})
		return
	}
	sopts := posture.SensitivityOptions{CriticalNamespaces: opts.CriticalNamespaces}
	for i := range d.Workloads {
		w := &d.Workloads[i]
		pi := d.Pods[discover.KeyOf(w)]
		if pi == nil || pi.Spec == nil {
			continue
		}
		var nsLabels map[string]string
		if ns, ok := d.Namespaces[pi.Namespace]; ok {
			nsLabels = ns.Labels
		}
		w.Exposure = pc.Exposure(pi.Namespace, pi.Labels, pi.Spec)
		w.Sensitivity = pc.Sensitivity(pi.Namespace, pi.Labels, pi.Spec, nsLabels, sopts)
	}
}
