package server

import (
	"context"
	"sync"

	"github.com/runlens/runlens/internal/store"
)

// remediationCache keeps each cluster's remediation actions for its
// latest scan, as the store keeps them (store.Remediation): they change
// only with a new entry of the cluster's history.
type remediationCache struct {
	mu      sync.Mutex
	entries map[string]cachedActions
}

// cachedActions are a cluster's actions as of one scan.
type cachedActions struct {
	scan    int64
	actions []clusterAction
}

// actions returns the actions of cluster c's latest scan.
func (rc *remediationCache) actions(ctx context.Context, st store.Store, c store.ClusterInfo) ([]clusterAction, error) {
	rc.mu.Lock()
	e, ok := rc.entries[c.Name]
	rc.mu.Unlock()
	if ok && e.scan == c.LastScanID {
		return e.actions, nil
	}
	list, err := st.Remediation(ctx, c.Name)
	if err != nil {
		return nil, err
	}
	acts := make([]clusterAction, 0, len(list))
	for _, a := range list {
		acts = append(acts, clusterAction{Cluster: c.Name, Action: a})
	}
	rc.mu.Lock()
	if rc.entries == nil {
		rc.entries = map[string]cachedActions{}
	}
	rc.entries[c.Name] = cachedActions{scan: c.LastScanID, actions: acts}
	rc.mu.Unlock()
	return acts, nil
}
