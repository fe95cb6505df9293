package risk

import (
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// findingKey names a unique finding: image digest × vulnerability ×
// package.
type findingKey struct{ digest, id, name, version, location string }

func keyOf(digest string, id string, p *findingPkg) findingKey {
	return findingKey{digest, id, p.Name, p.Version, p.Location}
}

// findingPkg is the part of a package that tells findings apart.
type findingPkg struct{ Name, Version, Location string }

// stage is what one unique finding reached in the funnel.
type stage struct {
	running, reachable, inUse bool
	occurrences               int
	// tier is its most urgent unsuppressed tier; "" when all are suppressed.
	tier string
}

// funnels sets doc.Summary.Risk and each cluster's funnel from the
// document's findings and its (ranked) risks.
func funnels(doc *result.Document) {
	total := newTally()
	perCluster := map[string]*tally{}
	for i := range doc.Summary.Clusters {
		perCluster[doc.Summary.Clusters[i].Name] = newTally()
	}
	withPlaces := len(doc.Workloads) > 0 || len(doc.Summary.Clusters) > 0
	runningIn := map[string]bool{}
	for _, img := range doc.Images {
		id := imageID(img)
		if id == "" {
			continue
		}
		if img.Running != nil {
			withPlaces = true
		}
		runningIn[id] = len(img.RunningIn) > 0
		for i := range img.Findings {
			f := &img.Findings[i]
			total.add(keyOf(id, f.ID, &findingPkg{f.Package.Name, f.Package.Version, f.Package.Location}))
		}
	}
	for i := range doc.Risks {
		e := &doc.Risks[i]
		k := keyOf(e.Image, e.Vulnerability, &findingPkg{e.Package.Name, e.Package.Version, e.Package.Location})
		running := e.Workload != "" || runningIn[e.Image]
		total.occur(k, e, running)
		if t := perCluster[e.Cluster]; e.Cluster != "" && t != nil {
			t.occur(k, e, running)
		}
	}
	doc.Summary.Risk = total.funnel(withPlaces)
	for i := range doc.Summary.Clusters {
		c := &doc.Summary.Clusters[i]
		c.Risk = perCluster[c.Name].funnel(true)
	}
}

// tally collects the stages of unique findings.
type tally struct {
	stages      map[findingKey]*stage
	order       []findingKey
	occurrences int
	runtimeSeen bool
}

func newTally() *tally { return &tally{stages: map[findingKey]*stage{}} }

func (t *tally) add(k findingKey) *stage {
	s := t.stages[k]
	if s == nil {
		s = &stage{}
		t.stages[k] = s
		t.order = append(t.order, k)
	}
	return s
}

// occur records one entry of finding k; running says its image runs.
func (t *tally) occur(k findingKey, e *result.Risk, running bool) {
	s := t.add(k)
	t.occurrences++
	s.occurrences++
	if running {
		s.running = true
		if e.Workload == "" || e.Facts.Exposure != workload.ExposureIsolated {
			s.reachable = true
			if result.InUse(e.Runtime.State) {
				s.inUse = true
			}
		}
	}
	if e.Runtime.State != result.RuntimeUnknown && e.Runtime.State != "" {
		t.runtimeSeen = true
	}
	if e.Suppressed == nil && (s.tier == "" || result.TierRank(e.Tier) < result.TierRank(s.tier)) {
		s.tier = e.Tier
	}
}

// funnel counts the stages; running and reachable are only known when
// workloads are (withPlaces), in-use only when some runtime evidence is.
func (t *tally) funnel(withPlaces bool) *result.RiskFunnel {
	f := &result.RiskFunnel{Findings: len(t.order), Occurrences: t.occurrences}
	var running, reachable, inUse int
	for _, k := range t.order {
		s := t.stages[k]
		if s.running {
			running++
		}
		if s.reachable {
			reachable++
		}
		if s.inUse {
			inUse++
		}
		switch s.tier {
		case result.TierImmediate:
			f.Immediate++
		case result.TierOutOfCycle:
			f.OutOfCycle++
		case result.TierScheduled:
			f.Scheduled++
		case result.TierDefer:
			f.Defer++
		default:
			if s.occurrences > 0 {
				f.Suppressed++
			}
		}
	}
	if withPlaces {
		f.Running, f.Reachable = &running, &reachable
	}
	if t.runtimeSeen {
		f.InUse = &inUse
	}
	return f
}
