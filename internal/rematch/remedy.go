package rematch

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/workload"
)

// actionKey names an action: one package in one image repository.
type actionKey struct{ image, pkg, ecosystem string }

func keyOf(a *result.Action) actionKey { return actionKey{a.Image, a.Package, a.Ecosystem} }

// remediationAfter is the cluster's remediation once its risks on
// digests are part's (ranked): its stored actions, with those that hold
// one of the digests or that part's risks make, grouped again from
// part's risks and the stored risks of the other images those actions
// name. An action holds every image of its repository with a risk of
// its package, so nothing outside those images changes it.
func remediationAfter(ctx context.Context, st store.Store, cluster string, digests []string, part *result.Document) ([]result.Action, error) {
	old, err := st.Remediation(ctx, cluster)
	if err != nil {
		return nil, err
	}
	changed := make(map[string]bool, len(digests))
	for _, d := range digests {
		changed[d] = true
	}
	affected := map[actionKey]bool{}
	for i := range part.Remediation {
		affected[keyOf(&part.Remediation[i])] = true
	}
	for i := range old {
		if slices.ContainsFunc(old[i].Digests, func(d string) bool { return changed[d] }) {
			affected[keyOf(&old[i])] = true
		}
	}
	// The other images of the actions grouped again, named by the
	// repository their action gives them.
	repoOf := map[string]string{}
	var others []string
	for i := range old {
		if !affected[keyOf(&old[i])] {
			continue
		}
		for _, d := range old[i].Digests {
			if !changed[d] && repoOf[d] == "" {
				repoOf[d] = old[i].Image
				others = append(others, d)
			}
		}
	}
	doc := &result.Document{Risks: slices.Clone(part.Risks), Images: part.Images}
	for _, d := range others {
		doc.Workloads = append(doc.Workloads, &result.Workload{Workload: workload.Workload{Containers: []workload.Container{{Digest: d, Repository: repoOf[d]}}}})
	}
	doc.Workloads = append(doc.Workloads, part.Workloads...)
	if len(others) > 0 {
		rs, err := st.ClusterRisks(ctx, cluster, others)
		if err != nil {
			return nil, err
		}
		doc.Risks = append(doc.Risks, rs...)
	}
	risk.Regroup(doc)
	out := make([]result.Action, 0, len(old)+len(doc.Remediation))
	for i := range old {
		if !affected[keyOf(&old[i])] {
			out = append(out, old[i])
		}
	}
	for i := range doc.Remediation {
		if affected[keyOf(&doc.Remediation[i])] {
			out = append(out, doc.Remediation[i])
		}
	}
	// The ranking's order: most urgent tier, most risk removed, image,
	// package.
	slices.SortStableFunc(out, func(a, b result.Action) int {
		return cmp.Or(cmp.Compare(result.TierRank(a.Tier), result.TierRank(b.Tier)), cmp.Compare(b.Risk, a.Risk),
			strings.Compare(a.Image, b.Image), strings.Compare(a.Package, b.Package))
	})
	return out, nil
}
