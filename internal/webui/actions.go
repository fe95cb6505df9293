package webui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/result"
)

// actionsCap is how many actions the page lists.
const actionsCap = 500

// cachedActions is one cluster's remediation at one scan.
type cachedActions struct {
	scanID  int64
	actions []result.Action
}

// actionsView is the remediation page.
type actionsView struct {
	Actions []result.Action
	More    int
	// Clusters counts the clusters merged.
	Clusters int
}

func (u *ui) actionsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	clusters, err := u.st.Clusters(ctx)
	if err != nil {
		u.fail(w, r, "clusters", err)
		return
	}
	v := actionsView{Clusters: len(clusters)}
	// The merged list stands until any cluster has a newer scan.
	var key strings.Builder
	for _, c := range clusters {
		fmt.Fprintf(&key, "%s\x00%d\x00", c.Name, c.LastScanID)
	}
	u.mu.Lock()
	m := u.merged
	u.mu.Unlock()
	if m.key != key.String() || m.actions == nil {
		var all [][]result.Action
		for _, c := range clusters {
			acts, err := u.clusterActions(ctx, c.Name, c.LastScanID)
			if err != nil {
				u.fail(w, r, "remediation of cluster "+c.Name, err)
				return
			}
			all = append(all, acts)
		}
		m = mergedActions{key: key.String(), actions: mergeActions(all)}
		if m.actions == nil {
			m.actions = []result.Action{}
		}
		u.mu.Lock()
		u.merged = m
		u.mu.Unlock()
	}
	v.Actions, v.More = capList(m.actions, actionsCap)
	u.render(w, r, http.StatusOK, "actions", "", page{Title: "Actions", Nav: "actions", Data: v})
}

// mergedActions is the actions page's list for one set of latest scans
// (key: each cluster's name and scan id).
type mergedActions struct {
	key     string
	actions []result.Action
}

// clusterActions are a cluster's latest remediation actions, as the
// store keeps them with its latest scan, cached while that scan is the
// latest.
func (u *ui) clusterActions(ctx context.Context, cluster string, scanID int64) ([]result.Action, error) {
	u.mu.Lock()
	c, ok := u.actions[cluster]
	u.mu.Unlock()
	if ok && c.scanID == scanID {
		return c.actions, nil
	}
	acts, err := u.st.Remediation(ctx, cluster)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	u.actions[cluster] = cachedActions{scanID: scanID, actions: acts}
	u.mu.Unlock()
	return acts, nil
}

// mergeActions joins the clusters' actions on the same fix (kind,
// owner, image repository, package, fixed version): their digests,
// vulnerabilities and workloads united, their risk and tiers summed.
// The result is ranked most urgent tier first, then by risk removed.
func mergeActions(lists [][]result.Action) []result.Action {
	idx := map[string]int{}
	var out []result.Action
	for _, list := range lists {
		for _, a := range list {
			key := strings.Join([]string{a.Kind, a.Owner, a.Image, a.Package, a.FixedVersion}, "\x00")
			i, ok := idx[key]
			if !ok {
				a.Digests = slices.Clone(a.Digests)
				a.Vulnerabilities = slices.Clone(a.Vulnerabilities)
				a.Workloads = slices.Clone(a.Workloads)
				byTier := make(map[string]int, len(a.ByTier))
				for t, n := range a.ByTier {
					byTier[t] = n
				}
				a.ByTier = byTier
				idx[key] = len(out)
				out = append(out, a)
				continue
			}
			m := &out[i]
			m.Digests = union(m.Digests, a.Digests)
			m.Vulnerabilities = union(m.Vulnerabilities, a.Vulnerabilities)
			m.Workloads = union(m.Workloads, a.Workloads)
			m.Risk += a.Risk
			for t, n := range a.ByTier {
				m.ByTier[t] += n
			}
			if result.TierRank(a.Tier) < result.TierRank(m.Tier) {
				m.Tier = a.Tier
			}
		}
	}
	slices.SortStableFunc(out, func(a, b result.Action) int {
		if ra, rb := result.TierRank(a.Tier), result.TierRank(b.Tier); ra != rb {
			return ra - rb
		}
		switch {
		case a.Risk > b.Risk:
			return -1
		case a.Risk < b.Risk:
			return 1
		}
		return strings.Compare(a.Text, b.Text)
	})
	return out
}

// union appends b's items missing from a.
func union(a, b []string) []string {
	seen := make(map[string]bool, len(a))
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			seen[s] = true
			a = append(a, s)
		}
	}
	return a
}
