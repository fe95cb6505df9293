package risk

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

var (
	exploitations = []string{"none", "poc", "active"}
	exposures     = []string{"isolated", "cluster", "internet"}
	classOrder    = []string{ClassContained, ClassFoothold, ClassLateral, ClassTakeover}
)

func randomFacts(r *rand.Rand) facts {
	f := facts{
		exploitation: exploitations[r.IntN(3)],
		automatable:  []string{"yes", "no"}[r.IntN(2)],
		impact:       []string{"total", "partial"}[r.IntN(2)],
		exposure:     exposures[r.IntN(3)],
		class:        classOrder[r.IntN(4)],
		critical:     r.IntN(2) == 0,
		epss:         -1,
		cvss:         float64(r.IntN(100)) / 10,
	}
	if r.IntN(2) == 0 {
		f.epss = r.Float64()
	}
	return f
}

// TestMoreNeverLowersTheScore: more exposure, more sensitivity, a
// critical namespace or a KEV listing never lower a score or make a tier
// less urgent.
func TestMoreNeverLowersTheScore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	raise := map[string]func(f facts) (facts, bool){
		"exposure": func(f facts) (facts, bool) {
			i := slices.Index(exposures, f.exposure)
			if i == len(exposures)-1 {
				return f, false
			}
			f.exposure = exposures[i+1]
			return f, true
		},
		"sensitivity": func(f facts) (facts, bool) {
			i := slices.Index(classOrder, f.class)
			if i == len(classOrder)-1 {
				return f, false
			}
			f.class = classOrder[i+1]
			return f, true
		},
		"critical namespace": func(f facts) (facts, bool) { ok := !f.critical; f.critical = true; return f, ok },
		"KEV":                func(f facts) (facts, bool) { ok := !f.kev; f.kev = true; return f, ok },
	}
	for range 300 {
		base := randomFacts(r)
		b := rankOne(t, base, Options{})
		for name, up := range raise {
			more, ok := up(base)
			if !ok {
				continue
			}
			m := rankOne(t, more, Options{})
			if m.Score < b.Score {
				t.Errorf("%s lowered the score %.1f → %.1f: %+v", name, b.Score, m.Score, base)
			}
			if result.TierRank(m.Tier) > result.TierRank(b.Tier) {
				t.Errorf("%s made the tier less urgent %s → %s: %+v", name, b.Tier, m.Tier, base)
			}
		}
	}
}

func TestScoreNeverZeroWithoutEPSS(t *testing.T) {
	f := facts{exploitation: "none", automatable: "no", impact: "partial", exposure: "isolated", class: ClassContained, epss: -1, cvss: 2.0}
	e := rankOne(t, f, Options{})
	if e.Score <= 0 {
		t.Fatalf("score %.1f without EPSS", e.Score)
	}
	f.cvss = 9.8
	if c := rankOne(t, f, Options{}); c.Score <= e.Score+10 {
		t.Errorf("a 9.8 without EPSS scores %.1f, barely above a 2.0's %.1f", c.Score, e.Score)
	}
	if e.Score > 100 || rankOne(t, facts{exploitation: "active", kev: true, automatable: "yes", impact: "total", exposure: "internet", class: ClassTakeover, epss: 1, cvss: 10}, Options{}).Score > 100 {
		t.Error("score above 100")
	}
}

func observed(state string, complete bool) func(*result.Workload, string, match.PackageRef) result.Runtime {
	return observedFor(state, complete, 48*time.Hour)
}

func observedFor(state string, complete bool, d time.Duration) func(*result.Workload, string, match.PackageRef) result.Runtime {
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	return func(*result.Workload, string, match.PackageRef) result.Runtime {
		return result.Runtime{State: state, Window: &result.Window{Start: start, End: start.Add(d), Complete: complete}}
	}
}

// TestRuntimeEvidenceLowersExposureButKeepsTheFinding: SSVC's
// "present but not reachable" is small exposure; a partial window proves
// nothing.
func TestRuntimeEvidenceLowersExposureButKeepsTheFinding(t *testing.T) {
	f := facts{exploitation: "active", kev: true, automatable: "yes", impact: "total", exposure: "internet", class: ClassTakeover, epss: 0.9}
	unknown := rankOne(t, f, Options{})
	if unknown.Tier != result.TierImmediate || unknown.Runtime.State != result.RuntimeUnknown {
		t.Fatalf("baseline %s/%s, want immediate/unknown", unknown.Tier, unknown.Runtime.State)
	}
	unused := rankOne(t, f, Options{Runtime: observed(result.RuntimeNotObserved, true)})
	if unused.Decision.SystemExposure.Value != "small" || unused.Decision.SystemExposure.Source != result.SourceRuntime {
		t.Errorf("not observed over a complete window: exposure %+v, want small from runtime", unused.Decision.SystemExposure)
	}
	if unused.Tier == result.TierImmediate || unused.Score >= unknown.Score || unused.Suppressed != nil {
		t.Errorf("unused: tier %s score %.1f suppressed %v; want lower than %.1f and kept", unused.Tier, unused.Score, unused.Suppressed, unknown.Score)
	}
	partial := rankOne(t, f, Options{Runtime: observed(result.RuntimeNotObserved, false)})
	if partial.Decision.SystemExposure.Value != "open" || partial.Tier != result.TierImmediate {
		t.Errorf("partial window changed the decision: %+v", partial.Decision.SystemExposure)
	}
	short := rankOne(t, f, Options{Runtime: observedFor(result.RuntimeNotObserved, true, 6*time.Hour)})
	if short.Decision.SystemExposure.Value != "open" || !strings.Contains(strings.Join(short.Reasons, "|"), "watched only 6h0m0s") {
		t.Errorf("6 h, less than the 24 h minimum, changed the decision: %+v %q", short.Decision.SystemExposure, short.Reasons)
	}
	policy := &Policy{MinObservation: "1h"}
	if err := policy.check(); err != nil {
		t.Fatal(err)
	}
	if e := rankOne(t, f, Options{Policy: policy, Runtime: observedFor(result.RuntimeNotObserved, true, 6*time.Hour)}); e.Decision.SystemExposure.Value != "small" {
		t.Errorf("a policy minimum of 1 h should let 6 h prove it: %+v", e.Decision.SystemExposure)
	}
	loaded := rankOne(t, f, Options{Runtime: observed(result.RuntimeLoaded, true)})
	if loaded.Score <= unknown.Score || !strings.Contains(strings.Join(loaded.Reasons, "|"), "runtime: loaded") {
		t.Errorf("loaded: score %.1f (unknown %.1f), reasons %q", loaded.Score, unknown.Score, loaded.Reasons)
	}
}

func TestReasonsSayWhatDecided(t *testing.T) {
	f := facts{exploitation: "active", kev: true, automatable: "yes", impact: "total", exposure: "internet", class: ClassTakeover, critical: true, epss: 0.5, cvss: 9.8}
	e := rankOne(t, f, Options{})
	all := strings.Join(e.Reasons, "\n")
	for _, want := range []string{"KEV: actively exploited (listed 2024-08-01)", "CISA SSVC 2024-07-09: exploitation active, automatable, technical impact total",
		"internet: Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080", "service account has cluster-admin",
		"critical namespace shop", "HIGH 9.8", "fix: libssl3 3.0.15-1~deb12u1"} {
		if !strings.Contains(all, want) {
			t.Errorf("reasons lack %q:\n%s", want, all)
		}
	}
	if !strings.HasPrefix(e.Reasons[0], "KEV") {
		t.Errorf("first reason %q, want the exploitation", e.Reasons[0])
	}
}

func TestImageScanEntriesHaveUnknownExposure(t *testing.T) {
	fd := facts{exploitation: "active", kev: true, automatable: "yes", impact: "total", epss: -1}.finding()
	img := &result.Image{Target: image.Descriptor{Reference: "nginx:1.25", Digest: digestA}, Status: result.StatusScanned, Findings: []match.Finding{fd}}
	doc := result.New(result.NewHeader("scan image", "test", nil), []*result.Image{img}, nil, nil)
	if err := Rank(doc, Options{}); err != nil {
		t.Fatal(err)
	}
	if len(doc.Risks) != 1 {
		t.Fatalf("%d risks", len(doc.Risks))
	}
	e := doc.Risks[0]
	if e.Workload != "" || e.Cluster != "" || e.Facts.Exposure != "unknown" || e.Decision.SystemExposure.Source != result.SourceAssumed {
		t.Errorf("image entry: %+v", e)
	}
	f := doc.Summary.Risk
	if f == nil || f.Findings != 1 || f.Running != nil || f.Reachable != nil || f.InUse != nil || f.OutOfCycle+f.Immediate+f.Scheduled+f.Defer != 1 {
		t.Errorf("image funnel %+v", f)
	}
	if len(doc.Remediation) != 1 || doc.Remediation[0].Kind != result.ActionUpgrade || !strings.Contains(doc.Remediation[0].Text, "docker.io/library/nginx") {
		t.Errorf("remediation %+v", doc.Remediation)
	}
}

func TestExplainShowsTheWholePath(t *testing.T) {
	doc := docOf(facts{exploitation: "active", kev: true, automatable: "yes", impact: "total", exposure: "internet", class: ClassTakeover, epss: 0.2, cvss: 9.8})
	if err := Rank(doc, Options{}); err != nil {
		t.Fatal(err)
	}
	e := doc.Risks[0]
	found := Find(doc, e.ID)
	if len(found) != 1 || Find(doc, e.ID[:6])[0] != found[0] || len(Find(doc, e.Vulnerability)) != 1 || len(Find(doc, "GHSA-xxxx-yyyy-zzzz")) != 1 {
		t.Fatalf("Find by id, prefix, vulnerability or alias failed")
	}
	var b bytes.Buffer
	if err := Explain(&b, found[0]); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{e.ID, "row 71", "Exploitation", "active", "cisa", "System Exposure", "open", "workload",
		"Human Impact", "very high", "class takeover", "path: exploitation active → system exposure open → automatable yes → human impact very high → immediate",
		"Score", "0.30×0.98 severity", "KEV", "Reasons:"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
}

// TestListeningJoinsTheServedPort: a package used by the process that
// listens on the port the workload's Service targets says so.
func TestListeningJoinsTheServedPort(t *testing.T) {
	f := facts{exploitation: "poc", automatable: "yes", impact: "total", exposure: "internet", class: ClassFoothold, epss: -1}
	listening := func(*result.Workload, string, match.PackageRef) result.Runtime {
		return result.Runtime{State: result.RuntimeListening, Ports: []string{"tcp/8080"}, Evidence: []string{"listening on tcp/8080 by pid 42"}}
	}
	e := rankOne(t, f, Options{Runtime: listening})
	want := "runtime: loaded by the process listening on 8080, the target port of Ingress shop/web (shop.example.com/) → Service shop/web:80 (listening on tcp/8080 by pid 42)"
	if !slices.Contains(e.Reasons, want) {
		t.Errorf("reasons %q lack %q", e.Reasons, want)
	}
	other := func(*result.Workload, string, match.PackageRef) result.Runtime {
		return result.Runtime{State: result.RuntimeListening, Ports: []string{"tcp/9090"}}
	}
	if e := rankOne(t, f, Options{Runtime: other}); !slices.Contains(e.Reasons, "runtime: loaded by the process listening on tcp/9090") {
		t.Errorf("an unexposed port: %q", e.Reasons)
	}
}
