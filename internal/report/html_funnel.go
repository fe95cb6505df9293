package report

import (
	"fmt"

	"github.com/runlens/runlens/internal/result"
)

// htmlFunnelView draws a risk funnel: one bar per stage, each as wide as its
// share of the findings in the scanned images.
type htmlFunnelView struct {
	Stages []htmlFunnelStage
	result.RiskFunnel
}

// htmlFunnelStage is one bar of the funnel. Value is empty when the stage is
// not known (Note says why); Bars are its coloured segments.
type htmlFunnelStage struct {
	Key, Label, Value, Note, Share string
	Bars                           []htmlFunnelBar
}

// htmlFunnelBar is one segment of a stage's bar; Width is a percentage.
type htmlFunnelBar struct {
	Class, Width, Title string
}

// htmlClusterFunnel is one cluster's funnel.
type htmlClusterFunnel struct {
	Name   string
	Status string
	Funnel *htmlFunnelView
}

func (v *htmlView) funnels(doc *result.Document) {
	total := doc.Summary.Risk
	if total == nil {
		total = htmlTallyFunnel(doc.Risks)
	}
	v.Total = htmlNewFunnel(*total, len(doc.Summary.Clusters) > 0)
	// One cluster's funnel is the total's: drawn once.
	for _, c := range doc.Summary.Clusters {
		if len(doc.Summary.Clusters) == 1 && c.Risk != nil {
			break
		}
		cf := htmlClusterFunnel{Name: c.Name, Status: c.Status}
		if c.Risk != nil {
			cf.Funnel = htmlNewFunnel(*c.Risk, true)
		}
		v.PerClust = append(v.PerClust, cf)
	}
	places := map[string]map[string]bool{}
	for _, r := range doc.Risks {
		if r.Suppressed != nil {
			continue
		}
		if places[r.Tier] == nil {
			places[r.Tier] = map[string]bool{}
		}
		places[r.Tier][htmlOrWord(r.WorkloadRef(), r.Image)] = true
	}
	one, many := "workload", "workloads"
	v.WhereHeader = "Workload"
	if len(doc.Summary.Clusters) == 0 {
		one, many, v.WhereHeader = "image", "images", "Image"
	}
	byTier := map[string]int{
		result.TierImmediate: total.Immediate, result.TierOutOfCycle: total.OutOfCycle,
		result.TierScheduled: total.Scheduled, result.TierDefer: total.Defer,
	}
	for _, t := range result.Tiers {
		v.Tiers = append(v.Tiers, htmlTierCard{Tier: t, Label: result.TierLabel(t), Hint: result.TierHint(t), Findings: byTier[t],
			Places: len(places[t]), PlaceWord: htmlPlural(len(places[t]), one, many)})
	}
}

// htmlNewFunnel lays out f. Stages a scan without clusters cannot know
// (running, reachable) are left out; runtime use is shown as unknown
// when no runtime evidence was gathered.
func htmlNewFunnel(f result.RiskFunnel, clusters bool) *htmlFunnelView {
	fv := &htmlFunnelView{RiskFunnel: f}
	add := func(key, label string, n *int, class, unknown string) {
		st := htmlFunnelStage{Key: key, Label: label}
		if n == nil {
			st.Note = unknown
			st.Bars = []htmlFunnelBar{{Class: "unknown", Width: "100", Title: unknown}}
		} else {
			st.Value = htmlThousands(*n)
			st.Share = htmlShare(*n, f.Findings)
			st.Bars = []htmlFunnelBar{{Class: class, Width: htmlWidth(*n, f.Findings), Title: st.Value}}
		}
		fv.Stages = append(fv.Stages, st)
	}
	findings := f.Findings
	add("findings", "Findings in scanned images", &findings, "stage", "")
	if clusters || f.Running != nil {
		add("running", "In running images", f.Running, "stage", "unknown — no cluster data")
	}
	if clusters || f.Reachable != nil {
		add("reachable", "On reachable workloads", f.Reachable, "stage", "unknown — no exposure data")
	}
	add("in-use", "In use at runtime", f.InUse, "stage", "unknown — no runtime evidence")
	urgent := f.Immediate + f.OutOfCycle
	fv.Stages = append(fv.Stages, htmlFunnelStage{
		Key: "urgent", Label: "Immediate / out-of-cycle",
		Value: fmt.Sprintf("%s / %s", htmlThousands(f.Immediate), htmlThousands(f.OutOfCycle)),
		Share: htmlShare(urgent, f.Findings),
		Bars: []htmlFunnelBar{
			{Class: "immediate", Width: htmlWidth(f.Immediate, f.Findings), Title: htmlThousands(f.Immediate) + " immediate"},
			{Class: "out-of-cycle", Width: htmlWidth(f.OutOfCycle, f.Findings), Title: htmlThousands(f.OutOfCycle) + " out-of-cycle"},
		},
	})
	return fv
}

// htmlWidth is n's share of total as a CSS percentage; a stage that is not
// empty never draws narrower than a sliver.
func htmlWidth(n, total int) string {
	if n <= 0 || total <= 0 {
		return "0"
	}
	p := 100 * float64(n) / float64(total)
	if p < 0.6 {
		p = 0.6
	}
	if p > 100 {
		p = 100
	}
	return fmt.Sprintf("%.2f", p)
}

func htmlShare(n, total int) string {
	if total <= 0 {
		return ""
	}
	p := 100 * float64(n) / float64(total)
	switch {
	case p == 0 || p >= 10:
		return fmt.Sprintf("%.0f%%", p)
	case p < 0.1:
		return "<0.1%"
	default:
		return fmt.Sprintf("%.1f%%", p)
	}
}

// htmlTallyFunnel counts a funnel's tiers from the risks alone, for a
// document ranked without a summary funnel: unique findings by their most
// urgent unsuppressed tier.
func htmlTallyFunnel(risks []result.Risk) *result.RiskFunnel {
	type key struct{ img, vuln, pkg, ver string }
	best := map[key]string{}
	for _, r := range risks {
		k := key{r.Image, r.Vulnerability, r.Package.Name, r.Package.Version}
		t, seen := best[k]
		if r.Suppressed != nil {
			if !seen {
				best[k] = ""
			}
			continue
		}
		if t == "" || result.TierRank(r.Tier) < result.TierRank(t) {
			best[k] = r.Tier
		}
	}
	f := &result.RiskFunnel{Findings: len(best), Occurrences: len(risks)}
	for _, t := range best {
		switch t {
		case result.TierImmediate:
			f.Immediate++
		case result.TierOutOfCycle:
			f.OutOfCycle++
		case result.TierScheduled:
			f.Scheduled++
		case result.TierDefer:
			f.Defer++
		case "":
			f.Suppressed++
		}
	}
	return f
}
