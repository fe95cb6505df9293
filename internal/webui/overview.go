package webui

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
)

// newSinceCap is how many appeared changes the overview counts before
// it says "N+".
const newSinceCap = 1000

// overviewView is the overview page.
type overviewView struct {
	Headline string
	// ActNow is the headline's number: findings in the immediate tier.
	ActNow   int
	Total    funnelView
	Tiers    []tierCard
	Clusters []clusterView
	DB       store.DBVersion
	DBAge    string
	// NewSince counts risks that appeared since the database was built
	// ("N+" past newSinceCap); NewSinceURL opens the feed there.
	NewSince    string
	NewSinceURL string
}

// funnelView is one funnel: its stages and the tier split.
type funnelView struct {
	Stages      []stageView
	Occurrences int
	Suppressed  int
}

// stageView is one stage: its count (nil when unknown) and its bar's
// width class (w0–w100, a share of the first stage).
type stageView struct {
	Label string
	N     *int
	Width string
	Class string
}

// tierCard counts one tier's findings.
type tierCard struct {
	Tier     string
	Findings int
}

// clusterView is one cluster's row of the overview.
type clusterView struct {
	store.ClusterInfo
	Tiers []tierCard
	Stale bool
}

func (u *ui) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	clusters, err := u.st.Clusters(ctx)
	if err != nil {
		u.fail(w, r, "clusters", err)
		return
	}
	db, err := u.st.DBVersion(ctx)
	if err != nil {
		u.fail(w, r, "database version", err)
		return
	}
	now := u.opts.Now()
	v := overviewView{DB: db}
	// Every figure is the clusters' own funnels, stored with their latest
	// scans: totalling the risk table itself costs seconds on a big store.
	var total result.RiskFunnel
	for _, c := range clusters {
		v.Clusters = append(v.Clusters, clusterView{ClusterInfo: c, Tiers: tierCards(c.Funnel), Stale: now.Sub(c.LastScanAt) > 48*time.Hour})
		total = addFunnels(total, c.Funnel)
	}
	v.Total = newFunnel(total)
	v.Tiers = tierCards(total)
	v.ActNow = total.Immediate
	v.Headline = headline(total, len(clusters))
	if !db.BuiltAt.IsZero() {
		v.DBAge = ago(db.BuiltAt, now)
		page, err := u.st.Changes(ctx, store.ChangeQuery{Since: db.BuiltAt, Kind: store.ChangeAppeared, Limit: newSinceCap})
		if err != nil {
			u.fail(w, r, "changes", err)
			return
		}
		v.NewSince = thousands(len(page.Changes))
		if page.Next != "" {
			v.NewSince += "+"
		}
		v.NewSinceURL = "/changes?since=db"
	}
	u.render(w, r, http.StatusOK, "overview", "", page{Title: "Overview", Nav: "overview", Data: v})
}

// headline says in one line what needs doing.
func headline(f result.RiskFunnel, clusters int) string {
	switch {
	case clusters == 0:
		return "Welcome to runlens server"
	case f.Immediate > 0:
		return fmt.Sprintf("%s %s to act on now", thousands(f.Immediate), plural(f.Immediate, "finding", "findings"))
	case f.OutOfCycle > 0:
		return fmt.Sprintf("Nothing to act on now; %s %s to patch out of cycle", thousands(f.OutOfCycle), plural(f.OutOfCycle, "finding", "findings"))
	default:
		return "Nothing to act on now"
	}
}

func tierCards(f result.RiskFunnel) []tierCard {
	n := map[string]int{result.TierImmediate: f.Immediate, result.TierOutOfCycle: f.OutOfCycle, result.TierScheduled: f.Scheduled, result.TierDefer: f.Defer}
	out := make([]tierCard, 0, len(result.Tiers))
	for _, t := range result.Tiers {
		out = append(out, tierCard{Tier: t, Findings: n[t]})
	}
	return out
}

// addFunnels sums two clusters' funnels; a stage unknown in both stays
// unknown. A finding in two clusters counts in each.
func addFunnels(a, b result.RiskFunnel) result.RiskFunnel {
	opt := func(x, y *int) *int {
		if x == nil && y == nil {
			return nil
		}
		n := 0
		if x != nil {
			n += *x
		}
		if y != nil {
			n += *y
		}
		return &n
	}
	return result.RiskFunnel{Findings: a.Findings + b.Findings, Running: opt(a.Running, b.Running), Reachable: opt(a.Reachable, b.Reachable),
		InUse: opt(a.InUse, b.InUse), Immediate: a.Immediate + b.Immediate, OutOfCycle: a.OutOfCycle + b.OutOfCycle,
		Scheduled: a.Scheduled + b.Scheduled, Defer: a.Defer + b.Defer, Suppressed: a.Suppressed + b.Suppressed, Occurrences: a.Occurrences + b.Occurrences}
}

// newFunnel lays out a funnel's stages with bar widths relative to the
// findings.
func newFunnel(f result.RiskFunnel) funnelView {
	findings := f.Findings
	acts := f.Immediate + f.OutOfCycle
	stages := []stageView{
		{Label: "Findings", N: &findings},
		{Label: "In running images", N: f.Running},
		{Label: "Reachable", N: f.Reachable},
		{Label: "In use", N: f.InUse},
		{Label: "Immediate + out-of-cycle", N: &acts, Class: "b-immediate"},
	}
	for i := range stages {
		s := &stages[i]
		if s.Class == "" {
			s.Class = "b-stage"
		}
		if s.N == nil {
			s.Class, s.Width = "b-unknown", "w100"
			continue
		}
		s.Width = width(*s.N, f.Findings)
	}
	return funnelView{Stages: stages, Occurrences: f.Occurrences, Suppressed: f.Suppressed}
}

// width is n's share of total as a width class; anything above zero
// shows at least a sliver.
func width(n, total int) string {
	if total <= 0 || n <= 0 {
		return "w0"
	}
	p := int(math.Round(100 * float64(n) / float64(total)))
	p = max(1, min(100, p))
	return fmt.Sprintf("w%d", p)
}
