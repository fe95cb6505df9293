package posture

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/runlens/runlens/internal/workload"
)

// service is a Service with what exposure needs.
type service struct {
	ns, name    string
	typ         corev1.ServiceType
	headless    bool
	selector    map[string]string
	ports       []corev1.ServicePort
	externalIPs []string
	lbAddrs     []string
}

// nsServices indexes one namespace's selecting Services by one pair of
// their selector (the smallest key), so a pod only meets candidates that
// share a label with it.
type nsServices struct {
	byPair map[string][]*service
}

type ingressRef struct {
	ns, name   string
	host, path string
	isDefault  bool
	port       networkingv1.ServiceBackendPort
}

type routeBackend struct {
	route *Route
	port  int32
}

// podMatch is what selects one (namespace, label set): cached.
type podMatch struct {
	services []*service
	policies []*policy
}

// podPort is a port traffic may reach on the pod.
type podPort struct {
	name  string
	num   int32
	proto corev1.Protocol
}

func (c *Cluster) addService(s *corev1.Service) {
	// ExternalName Services are DNS aliases: they never route to pods, and
	// a Service without selector has hand-made endpoints runlens cannot tie
	// to pods from their labels.
	if s.Spec.Type == corev1.ServiceTypeExternalName || len(s.Spec.Selector) == 0 {
		return
	}
	sv := &service{ns: s.Namespace, name: s.Name, typ: s.Spec.Type, selector: s.Spec.Selector,
		ports: s.Spec.Ports, externalIPs: s.Spec.ExternalIPs, headless: s.Spec.ClusterIP == corev1.ClusterIPNone}
	if sv.typ == "" {
		sv.typ = corev1.ServiceTypeClusterIP
	}
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			sv.lbAddrs = append(sv.lbAddrs, in.IP)
		} else if in.Hostname != "" {
			sv.lbAddrs = append(sv.lbAddrs, in.Hostname)
		}
	}
	first := ""
	for k := range s.Spec.Selector {
		if first == "" || k < first {
			first = k
		}
	}
	idx := c.services[s.Namespace]
	if idx == nil {
		idx = &nsServices{byPair: map[string][]*service{}}
		c.services[s.Namespace] = idx
	}
	key := first + "\x00" + s.Spec.Selector[first]
	idx.byPair[key] = append(idx.byPair[key], sv)
}

func (c *Cluster) addIngress(in *networkingv1.Ingress) {
	add := func(b *networkingv1.IngressBackend, host, path string, def bool) {
		if b == nil || b.Service == nil || b.Service.Name == "" {
			return
		}
		k := in.Namespace + "/" + b.Service.Name
		c.ingressByService[k] = append(c.ingressByService[k], ingressRef{ns: in.Namespace, name: in.Name,
			host: host, path: path, isDefault: def, port: b.Service.Port})
	}
	add(in.Spec.DefaultBackend, "", "", true)
	for _, r := range in.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			add(&p.Backend, r.Host, p.Path, false)
		}
	}
}

func (c *Cluster) addRoute(r *Route) {
	if len(r.Parents) == 0 {
		return
	}
	for _, b := range r.Backends {
		k := b.Namespace + "/" + b.Name
		c.routesByService[k] = append(c.routesByService[k], routeBackend{route: r, port: b.Port})
	}
}

// match returns the Services and ingress-type NetworkPolicies selecting
// pods with these labels in namespace, cached per label set.
func (c *Cluster) match(namespace string, podLabels map[string]string) *podMatch {
	keys := make([]string, 0, len(podLabels))
	for k := range podLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(namespace)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + podLabels[k])
	}
	ck := b.String()
	c.mu.Lock()
	m, ok := c.matchCache[ck]
	c.mu.Unlock()
	if ok {
		return m
	}
	m = &podMatch{}
	if idx := c.services[namespace]; idx != nil {
		for _, k := range keys {
			for _, s := range idx.byPair[k+"\x00"+podLabels[k]] {
				if subset(s.selector, podLabels) {
					m.services = append(m.services, s)
				}
			}
		}
		sort.Slice(m.services, func(i, j int) bool { return m.services[i].name < m.services[j].name })
	}
	for _, p := range c.policies[namespace] {
		if p.ingress && p.selects(podLabels) {
			m.policies = append(m.policies, p)
		}
	}
	c.mu.Lock()
	c.matchCache[ck] = m
	c.mu.Unlock()
	return m
}

func subset(sel, set map[string]string) bool {
	for k, v := range sel {
		if w, ok := set[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// path is one way in, with how far it reaches.
type path struct {
	text string
	kind pathKind
	port podPort
}

type pathKind int

const (
	viaHost     pathKind = iota // hostNetwork / hostPort: on the node, no NetworkPolicy applies
	viaExternal                 // LoadBalancer, NodePort, ExternalIPs: traffic from outside the cluster
	viaL7                       // Ingress, Gateway: traffic from an in-cluster proxy
	viaCluster                  // ClusterIP
)

// Exposure says how reachable pods with these labels and this spec are:
// workload.ExposureInternet when a path reaches them from outside the cluster
// (hostNetwork/hostPort, LoadBalancer, NodePort, ExternalIPs, Ingress,
// Gateway route) and NetworkPolicy lets that traffic in; workload.ExposureCluster
// when in-cluster pods can reach them; workload.ExposureIsolated when the
// NetworkPolicies selecting them deny all ingress or allow only selected
// peers. Ingress and Gateway traffic arrives from a proxy pod, so a policy
// allowing every namespace lets it in; LoadBalancer and NodePort traffic
// arrives from outside, so only a policy open to all sources (no "from",
// or ipBlock 0.0.0.0/0 or ::/0) lets it in. Paths that a policy blocks are
// kept, marked with the policies. When a kind that could add a path was not
// readable, the level is workload.ExposureUnknown unless already internet.
func (c *Cluster) Exposure(namespace string, podLabels map[string]string, spec *corev1.PodSpec) *workload.Exposure {
	if spec == nil {
		spec = &corev1.PodSpec{}
	}
	m := c.match(namespace, podLabels)
	var paths []path
	declared := containerPorts(spec)
	for _, p := range declared {
		switch {
		case spec.HostNetwork:
			paths = append(paths, path{kind: viaHost, port: p.podPort,
				text: fmt.Sprintf("hostNetwork: node port %d → pod port %d", p.num, p.num)})
		case p.hostPort != 0:
			paths = append(paths, path{kind: viaHost, port: p.podPort,
				text: fmt.Sprintf("hostPort %d on the node → pod port %d", p.hostPort, p.num)})
		}
	}
	if spec.HostNetwork && len(declared) == 0 {
		paths = append(paths, path{kind: viaHost, text: "hostNetwork: shares the node's network (listening ports not declared)"})
	}
	for _, s := range m.services {
		for _, sp := range s.ports {
			pp, ok := resolveTarget(sp, declared)
			if !ok {
				continue
			}
			to := fmt.Sprintf(" → pod port %d", pp.num)
			svc := fmt.Sprintf("Service %s/%s:%d", s.ns, s.name, sp.Port)
			switch s.typ {
			case corev1.ServiceTypeNodePort:
				paths = append(paths, path{kind: viaExternal, port: pp, text: fmt.Sprintf("Service %s/%s NodePort %s%s", s.ns, s.name, nodePort(sp), to)})
			case corev1.ServiceTypeLoadBalancer:
				addr := ":" + strconv.Itoa(int(sp.Port))
				if len(s.lbAddrs) > 0 {
					addr = net.JoinHostPort(s.lbAddrs[0], strconv.Itoa(int(sp.Port)))
				}
				paths = append(paths, path{kind: viaExternal, port: pp, text: fmt.Sprintf("Service %s/%s LoadBalancer %s%s", s.ns, s.name, addr, to)})
			default:
				text := svc + to
				if s.headless {
					text = fmt.Sprintf("Service %s/%s (headless)%s", s.ns, s.name, to)
				}
				paths = append(paths, path{kind: viaCluster, port: pp, text: text})
			}
			for _, ip := range s.externalIPs {
				paths = append(paths, path{kind: viaExternal, port: pp,
					text: fmt.Sprintf("Service %s/%s ExternalIP %s%s", s.ns, s.name, net.JoinHostPort(ip, strconv.Itoa(int(sp.Port))), to)})
			}
			for _, in := range c.ingressByService[s.ns+"/"+s.name] {
				if (in.port.Name != "" && in.port.Name != sp.Name) || (in.port.Name == "" && in.port.Number != sp.Port) {
					continue
				}
				where := "default backend"
				if !in.isDefault {
					host := in.host
					if host == "" {
						host = "*"
					}
					where = host + in.path
				}
				paths = append(paths, path{kind: viaL7, port: pp, text: fmt.Sprintf("Ingress %s/%s (%s) → %s%s", in.ns, in.name, where, svc, to)})
			}
			for _, rb := range c.routesByService[s.ns+"/"+s.name] {
				if rb.port != 0 && rb.port != sp.Port {
					continue
				}
				r := rb.route
				hosts := ""
				if len(r.Hostnames) > 0 {
					hosts = " (" + strings.Join(r.Hostnames, ", ") + ")"
				}
				paths = append(paths, path{kind: viaL7, port: pp, text: fmt.Sprintf("%s %s/%s%s via Gateway %s → %s%s",
					r.Kind, r.Namespace, r.Name, hosts, strings.Join(r.Parents, ", "), svc, to)})
			}
		}
	}
	return c.judge(m, spec, declared, paths)
}

// judge turns paths and the pods' NetworkPolicies into an Exposure.
func (c *Cluster) judge(m *podMatch, spec *corev1.PodSpec, declared []declaredPort, paths []path) *workload.Exposure {
	e := &workload.Exposure{Level: workload.ExposureIsolated}
	rank := map[string]int{workload.ExposureIsolated: 0, workload.ExposureCluster: 1, workload.ExposureInternet: 2}
	raise := func(l string) {
		if rank[l] > rank[e.Level] {
			e.Level = l
		}
	}
	for _, p := range m.policies {
		e.NetworkPolicies = append(e.NetworkPolicies, p.ns+"/"+p.name)
	}
	// NetworkPolicy does not apply to hostNetwork pods.
	policies := m.policies
	if spec.HostNetwork {
		policies = nil
	}
	type ranked struct {
		text string
		r    int
	}
	var out []ranked
	seen := map[string]bool{}
	for _, p := range paths {
		v := verdictFor(policies, &p.port)
		text, r := p.text, 0
		switch p.kind {
		case viaHost:
			raise(workload.ExposureInternet)
			r = 2
		case viaExternal:
			if v.reach == reachAll {
				raise(workload.ExposureInternet)
				r = 2
			} else if v.reach == reachCluster {
				raise(workload.ExposureCluster)
				text += " [" + v.note() + "; outside traffic not allowed]"
			} else {
				text += " [" + v.note() + "]"
			}
		case viaL7:
			if v.reach >= reachCluster {
				raise(workload.ExposureInternet)
				r = 2
			} else {
				text += " [" + v.note() + "]"
			}
		case viaCluster:
			if v.reach >= reachCluster {
				raise(workload.ExposureCluster)
				r = 1
			} else {
				text += " [" + v.note() + "]"
			}
		}
		if !seen[text] {
			seen[text] = true
			out = append(out, ranked{text, r})
		}
	}
	// Pods are reachable by pod IP whatever the Services say.
	if e.Level == workload.ExposureIsolated {
		if v := verdictFor(policies, nil); v.reach >= reachCluster {
			e.Level = workload.ExposureCluster
			why := "no NetworkPolicy restricts ingress"
			if len(v.by) > 0 {
				why = v.note()
			}
			out = append(out, ranked{"any pod → pod IP (" + why + ")", 1})
		} else if len(paths) == 0 {
			out = append(out, ranked{"no path in: " + v.note(), 0})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].r != out[j].r {
			return out[i].r > out[j].r
		}
		return out[i].text < out[j].text
	})
	for _, p := range out {
		e.Paths = append(e.Paths, p.text)
	}
	e.Unknown = c.unknown(KindServices, KindIngresses, KindHTTPRoutes, KindGRPCRoutes, KindTLSRoutes, KindNetworkPolicies)
	if e.Level != workload.ExposureInternet {
		_, noSvc := c.missing[KindServices]
		l7 := false
		for _, k := range []string{KindIngresses, KindHTTPRoutes, KindGRPCRoutes, KindTLSRoutes} {
			if _, ok := c.missing[k]; ok {
				l7 = true
			}
		}
		// Ingress and Gateway reach pods through a Service only.
		if noSvc || (l7 && len(m.services) > 0) {
			e.Level = workload.ExposureUnknown
		}
	}
	return e
}

func nodePort(sp corev1.ServicePort) string {
	if sp.NodePort != 0 {
		return strconv.Itoa(int(sp.NodePort))
	}
	return fmt.Sprintf("(port %d)", sp.Port)
}

// declaredPort is a container port as declared, with its hostPort.
type declaredPort struct {
	podPort
	hostPort int32
}

// containerPorts lists the ports of the containers that serve traffic:
// regular containers and restartable (sidecar) init containers.
func containerPorts(spec *corev1.PodSpec) []declaredPort {
	var out []declaredPort
	add := func(ports []corev1.ContainerPort) {
		for _, p := range ports {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			out = append(out, declaredPort{podPort: podPort{name: p.Name, num: p.ContainerPort, proto: proto}, hostPort: p.HostPort})
		}
	}
	for i := range spec.Containers {
		add(spec.Containers[i].Ports)
	}
	for i := range spec.InitContainers {
		ic := &spec.InitContainers[i]
		if ic.RestartPolicy != nil && *ic.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(ic.Ports)
		}
	}
	return out
}

// resolveTarget finds the pod port a Service port sends traffic to, as
// the endpoints controller does: a named targetPort must match a declared
// container port of the same name and protocol (else this pod is no
// endpoint); a number (default: the Service port) reaches the pod whether
// or not a container declares it.
func resolveTarget(sp corev1.ServicePort, declared []declaredPort) (podPort, bool) {
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	tp := sp.TargetPort
	if tp.Type == intstr.String && tp.StrVal != "" {
		for _, d := range declared {
			if d.name == tp.StrVal && d.proto == proto {
				return d.podPort, true
			}
		}
		return podPort{}, false
	}
	num := tp.IntVal
	if tp.Type == intstr.String || num == 0 {
		num = sp.Port
	}
	for _, d := range declared {
		if d.num == num && d.proto == proto {
			return d.podPort, true
		}
	}
	return podPort{num: num, proto: proto}, true
}
