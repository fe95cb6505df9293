package risk

import (
	"math"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// decide sets e's Decision, Tier, Score and Reasons from the finding's
// view, the place's view and e's runtime state.
func (r *ranker) decide(e *result.Risk, fv *findingView, place *placeView) {
	exposure := place.exposure
	var runtimeReason string
	switch rt := e.Runtime; {
	case rt.State == result.RuntimeNotObserved && rt.Window.Proves(r.policy.MinWindow()) && exposure.Source != result.SourcePolicy:
		// SSVC: a vulnerable component present but not reachable is
		// "small"; the finding stays, its priority drops.
		exposure = &result.Input{Value: "small", Source: result.SourceRuntime,
			Basis: append([]string{"not seen in use during " + windowText(rt.Window), "was " + exposure.Value + " (" + exposure.Source + ")"}, exposure.Basis...)}
		runtimeReason = "runtime: not loaded or executed during " + windowText(rt.Window)
	case result.InUse(rt.State):
		runtimeReason = "runtime: " + rt.State
		if exposed := servedPort(rt.Ports, place.exposurePaths); exposed != "" && rt.State == result.RuntimeListening {
			runtimeReason = "runtime: loaded by the process listening on " + exposed
		}
		if len(rt.Evidence) > 0 {
			runtimeReason += " (" + rt.Evidence[0] + ")"
		}
	case rt.State == result.RuntimeNotObserved && rt.Window != nil && rt.Window.Complete:
		runtimeReason = "runtime: not seen in use, but watched only " + windowText(rt.Window)
	case rt.State == result.RuntimeNotObserved:
		runtimeReason = "runtime: not seen in use, but " + windowText(rt.Window)
	}
	// Code reachability (code.go): vulnerable Go functions not linked.
	exposure, codeReason := codeExposure(exposure, fv.symbols)
	impact := place.impact
	if fv.technicalImpact.Value == "partial" {
		impact = place.impactPartial(fv.technicalImpact.Source)
	}
	d := result.Decision{
		Exploitation:   &fv.exploitation,
		SystemExposure: exposure,
		Automatable:    &fv.automatable,
		HumanImpact:    impact,
		Table:          DeployerTable,
	}
	row, ok := r.table.Decide(d.Exploitation.Value, d.SystemExposure.Value, d.Automatable.Value, d.HumanImpact.Value)
	if !ok {
		// Every input is one of the table's values by construction; an
		// unknown one is decided as the most urgent rather than lost.
		row = Row{Number: -1, Tier: result.TierImmediate}
	}
	d.Row, d.Outcome = row.Number, row.Tier
	e.Tier = row.Tier
	if place.rule != nil && place.rule.Tier != "" {
		e.Tier = place.rule.Tier
		d.Override = r.policy.where("rule " + ruleName(place.rule))
	}
	e.Decision = d
	e.Score = score(fv.severity, &d, e.Runtime, e.Facts.EPSS)
	// Known exploitation leads; without it, where the finding runs does.
	lead, late := fv.exploitReason, ""
	if d.Exploitation.Value == "none" {
		lead, late = "", fv.exploitReason
	}
	head := [4]string{lead, place.exposureReason, runtimeReason, codeReason}
	if src := d.SystemExposure.Source; src == result.SourceRuntime || src == result.SourceCode {
		// What lowered the exposure is said first: it decided.
		head = [4]string{runtimeReason + codeReason, lead, place.exposureReason, ""}
		if runtimeReason != "" && codeReason != "" {
			head = [4]string{runtimeReason, codeReason, lead, place.exposureReason}
		}
	}
	e.Reasons = reasons(head, place.impactReasons,
		[6]string{place.criticalReason, fv.severityReason, fv.assumedReason, late, fv.fixReason, place.ruleReason})
}

// Score weights (sum 1): severity, exploitation (with EPSS), system
// exposure, human impact, automatable and runtime evidence.
const (
	weightSeverity     = 0.30
	weightExploitation = 0.25
	weightExposure     = 0.15
	weightImpact       = 0.20
	weightAutomatable  = 0.05
	weightRuntime      = 0.05
)

var (
	exploitationLevel = map[string]float64{"none": 0, "public poc": 0.6, "active": 1}
	exposureLevel     = map[string]float64{"small": 0.1, "controlled": 0.5, "open": 1}
	impactLevel       = map[string]float64{"low": 0.15, "medium": 0.45, "high": 0.75, "very high": 1}
)

// runtimeLevel is the runtime component: in use counts most, unknown in
// between, unused over a window that proves it (the one that lowered
// System Exposure) least.
func runtimeLevel(rt result.Runtime, d *result.Decision) float64 {
	switch {
	case result.InUse(rt.State):
		return 1
	case d.SystemExposure.Source == result.SourceRuntime:
		return 0
	case rt.State == result.RuntimeNotObserved:
		return 0.5
	}
	return 0.6
}

// part is one weighted component of a score.
type part struct {
	name          string
	weight, value float64
}

// scoreParts are the components of a score. Each only grows with more
// exploitation, exposure, impact or severity, so more of any never
// lowers a score; severity always counts, so a finding without EPSS never
// scores 0.
func scoreParts(sev float64, d *result.Decision, rt result.Runtime, epss *match.EPSS) []part {
	exploit := exploitationLevel[d.Exploitation.Value]
	if epss != nil {
		exploit += (1 - exploit) * math.Max(0, math.Min(1, epss.Probability))
	}
	auto := 0.0
	if d.Automatable.Value == "yes" {
		auto = 1
	}
	return []part{
		{"severity", weightSeverity, sev},
		{"exploitation (with EPSS)", weightExploitation, exploit},
		{"system exposure", weightExposure, exposureLevel[d.SystemExposure.Value]},
		{"human impact", weightImpact, impactLevel[d.HumanImpact.Value]},
		{"automatable", weightAutomatable, auto},
		{"runtime evidence", weightRuntime, runtimeLevel(rt, d)},
	}
}

// score is the 0–100 order inside a tier: the weighted sum of its parts.
func score(sev float64, d *result.Decision, rt result.Runtime, epss *match.EPSS) float64 {
	s := 0.0
	for _, p := range scoreParts(sev, d, rt, epss) {
		s += p.weight * p.value
	}
	return math.Round(1000*s) / 10
}

// suppress applies VEX statements and accepted risks to e.
func (r *ranker) suppress(e *result.Risk, f *match.Finding, names []string) {
	if r.opts.VEX != nil {
		var repos []string
		for _, n := range names {
			if repo, ok := workload.Repository(n); ok && repo == n {
				repos = append(repos, n)
			}
		}
		q := VEXQuery{Vulnerability: f.ID, Aliases: f.Aliases, Digest: e.Image, Repositories: repos, PackagePURL: f.Package.PURL}
		if st := r.opts.VEX(q); st != nil {
			e.VEX = st
			switch st.Status {
			case result.VEXNotAffected, result.VEXFixed:
				reason := "VEX " + st.Status
				if st.Justification != "" {
					reason += ": " + st.Justification
				}
				e.Suppressed = &result.Suppression{By: "vex", Reason: reason + " (" + st.Document + ")"}
			default:
				e.Reasons = append(e.Reasons, "VEX "+st.Status+" ("+st.Document+")")
			}
		}
	}
	if e.Suppressed != nil {
		e.Reasons = append([]string{e.Suppressed.Reason}, e.Reasons...)
		return
	}
	for i := range r.policy.Accept {
		a := &r.policy.Accept[i]
		if !a.covers(e, f, names) {
			continue
		}
		where := r.policy.where("accept[" + itoa(i) + "]")
		if r.now.After(a.expires) {
			e.Reasons = append(e.Reasons, "accepted risk expired "+a.expires.Format("2006-01-02")+" ("+where+")")
			continue
		}
		e.Suppressed = &result.Suppression{By: "policy", Reason: "accepted risk: " + a.Reason, Rule: where, Expires: a.expires}
		e.Reasons = append([]string{e.Suppressed.Reason + " (until " + a.expires.Format("2006-01-02") + ")"}, e.Reasons...)
		return
	}
}

// covers reports whether acceptance a applies to entry e of finding f.
func (a *Acceptance) covers(e *result.Risk, f *match.Finding, names []string) bool {
	if !strings.EqualFold(a.Vulnerability, f.ID) && !containsFold(f.Aliases, a.Vulnerability) {
		return false
	}
	if a.Package != "" && a.Package != f.Package.Name && a.Package != f.Package.SourceName {
		return false
	}
	return a.Match.matches(e.Cluster, e.Namespace, names...)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// reasons lists the non-empty phrases of head, then middle, then those
// of tail, in one allocation (there is a list per entry).
func reasons(head [4]string, middle []string, tail [6]string) []string {
	n := len(middle)
	for _, p := range head {
		if p != "" {
			n++
		}
	}
	for _, p := range tail {
		if p != "" {
			n++
		}
	}
	out := make([]string, 0, n+1) // room for a suppression's reason
	out = appendNonEmpty(out, head[:])
	out = append(out, middle...)
	return appendNonEmpty(out, tail[:])
}

func appendNonEmpty(out, phrases []string) []string {
	for _, p := range phrases {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// servedPort joins the ports a process using the package listens on to
// the workload's exposure paths: "8080, the target port of Ingress
// shop/web (shop.example.com/) → Service shop/web:80", or "tcp/8080" when
// no path reaches it, "" without ports.
func servedPort(ports, paths []string) string {
	for _, port := range ports {
		_, n, _ := strings.Cut(port, "/")
		for _, p := range paths {
			if head, ok := strings.CutSuffix(p, " → pod port "+n); ok {
				return n + ", the target port of " + head
			}
		}
	}
	if len(ports) > 0 {
		return ports[0]
	}
	return ""
}
