package risk

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/runlens/runlens/internal/result"
)

// maxPolicyBytes bounds a policy file.
const maxPolicyBytes = 4 << 20

// Policy tunes the ranking: how workload facts map onto SSVC inputs,
// which namespaces are critical, per-namespace and per-image overrides,
// and accepted risks. The zero Policy is the defaults
// (docs/prioritization.md); LoadPolicy reads one from YAML.
type Policy struct {
	// CriticalNamespaces are namespace names (globs) or label selectors
	// ("env=prod"); a workload in a matching namespace is critical.
	CriticalNamespaces []string `json:"criticalNamespaces,omitempty"`
	// Exposure maps a workload's exposure level (internet, cluster,
	// isolated, unknown) onto SSVC System Exposure.
	Exposure map[string]string `json:"exposure,omitempty"`
	// HumanImpact maps a sensitivity class (takeover, lateral, foothold,
	// contained) onto SSVC Human Impact.
	HumanImpact map[string]string `json:"humanImpact,omitempty"`
	// Rules override the inputs of matching entries; the first rule that
	// matches sets each input it names.
	Rules []Rule `json:"rules,omitempty"`
	// Accept are accepted risks: matching entries are suppressed until
	// they expire.
	Accept []Acceptance `json:"accept,omitempty"`
	// MinObservation is how long a complete runtime window must be before
	// a package never seen in use counts as unused ("24h", the default;
	// "72h"): shorter windows neither lower System Exposure nor make
	// OpenVEX say not_affected.
	MinObservation string `json:"minObservation,omitempty"`

	// file is where the policy was read from, for reasons.
	file      string
	selectors []labels.Selector
	minWindow time.Duration
}

// MinWindow is the policy's minimum observation (0 means the default).
func (p *Policy) MinWindow() time.Duration {
	if p == nil {
		return 0
	}
	return p.minWindow
}

// Match selects entries by namespace and image (globs, path.Match
// syntax; "*" does not cross "/" so "registry.example.com/team/*" needs
// no "**") and by cluster. An empty field matches everything.
type Match struct {
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Image matches the image's repository ("registry/repo", Docker Hub as
	// docker.io/library/…) or its reference as named.
	Image string `json:"image,omitempty"`
}

// Rule sets decision inputs for the entries it matches.
type Rule struct {
	Match
	// SystemExposure and HumanImpact, when set, replace the derived values.
	SystemExposure string `json:"systemExposure,omitempty"`
	HumanImpact    string `json:"humanImpact,omitempty"`
	// Critical marks the matched workloads' namespaces critical.
	Critical bool `json:"critical,omitempty"`
	// Tier, when set, replaces the table's outcome (a decision the
	// organisation made for these workloads).
	Tier string `json:"tier,omitempty"`
	// Reason is shown with the entries it changes.
	Reason string `json:"reason,omitempty"`
}

// Acceptance is an accepted risk: a vulnerability (and optionally a
// package) set aside where Match matches, with a reason and an expiry.
type Acceptance struct {
	Match
	Vulnerability string `json:"vulnerability"`
	Package       string `json:"package,omitempty"`
	Reason        string `json:"reason"`
	// Expires is a date ("2027-03-01") or RFC 3339 time; required.
	Expires string `json:"expires"`

	expires time.Time
}

// Sensitivity classes of Human Impact (docs/prioritization.md).
const (
	ClassTakeover  = "takeover"  // the node or the cluster: privileged, host root, cluster-admin
	ClassLateral   = "lateral"   // other workloads, secrets or the cloud account
	ClassFoothold  = "foothold"  // the workload's own secrets, token or root
	ClassContained = "contained" // nothing beyond the process
)

// defaultExposure and defaultHumanImpact are the mappings without a policy.
var (
	defaultExposure    = map[string]string{"internet": "open", "cluster": "controlled", "isolated": "small", "unknown": "open"}
	defaultHumanImpact = map[string]string{ClassTakeover: "very high", ClassLateral: "high", ClassFoothold: "medium", ClassContained: "low"}
	classes            = []string{ClassTakeover, ClassLateral, ClassFoothold, ClassContained}
)

// LoadPolicy reads a policy file. Unknown keys, unknown values, bad
// selectors or globs and accepted risks without a reason or expiry are
// errors naming the file.
func LoadPolicy(file string) (*Policy, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", file, err)
	}
	if len(data) > maxPolicyBytes {
		return nil, fmt.Errorf("policy %s: larger than %d bytes", file, maxPolicyBytes)
	}
	var p Policy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("policy %s: %w", file, err)
	}
	p.file = file
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("policy %s: %w", file, err)
	}
	return &p, nil
}

// check validates p and prepares its selectors and dates.
func (p *Policy) check() error {
	var errs []error
	for k, v := range p.Exposure {
		if _, ok := defaultExposure[k]; !ok {
			errs = append(errs, fmt.Errorf("exposure: unknown level %q (want internet, cluster, isolated or unknown)", k))
		}
		if !slices.Contains(ExposureValues, v) {
			errs = append(errs, fmt.Errorf("exposure.%s: %q is not a System Exposure (want %s)", k, v, strings.Join(ExposureValues, ", ")))
		}
	}
	for k, v := range p.HumanImpact {
		if !slices.Contains(classes, k) {
			errs = append(errs, fmt.Errorf("humanImpact: unknown class %q (want %s)", k, strings.Join(classes, ", ")))
		}
		if !slices.Contains(HumanImpactValues, v) {
			errs = append(errs, fmt.Errorf("humanImpact.%s: %q is not a Human Impact (want %s)", k, v, strings.Join(HumanImpactValues, ", ")))
		}
	}
	if p.MinObservation != "" {
		d, err := time.ParseDuration(p.MinObservation)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("minObservation: %q is not a positive duration (24h, 72h)", p.MinObservation))
		}
		p.minWindow = d
	}
	p.selectors = nil
	for _, s := range p.CriticalNamespaces {
		if !strings.ContainsAny(s, "=!()") {
			if _, err := path.Match(s, ""); err != nil {
				errs = append(errs, fmt.Errorf("criticalNamespaces %q: %w", s, err))
			}
			continue
		}
		sel, err := labels.Parse(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("criticalNamespaces %q: %w", s, err))
			continue
		}
		p.selectors = append(p.selectors, sel)
	}
	for i, r := range p.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		errs = append(errs, r.Match.check(where))
		if r.SystemExposure != "" && !slices.Contains(ExposureValues, r.SystemExposure) {
			errs = append(errs, fmt.Errorf("%s.systemExposure: %q (want %s)", where, r.SystemExposure, strings.Join(ExposureValues, ", ")))
		}
		if r.HumanImpact != "" && !slices.Contains(HumanImpactValues, r.HumanImpact) {
			errs = append(errs, fmt.Errorf("%s.humanImpact: %q (want %s)", where, r.HumanImpact, strings.Join(HumanImpactValues, ", ")))
		}
		if r.Tier != "" && !slices.Contains(result.Tiers, r.Tier) {
			errs = append(errs, fmt.Errorf("%s.tier: %q (want %s)", where, r.Tier, strings.Join(result.Tiers, ", ")))
		}
		if r.SystemExposure == "" && r.HumanImpact == "" && !r.Critical && r.Tier == "" {
			errs = append(errs, fmt.Errorf("%s: sets nothing (want systemExposure, humanImpact, critical or tier)", where))
		}
	}
	for i := range p.Accept {
		a := &p.Accept[i]
		where := fmt.Sprintf("accept[%d]", i)
		errs = append(errs, a.Match.check(where))
		if a.Vulnerability == "" {
			errs = append(errs, fmt.Errorf("%s: vulnerability is required", where))
		}
		if strings.TrimSpace(a.Reason) == "" {
			errs = append(errs, fmt.Errorf("%s: reason is required", where))
		}
		t, err := parseExpiry(a.Expires)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.expires: %w", where, err))
		}
		a.expires = t
	}
	return errors.Join(errs...)
}

func (m Match) check(where string) error {
	for _, g := range []string{m.Cluster, m.Namespace, m.Image} {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("%s: glob %q: %w", where, g, err)
		}
	}
	return nil
}

// parseExpiry reads a date or an RFC 3339 time; a date expires at its end.
func parseExpiry(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("required: an accepted risk must expire (a date such as 2027-03-01)")
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2027-03-01) nor an RFC 3339 time", s)
	}
	return t, nil
}

// matches reports whether m selects an entry of cluster, namespace and
// image (its repository and its reference).
func (m Match) matches(cluster, namespace string, images ...string) bool {
	if !glob(m.Cluster, cluster) || !glob(m.Namespace, namespace) {
		return false
	}
	if m.Image == "" {
		return true
	}
	for _, img := range images {
		if img != "" && glob(m.Image, img) {
			return true
		}
	}
	return false
}

func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(pattern, s)
	return ok
}

// exposureFor maps a workload exposure level onto System Exposure.
func (p *Policy) exposureFor(level string) string {
	if v, ok := p.Exposure[level]; ok {
		return v
	}
	if v, ok := defaultExposure[level]; ok {
		return v
	}
	return defaultExposure["unknown"]
}

// impactFor maps a sensitivity class onto Human Impact.
func (p *Policy) impactFor(class string) string {
	if v, ok := p.HumanImpact[class]; ok {
		return v
	}
	return defaultHumanImpact[class]
}

// critical reports whether the policy makes namespace (with its labels)
// critical, and by which entry.
func (p *Policy) critical(namespace string, nsLabels map[string]string) (string, bool) {
	for _, s := range p.CriticalNamespaces {
		if !strings.ContainsAny(s, "=!()") && glob(s, namespace) {
			return s, true
		}
	}
	for _, sel := range p.selectors {
		if sel.Matches(labels.Set(nsLabels)) {
			return sel.String(), true
		}
	}
	return "", false
}

// where names a policy entry in reasons: "policy.yaml rules[2]".
func (p *Policy) where(entry string) string {
	if p.file == "" {
		return "policy " + entry
	}
	return "policy " + p.file + " " + entry
}
