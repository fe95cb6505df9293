package evidence

import (
	"fmt"
	"slices"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// Index answers, for a workload running an image, what the agents saw of
// one package: the ranking's runtime state. Build it with NewIndex.
type Index struct {
	// watched holds each pod's containers by digest: what an agent
	// watched, over which window.
	watched map[podDigest][]watch
	// seen holds the in-use records by pod, digest and package.
	seen map[podDigest]map[pkgKey][]*Record
}

type podDigest struct{ pod, digest string }

type pkgKey struct{ name, version string }

type watch struct {
	window result.Window
	agent  result.Window
}

// NewIndex indexes the documents of every node's agent.
func NewIndex(docs []*Document) *Index {
	ix := &Index{watched: map[podDigest][]watch{}, seen: map[podDigest]map[pkgKey][]*Record{}}
	for _, d := range docs {
		for _, c := range d.Containers {
			if c.PodUID == "" || c.Digest == "" {
				continue
			}
			k := podDigest{c.PodUID, c.Digest}
			ix.watched[k] = append(ix.watched[k], watch{window: c.Window, agent: d.Window})
		}
		for i := range d.Records {
			r := &d.Records[i]
			if r.PodUID == "" || !result.InUse(r.State) {
				continue
			}
			k := podDigest{r.PodUID, r.Digest}
			if ix.seen[k] == nil {
				ix.seen[k] = map[pkgKey][]*Record{}
			}
			pk := pkgKey{r.Package.Name, r.Package.Version}
			ix.seen[k][pk] = append(ix.seen[k][pk], r)
		}
	}
	return ix
}

// stateRank orders the in-use states, strongest first.
var stateRank = map[string]int{result.RuntimeExecuted: 0, result.RuntimeListening: 1, result.RuntimeLoaded: 2}

// Runtime is the runtime state of package p of image digest in workload
// w, over all of w's pods:
//
//   - in use (executed, listening, loaded — the strongest seen in any
//     pod), with the evidence of each record;
//   - not-observed when agents watched the image in the workload's pods
//     and never saw the package used; its window spans the shortest
//     watch, and is complete only when every pod running the workload was
//     watched completely (no drops, no gaps, agents up throughout);
//   - unknown when no agent watched any of its pods.
func (ix *Index) Runtime(w *result.Workload, digest string, p match.PackageRef) result.Runtime {
	var best *Record
	var evidence, ports []string
	watchedPods, pods := 0, len(w.PodUIDs)
	var window *result.Window
	var drops int64
	complete := true
	for _, uid := range w.PodUIDs {
		k := podDigest{uid, digest}
		for _, r := range ix.seen[k][pkgKey{p.Name, p.Version}] {
			if best == nil || stateRank[r.State] < stateRank[best.State] {
				best = r
			}
			evidence = append(evidence, describe(r))
			for _, p := range r.Ports {
				if !slices.Contains(ports, p) {
					ports = append(ports, p)
				}
			}
		}
		ws := ix.watched[k]
		if len(ws) == 0 {
			complete = false
			continue
		}
		watchedPods++
		for _, wt := range ws {
			if !wt.window.Complete || !wt.agent.Complete {
				complete = false
			}
			if window == nil || wt.window.End.Sub(wt.window.Start) < window.End.Sub(window.Start) {
				cp := wt.window
				window = &cp
			}
			drops += wt.window.Drops
		}
	}
	if window != nil {
		window.Drops = drops
	}
	if best != nil {
		rt := result.Runtime{State: best.State, Evidence: evidence, Ports: ports}
		if window != nil {
			rt.Window = window
		}
		return rt
	}
	if watchedPods == 0 || window == nil {
		return result.Runtime{State: result.RuntimeUnknown}
	}
	window.Complete = complete && watchedPods == pods
	rt := result.Runtime{State: result.RuntimeNotObserved, Window: window}
	if watchedPods < pods {
		rt.Evidence = []string{fmt.Sprintf("%d of %d pods watched", watchedPods, pods)}
	}
	return rt
}

// describe says one record in a line: "executed by pid 42 (/usr/bin/python3)
// in shop/web-7d9f…, last seen 2026-12-01T10:00:00Z".
func describe(r *Record) string {
	s := r.State
	switch {
	case len(r.Ports) > 0:
		s += " on " + r.Ports[0]
	case len(r.Symbols) > 0:
		s += ": " + r.Symbols[0]
	}
	if len(r.PIDs) > 0 {
		s += fmt.Sprintf(" by pid %d", r.PIDs[0])
	}
	if len(r.Files) > 0 {
		s += " (" + r.Files[0] + ")"
	}
	if r.PodName != "" {
		s += " in " + r.PodNamespace + "/" + r.PodName
	}
	if !r.LastSeen.IsZero() {
		s += ", last seen " + r.LastSeen.UTC().Format(time.RFC3339)
	}
	return s
}
