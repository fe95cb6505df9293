package risk

import (
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// placeView is what the ranking derives from where an image runs — one
// workload (or none, for image scans) and the image's names — once per
// workload and digest: System Exposure before runtime evidence, Human
// Impact before the finding's technical impact, and their phrases.
type placeView struct {
	// workload is "Kind/Name", empty for image scans.
	workload      string
	exposureLevel string
	exposurePaths []string
	exposure      *result.Input
	// impact is the Human Impact before technical impact lowers it; its
	// class the sensitivity class it came from; lowered the same one step
	// down for a finding of partial technical impact, by the source of
	// that impact (made once, shared).
	impact  *result.Input
	lowered map[string]*result.Input
	class   string
	// critical is set when the namespace is critical (and why).
	critical       bool
	criticalReason string
	// rule is the policy rule that matched, if any.
	rule *Rule
	// facts are the place's facts every entry there shares (setFacts).
	facts *result.PlaceFacts
	// reasons in the order they are told.
	exposureReason string
	impactReasons  []string
	ruleReason     string
}

// dangerousCaps give a container the node (takeover) or other processes
// (lateral) when added.
var (
	takeoverCaps = []string{"ALL", "SYS_ADMIN", "SYS_MODULE"}
	lateralCaps  = []string{"SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH", "DAC_OVERRIDE", "NET_ADMIN", "BPF", "PERFMON", "SYS_BOOT"}
)

// classify sorts a workload's sensitivity into a class, with the
// phrases that put it there. Unknown parts (RBAC or service accounts that
// could not be read) make it at least lateral: a sensitivity that could
// not be read is never taken as harmless.
func classify(s *workload.Sensitivity) (class string, basis []string, assumed bool) {
	if s == nil {
		return ClassTakeover, []string{"sensitivity could not be evaluated"}, true
	}
	var take, lat, foot []string
	add := func(list *[]string, on bool, phrase string) {
		if on {
			*list = append(*list, phrase)
		}
	}
	add(&take, s.Privileged, "privileged container")
	for _, p := range s.SensitiveHostPaths {
		take = append(take, "hostPath "+p)
	}
	for _, c := range s.AddedCapabilities {
		switch {
		case slices.Contains(takeoverCaps, c):
			take = append(take, "adds capability "+c)
		case slices.Contains(lateralCaps, c):
			lat = append(lat, "adds capability "+c)
		default:
			foot = append(foot, "adds capability "+c)
		}
	}
	if r := s.RBAC; r != nil {
		add(&take, r.ClusterAdmin, "service account has cluster-admin")
		add(&take, r.EscalateOrBind && !r.ClusterAdmin, "service account can escalate or bind roles")
		add(&take, r.Impersonate && !r.ClusterAdmin, "service account can impersonate")
		if r.ReadSecrets && !r.ClusterAdmin {
			lat = append(lat, "service account can read secrets ("+strings.Join(r.ReadSecretsScope, ", ")+")")
		}
		add(&lat, r.CreatePods && !r.ClusterAdmin, "service account can create pods")
		add(&lat, r.ExecPods && !r.ClusterAdmin, "service account can exec into pods")
	}
	for _, id := range s.CloudIdentity {
		lat = append(lat, "cloud identity "+id)
	}
	add(&lat, s.HostPID, "shares the host PID namespace")
	add(&lat, s.HostNetwork, "shares the host network")
	add(&lat, s.HostIPC, "shares the host IPC namespace")
	add(&foot, len(s.SecretVolumes)+len(s.SecretEnv) > 0, "mounts secrets")
	add(&foot, s.ServiceAccountToken, "service-account token mounted")
	add(&foot, s.RunsAsRoot, "runs as root")
	add(&foot, s.MayRunAsRoot && !s.RunsAsRoot, "may run as root")
	add(&foot, s.AllowPrivilegeEscalation, "privilege escalation allowed")
	add(&foot, len(s.HostPaths) > len(s.SensitiveHostPaths), "mounts host paths")
	var unknown []string
	unknown = append(unknown, s.Unknown...)
	if s.RBAC != nil {
		unknown = append(unknown, s.RBAC.Unknown...)
	}
	switch {
	case len(take) > 0:
		return ClassTakeover, take, false
	case len(lat) > 0:
		return ClassLateral, lat, false
	case len(unknown) > 0:
		return ClassLateral, append([]string{"not evaluated: " + strings.Join(unknown, "; ")}, foot...), true
	case len(foot) > 0:
		return ClassFoothold, foot, false
	}
	return ClassContained, []string{"no privileges, host access, secrets or token"}, false
}

// viewPlace derives the inputs of workload w (nil for an image scan)
// running an image known by names (its repository first).
func (r *ranker) viewPlace(w *result.Workload, names []string) *placeView {
	v := &placeView{}
	cluster, namespace := "", ""
	if w != nil {
		cluster, namespace, v.workload = w.Cluster, w.Namespace, w.Kind+"/"+w.Name
	}
	for i := range r.policy.Rules {
		if r.policy.Rules[i].matches(cluster, namespace, names...) {
			v.rule = &r.policy.Rules[i]
			break
		}
	}
	r.exposureOf(v, w)
	r.impactOf(v, w)
	if v.rule != nil {
		rule := v.rule
		where := r.policy.where("rule " + ruleName(rule))
		basis := []string{where}
		if rule.Reason != "" {
			basis = append(basis, rule.Reason)
		}
		if rule.SystemExposure != "" {
			v.exposure = &result.Input{Value: rule.SystemExposure, Source: result.SourcePolicy, Basis: basis}
		}
		if rule.HumanImpact != "" {
			v.impact = &result.Input{Value: rule.HumanImpact, Source: result.SourcePolicy, Basis: basis}
		}
		v.ruleReason = where
		if rule.Reason != "" {
			v.ruleReason += ": " + rule.Reason
		}
	}
	return v
}

func ruleName(r *Rule) string {
	var parts []string
	for _, p := range []struct{ k, v string }{{"cluster", r.Cluster}, {"namespace", r.Namespace}, {"image", r.Image}} {
		if p.v != "" {
			parts = append(parts, p.k+"="+p.v)
		}
	}
	if len(parts) == 0 {
		return "(all)"
	}
	return strings.Join(parts, " ")
}

// exposureOf sets System Exposure from the workload's exposure level.
func (r *ranker) exposureOf(v *placeView, w *result.Workload) {
	switch {
	case w == nil:
		v.exposureLevel = workload.ExposureUnknown
		v.exposure = &result.Input{Value: r.policy.exposureFor(workload.ExposureUnknown), Source: result.SourceAssumed,
			Basis: []string{"no workload known (image scan): exposure unknown"}}
		v.exposureReason = "exposure unknown (no workload): taken as " + v.exposure.Value
		return
	case w.Exposure == nil:
		v.exposureLevel = workload.ExposureUnknown
		v.exposure = &result.Input{Value: r.policy.exposureFor(workload.ExposureUnknown), Source: result.SourceAssumed,
			Basis: []string{"the workload's exposure could not be evaluated"}}
		v.exposureReason = "exposure not evaluated: taken as " + v.exposure.Value
		return
	}
	e := w.Exposure
	v.exposureLevel, v.exposurePaths = e.Level, e.Paths
	basis := []string{"exposure " + e.Level}
	basis = append(basis, e.Paths...)
	for _, np := range e.NetworkPolicies {
		basis = append(basis, "NetworkPolicy "+np)
	}
	for _, u := range e.Unknown {
		basis = append(basis, "not evaluated: "+u)
	}
	v.exposure = &result.Input{Value: r.policy.exposureFor(e.Level), Source: result.SourceWorkload, Basis: basis}
	switch {
	case len(e.Paths) > 0:
		v.exposureReason = e.Level + ": " + e.Paths[0]
		if n := len(e.Paths) - 1; n > 0 {
			v.exposureReason += " (+" + itoa(n) + " more)"
		}
	case len(e.NetworkPolicies) > 0:
		v.exposureReason = e.Level + ": ingress restricted by NetworkPolicy " + strings.Join(e.NetworkPolicies, ", ")
	case len(e.Unknown) > 0:
		v.exposureReason = e.Level + ": " + strings.Join(e.Unknown, "; ")
	default:
		v.exposureReason = e.Level
	}
}

// impactOf sets Human Impact from the workload's sensitivity class and
// the namespace's criticality.
func (r *ranker) impactOf(v *placeView, w *result.Workload) {
	if w == nil {
		v.class = ClassFoothold
		v.impact = &result.Input{Value: r.policy.impactFor(ClassFoothold), Source: result.SourceAssumed,
			Basis: []string{"no workload known (image scan): taken as class " + ClassFoothold}}
		return
	}
	class, basis, assumed := classify(w.Sensitivity)
	v.class = class
	src := result.SourceWorkload
	if assumed {
		src = result.SourceAssumed
	}
	v.impact = &result.Input{Value: r.policy.impactFor(class), Source: src, Basis: append([]string{"class " + class}, basis...)}
	v.impactReasons = basis
	if len(v.impactReasons) > 2 {
		v.impactReasons = v.impactReasons[:2]
	}
	if class == ClassContained {
		v.impactReasons = nil
	}
	switch {
	case w.Sensitivity != nil && w.Sensitivity.CriticalNamespace:
		v.critical, v.criticalReason = true, "critical namespace "+w.Namespace
	case v.rule != nil && v.rule.Critical:
		v.critical, v.criticalReason = true, "critical namespace "+w.Namespace+" ("+r.policy.where("rule "+ruleName(v.rule))+")"
	default:
		if by, ok := r.policy.critical(w.Namespace, w.NamespaceLabels); ok {
			v.critical, v.criticalReason = true, "critical namespace "+w.Namespace+" ("+by+")"
		}
	}
	if v.critical {
		v.impact.Value = step(HumanImpactValues, v.impact.Value, +1)
		v.impact.Basis = append(v.impact.Basis, v.criticalReason+": one step up")
	}
}

// step moves value by d places in values, staying inside it.
func step(values []string, value string, d int) string {
	i := slices.Index(values, value) + d
	i = max(0, min(i, len(values)-1))
	return values[i]
}

// impactPartial is the Human Impact for a finding whose technical impact
// (from source) is partial: one step down, unless the policy set it.
func (v *placeView) impactPartial(source string) *result.Input {
	if v.impact.Source == result.SourcePolicy {
		return v.impact
	}
	if in := v.lowered[source]; in != nil {
		return in
	}
	in := &result.Input{Value: step(HumanImpactValues, v.impact.Value, -1), Source: v.impact.Source,
		Basis: append(append([]string(nil), v.impact.Basis...), "technical impact partial ("+source+"): one step down")}
	if v.lowered == nil {
		v.lowered = map[string]*result.Input{}
	}
	v.lowered[source] = in
	return in
}

// setFacts records the place's facts: the workload's (nil for an image
// scan) and the image's containers in it and owner.
func (v *placeView) setFacts(w *result.Workload, containers []string, owner, why string) {
	f := &result.PlaceFacts{Exposure: v.exposureLevel, CriticalNamespace: v.critical, Containers: containers, Owner: owner, OwnerReason: why}
	if w != nil {
		f.Replicas = w.Pods
		if w.Exposure != nil {
			f.ExposurePaths = w.Exposure.Paths
		}
		if w.Sensitivity != nil {
			f.Sensitivity = w.Sensitivity.Reasons
		}
	}
	v.facts = f
}
