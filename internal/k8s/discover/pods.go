package discover

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/workload"
)

// Caps on what one cluster's discovery records, so hostile or huge
// clusters cannot grow Problems without bound.
const (
	maxImageIDProblems = 200
	maxReasonLen       = 300
)

// generatedLabels are set per pod by controllers; they are dropped from
// Workload.Labels (the template's labels) but kept in PodInfo.Labels.
var generatedLabels = map[string]bool{
	"pod-template-hash":                        true,
	"controller-revision-hash":                 true,
	"pod-template-generation":                  true,
	"statefulset.kubernetes.io/pod-name":       true,
	"apps.kubernetes.io/pod-index":             true,
	"controller-uid":                           true,
	"job-name":                                 true,
	"batch.kubernetes.io/controller-uid":       true,
	"batch.kubernetes.io/job-name":             true,
	"batch.kubernetes.io/job-completion-index": true,
}

// Container types.
const (
	TypeContainer = "container"
	TypeInit      = "init"
	TypeEphemeral = "ephemeral"
)

type containerKey struct{ typ, name, image, digest, imageID string }

type workloadAgg struct {
	w          workload.Workload
	nodes      map[string]struct{}
	containers map[containerKey]int // index into w.Containers
}

type unresolvedKey struct {
	wl     WorkloadKey
	reason string
}

type unresolvedAgg struct{ pods, containers int }

type resolution struct{ repo, digest, reason string }

// builder reduces pods, page by page, to workloads.
type builder struct {
	ctx     context.Context
	client  k8s.ClusterClient
	opts    Options
	owners  *ownerIndex
	saPull  map[string][]string
	seen    map[types.UID]struct{}
	wls     map[WorkloadKey]*workloadAgg
	pods    map[WorkloadKey]*PodInfo
	digests map[string]struct{}
	funnel  workload.Funnel

	unresolved map[unresolvedKey]*unresolvedAgg
	keychains  *Keychains
	resolved   map[string]resolution
}

func newBuilder(ctx context.Context, c k8s.ClusterClient, opts Options, owners *ownerIndex, saPull map[string][]string, keychains *Keychains) *builder {
	if owners == nil {
		owners = &ownerIndex{}
	}
	return &builder{
		ctx: ctx, client: c, opts: opts, owners: owners, saPull: saPull,
		seen:       map[types.UID]struct{}{},
		wls:        map[WorkloadKey]*workloadAgg{},
		pods:       map[WorkloadKey]*PodInfo{},
		digests:    map[string]struct{}{},
		unresolved: map[unresolvedKey]*unresolvedAgg{},
		keychains:  keychains,
		resolved:   map[string]resolution{},
	}
}

// addPod folds one pod into its workload. It copies what it keeps, so the
// page the pod came from can be freed.
func (b *builder) addPod(p *corev1.Pod) {
	if p.UID != "" {
		if _, dup := b.seen[p.UID]; dup {
			return // seen before a list restart
		}
		b.seen[p.UID] = struct{}{}
	}
	o := b.owners.top(p.Namespace, p.Name, p.OwnerReferences)
	key := WorkloadKey{Cluster: b.client.Name, Namespace: p.Namespace, Kind: o.kind, Name: o.name}
	agg := b.wls[key]
	if agg == nil {
		sa := p.Spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		agg = &workloadAgg{
			w: workload.Workload{Cluster: key.Cluster, Namespace: key.Namespace, Kind: key.Kind, Name: key.Name,
				Labels: templateLabels(p.Labels), ServiceAccount: sa, Containers: []workload.Container{}},
			nodes:      map[string]struct{}{},
			containers: map[containerKey]int{},
		}
		b.wls[key] = agg
		spec := p.Spec // a copy: the page's backing array is not retained
		b.pods[key] = &PodInfo{Namespace: p.Namespace, Labels: p.Labels, Spec: &spec}
	}
	agg.w.Pods++
	if p.UID != "" {
		agg.w.PodUIDs = append(agg.w.PodUIDs, string(p.UID))
	}
	b.funnel.Pods++
	if p.Spec.NodeName != "" {
		agg.nodes[p.Spec.NodeName] = struct{}{}
	}

	secrets := b.pullSecretNames(p)
	podReasons := map[string]bool{}
	add := func(typ string, c *corev1.Container, statuses []corev1.ContainerStatus) {
		b.funnel.Containers++
		st := findStatus(statuses, c.Name)
		r := b.resolve(p, c.Image, st, secrets)
		imageID := ""
		if st != nil {
			imageID = st.ImageID
		}
		if r.digest == "" {
			b.funnel.Unresolved++
			u := unresolvedKey{key, r.reason}
			if b.unresolved[u] == nil {
				b.unresolved[u] = &unresolvedAgg{}
			}
			b.unresolved[u].containers++
			if !podReasons[r.reason] {
				podReasons[r.reason] = true
				b.unresolved[u].pods++
			}
		} else {
			b.digests[r.digest] = struct{}{}
			imageID = "" // the digest identifies it; keep keys small
		}
		ck := containerKey{typ, c.Name, c.Image, r.digest, imageID}
		if _, ok := agg.containers[ck]; ok {
			return
		}
		var rawID string
		if st != nil {
			rawID = st.ImageID
		}
		agg.containers[ck] = len(agg.w.Containers)
		agg.w.Containers = append(agg.w.Containers, workload.Container{
			Name: c.Name, Type: typ, Image: c.Image, ImageID: rawID,
			Digest: r.digest, Repository: r.repo, Ports: ports(c.Ports), PullSecrets: secrets,
		})
	}
	for i := range p.Spec.InitContainers {
		add(TypeInit, &p.Spec.InitContainers[i], p.Status.InitContainerStatuses)
	}
	for i := range p.Spec.Containers {
		add(TypeContainer, &p.Spec.Containers[i], p.Status.ContainerStatuses)
	}
	for i := range p.Spec.EphemeralContainers {
		c := corev1.Container(p.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		add(TypeEphemeral, &c, p.Status.EphemeralContainerStatuses)
	}
}

// pullSecretNames are the pod's imagePullSecrets then its service
// account's, deduplicated.
func (b *builder) pullSecretNames(p *corev1.Pod) []string {
	var out []string
	seen := map[string]bool{}
	addName := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, r := range p.Spec.ImagePullSecrets {
		addName(r.Name)
	}
	sa := p.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	for _, n := range b.saPull[p.Namespace+"/"+sa] {
		addName(n)
	}
	return out
}

func findStatus(statuses []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i]
		}
	}
	return nil
}

// resolve finds the digest a container runs, or why it is unknown.
func (b *builder) resolve(p *corev1.Pod, image string, st *corev1.ContainerStatus, secrets []string) resolution {
	switch {
	case st == nil && p.Status.Phase == "":
		return resolution{reason: "pod has no status"}
	case st == nil:
		return resolution{reason: fmt.Sprintf("no container status yet (pod %s)", p.Status.Phase)}
	case st.ImageID == "" && st.State.Waiting != nil && st.State.Waiting.Reason != "":
		return resolution{reason: "no imageID: waiting (" + clip(st.State.Waiting.Reason, 64) + ")"}
	case st.ImageID == "":
		return resolution{reason: "no imageID reported"}
	}
	id, err := ParseImageID(st.ImageID)
	if err != nil {
		return resolution{reason: clip(err.Error(), maxReasonLen)}
	}
	if id.Digest != "" {
		return resolution{repo: id.Repository, digest: id.Digest}
	}
	if b.opts.NoRegistry {
		return resolution{reason: "sha256-only imageID (config digest); registry lookups disabled"}
	}
	rkey := image + "\x00" + id.ConfigID + "\x00" + p.Namespace + "\x00" + strings.Join(secrets, "\x00")
	if r, ok := b.resolved[rkey]; ok {
		return r
	}
	ropts := b.opts.Registry
	if kc := b.keychains.For(b.ctx, b.client.Name, p.Namespace, secrets); kc != nil {
		if ropts.Keychain != nil {
			kc = authn.NewMultiKeychain(kc, ropts.Keychain)
		}
		ropts.Keychain = kc
	}
	res, err := registry.ResolveConfigDigest(b.ctx, image, id.ConfigID, ropts)
	repo, _, _ := strings.Cut(res.Reference, "@")
	r := resolution{repo: repo, digest: res.Digest}
	if err != nil {
		r = resolution{reason: clip("sha256-only imageID not resolved against the registry: "+err.Error(), maxReasonLen)}
		b.keychains.NotPulled(b.ctx, b.client.Name, p.Namespace, secrets)
	}
	b.resolved[rkey] = r
	return r
}

// finish writes the workloads, funnel and problems into d.
func (b *builder) finish(d *Discovery) {
	keys := make([]WorkloadKey, 0, len(b.wls))
	for k := range b.wls {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		if a.Namespace != c.Namespace {
			return a.Namespace < c.Namespace
		}
		if a.Kind != c.Kind {
			return a.Kind < c.Kind
		}
		return a.Name < c.Name
	})
	d.Workloads = make([]workload.Workload, 0, len(keys))
	for _, k := range keys {
		agg := b.wls[k]
		w := agg.w
		for n := range agg.nodes {
			w.Nodes = append(w.Nodes, n)
		}
		sort.Strings(w.Nodes)
		w.Containers = pruneUnresolved(w.Containers)
		if ns, ok := d.Namespaces[w.Namespace]; ok {
			w.NamespaceLabels = ns.Labels
		}
		d.Workloads = append(d.Workloads, w)
	}
	for k, pi := range b.pods {
		d.Pods[k] = pi
	}
	b.funnel.Digests = len(b.digests)
	d.Funnel = b.funnel
	d.Problems = append(d.Problems, b.unresolvedProblems()...)
}

// pruneUnresolved drops an unresolved entry when the same container (type,
// name, image) also has a resolved one: some pods of the workload are not
// running yet, and they are already counted in the funnel and Problems.
func pruneUnresolved(cs []workload.Container) []workload.Container {
	resolved := map[[3]string]bool{}
	for _, c := range cs {
		if c.Digest != "" {
			resolved[[3]string{c.Type, c.Name, c.Image}] = true
		}
	}
	out := cs[:0]
	for _, c := range cs {
		if c.Digest == "" && resolved[[3]string{c.Type, c.Name, c.Image}] {
			continue
		}
		out = append(out, c)
	}
	return out
}

// unresolvedProblems turns the unresolved counts into one Problem per
// workload and reason, capped.
func (b *builder) unresolvedProblems() []workload.Problem {
	keys := make([]unresolvedKey, 0, len(b.unresolved))
	for k := range b.unresolved {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		if a.wl != c.wl {
			return fmt.Sprint(a.wl) < fmt.Sprint(c.wl)
		}
		return a.reason < c.reason
	})
	var out []workload.Problem
	for i, k := range keys {
		if i == maxImageIDProblems {
			out = append(out, workload.Problem{Cluster: b.client.Name, Kind: ProblemImageID,
				Reason: fmt.Sprintf("… and %d more workloads/reasons with unresolved containers", len(keys)-i)})
			break
		}
		u := b.unresolved[k]
		out = append(out, workload.Problem{Cluster: b.client.Name, Kind: ProblemImageID, Reason: fmt.Sprintf(
			"%s %s/%s: %d container(s) in %d pod(s) unresolved: %s", k.wl.Kind, k.wl.Namespace, k.wl.Name, u.containers, u.pods, k.reason)})
	}
	return out
}

func templateLabels(l map[string]string) map[string]string {
	if len(l) == 0 {
		return nil
	}
	out := make(map[string]string, len(l))
	for k, v := range l {
		if !generatedLabels[k] {
			out[k] = v
		}
	}
	return out
}

func ports(ps []corev1.ContainerPort) []workload.Port {
	if len(ps) == 0 {
		return nil
	}
	out := make([]workload.Port, 0, len(ps))
	for _, p := range ps {
		out = append(out, workload.Port{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: string(p.Protocol)})
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
