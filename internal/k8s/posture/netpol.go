package posture

import (
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// reach is how widely a NetworkPolicy rule admits traffic, least first.
type reach int

const (
	reachDenied   reach = iota // no rule admits it
	reachSelected              // specific pods, namespaces or CIDRs
	reachCluster               // every pod of every namespace
	reachAll                   // every source, outside the cluster too
)

// policy is a compiled NetworkPolicy.
type policy struct {
	ns, name string
	sel      labels.Selector
	// ingress is true when the policy isolates ingress (policyTypes holds
	// Ingress, or is empty: Ingress is then implied).
	ingress bool
	rules   []npRule
}

type npRule struct {
	ports []networkingv1.NetworkPolicyPort
	reach reach
}

func compilePolicy(np *networkingv1.NetworkPolicy) *policy {
	p := &policy{ns: np.Namespace, name: np.Name, ingress: len(np.Spec.PolicyTypes) == 0}
	for _, t := range np.Spec.PolicyTypes {
		if t == networkingv1.PolicyTypeIngress {
			p.ingress = true
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		// The API server validates selectors; one it let through but we
		// cannot parse selects nothing rather than everything.
		sel = labels.Nothing()
	}
	p.sel = sel
	for _, r := range np.Spec.Ingress {
		p.rules = append(p.rules, npRule{ports: r.Ports, reach: peersReach(r.From)})
	}
	return p
}

func (p *policy) selects(podLabels map[string]string) bool {
	return p.sel.Matches(labels.Set(podLabels))
}

// peersReach classifies a rule's "from": none means every source; an
// ipBlock of 0.0.0.0/0 or ::/0 is every source too (its "except" holes do
// not make the internet smaller in any useful sense); an empty
// namespaceSelector with no or an empty podSelector is every pod in the
// cluster; anything else names specific peers.
func peersReach(from []networkingv1.NetworkPolicyPeer) reach {
	if len(from) == 0 {
		return reachAll
	}
	best := reachDenied
	for _, peer := range from {
		r := reachSelected
		switch {
		case peer.IPBlock != nil:
			if _, n, err := net.ParseCIDR(peer.IPBlock.CIDR); err == nil {
				if ones, _ := n.Mask.Size(); ones == 0 {
					r = reachAll
				}
			}
		case peer.NamespaceSelector != nil && emptySelector(peer.NamespaceSelector) &&
			(peer.PodSelector == nil || emptySelector(peer.PodSelector)):
			r = reachCluster
		}
		if r > best {
			best = r
		}
	}
	return best
}

func emptySelector(s *metav1.LabelSelector) bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

// verdict is what the pods' ingress policies admit to one port, and which
// policies decide it.
type verdict struct {
	reach reach
	by    []string
}

// verdictFor evaluates the union of policies for port (nil: any port).
// With no policy, ingress is not isolated at all.
func verdictFor(policies []*policy, port *podPort) verdict {
	if len(policies) == 0 {
		return verdict{reach: reachAll}
	}
	v := verdict{reach: reachDenied}
	for _, p := range policies {
		for _, r := range p.rules {
			if !portAllowed(r.ports, port) {
				continue
			}
			name := p.ns + "/" + p.name
			switch {
			case r.reach > v.reach:
				v.reach, v.by = r.reach, []string{name}
			case r.reach == v.reach && v.by[len(v.by)-1] != name:
				v.by = append(v.by, name)
			}
		}
	}
	if v.reach == reachDenied {
		for _, p := range policies {
			v.by = append(v.by, p.ns+"/"+p.name)
		}
	}
	return v
}

func (v verdict) note() string {
	who := "NetworkPolicy " + strings.Join(v.by, ", ")
	switch v.reach {
	case reachDenied:
		return "denied by " + who
	case reachSelected:
		return who + " allows selected peers only"
	case reachCluster:
		return who + " allows all namespaces"
	}
	return who + " allows all sources"
}

// portAllowed reports whether a rule's ports admit port (nil: any port).
// A named rule port matches the container port of that name.
func portAllowed(ports []networkingv1.NetworkPolicyPort, port *podPort) bool {
	if len(ports) == 0 || port == nil {
		return true
	}
	for _, np := range ports {
		proto := corev1.ProtocolTCP
		if np.Protocol != nil {
			proto = *np.Protocol
		}
		if proto != port.proto {
			continue
		}
		switch {
		case np.Port == nil:
			return true
		case np.Port.Type == intstr.String:
			if port.name != "" && np.Port.StrVal == port.name {
				return true
			}
		default:
			lo, hi := np.Port.IntVal, np.Port.IntVal
			if np.EndPort != nil {
				hi = *np.EndPort
			}
			if port.num >= lo && port.num <= hi {
				return true
			}
		}
	}
	return false
}
