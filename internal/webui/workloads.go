package webui

import (
	"context"
	"fmt"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
)

// workloadCacheClusters is how many clusters' workload lists are kept:
// a page that shows one workload would otherwise read its cluster's
// thousands of workloads each time.
const workloadCacheClusters = 4

// cachedWorkloads are one cluster's workloads at one scan, by
// "namespace/Kind/name".
type cachedWorkloads struct {
	scanID int64
	byRef  map[string]*result.Workload
}

// findWorkload finds one workload of a cluster ("Kind/Name").
func (u *ui) findWorkload(ctx context.Context, cluster, ns, kindName string) (*result.Workload, error) {
	byRef, err := u.clusterWorkloads(ctx, cluster)
	if err != nil {
		return nil, err
	}
	w, ok := byRef[ns+"/"+kindName]
	if !ok {
		return nil, fmt.Errorf("workload %s/%s/%s: %w", cluster, ns, kindName, store.ErrNotFound)
	}
	return w, nil
}

// clusterWorkloads are the cluster's workloads, read again only when
// the cluster has a newer scan. The workloads are shared: read-only.
func (u *ui) clusterWorkloads(ctx context.Context, cluster string) (map[string]*result.Workload, error) {
	clusters, err := u.st.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	var scanID int64 = -1
	for _, c := range clusters {
		if c.Name == cluster {
			scanID = c.LastScanID
		}
	}
	if scanID < 0 {
		return nil, fmt.Errorf("cluster %s: %w", cluster, store.ErrNotFound)
	}
	u.mu.Lock()
	c, ok := u.workloads[cluster]
	u.mu.Unlock()
	if ok && c.scanID == scanID {
		return c.byRef, nil
	}
	all, err := u.st.Workloads(ctx, cluster)
	if err != nil {
		return nil, err
	}
	byRef := make(map[string]*result.Workload, len(all))
	for i := range all {
		w := &all[i]
		byRef[w.Namespace+"/"+w.Kind+"/"+w.Name] = w
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.workloads[cluster]; !ok && len(u.workloads) >= workloadCacheClusters {
		// Drop the least recently read cluster.
		oldest := u.workloadOrder[0]
		u.workloadOrder = u.workloadOrder[1:]
		delete(u.workloads, oldest)
	}
	u.workloadOrder = append(removeString(u.workloadOrder, cluster), cluster)
	u.workloads[cluster] = cachedWorkloads{scanID: scanID, byRef: byRef}
	return byRef, nil
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
