package webui

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
)

// workloadView is a workload's page.
type workloadView struct {
	W *result.Workload
	// Risks are one page of its risks; NextURL the following page.
	Risks   []store.RiskRow
	NextURL string
	// Runtime counts the page's risks per runtime state, most telling
	// first; Tiers per tier.
	Runtime []stateCount
	Tiers   []stateCount
}

// stateCount is a count of one state or tier.
type stateCount struct {
	State string
	N     int
}

func (u *ui) workload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cluster, ns, kind, name := r.PathValue("cluster"), r.PathValue("ns"), r.PathValue("kind"), r.PathValue("name")
	wl, err := u.findWorkload(ctx, cluster, ns, kind+"/"+name)
	if err != nil {
		u.fail(w, r, "workload", err)
		return
	}
	res, err := u.st.Risks(ctx, store.RiskQuery{Cluster: cluster, Namespace: ns, Workload: kind + "/" + name, Suppressed: true,
		Cursor: r.URL.Query().Get("cursor"), Limit: 2 * pageSize})
	if err != nil {
		u.fail(w, r, "risks", err)
		return
	}
	v := workloadView{W: wl, Risks: res.Risks}
	if res.Next != "" {
		v.NextURL = workloadURL(cluster, ns, kind+"/"+name) + "?" + url.Values{"cursor": {res.Next}}.Encode() + "#risks"
	}
	states, tiers := map[string]int{}, map[string]int{}
	for _, rr := range res.Risks {
		states[rr.Runtime.State]++
		if rr.Suppressed == nil {
			tiers[rr.Tier]++
		}
	}
	for _, s := range []string{result.RuntimeExecuted, result.RuntimeListening, result.RuntimeLoaded, result.RuntimeNotObserved, result.RuntimeUnknown} {
		if states[s] > 0 {
			v.Runtime = append(v.Runtime, stateCount{s, states[s]})
			delete(states, s)
		}
	}
	var rest []string
	for s := range states {
		rest = append(rest, s)
	}
	sort.Strings(rest)
	for _, s := range rest {
		v.Runtime = append(v.Runtime, stateCount{s, states[s]})
	}
	for _, t := range result.Tiers {
		v.Tiers = append(v.Tiers, stateCount{t, tiers[t]})
	}
	u.render(w, r, http.StatusOK, "workload", "", page{Title: kind + " " + ns + "/" + name, Nav: "risks", Data: v})
}
