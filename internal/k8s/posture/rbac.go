package posture

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/runlens/runlens/internal/workload"
)

// Groups every service account belongs to, besides its own user.
const (
	groupAllServiceAccounts = "system:serviceaccounts"
	groupAuthenticated      = "system:authenticated"
)

// grant is one binding's rules as they apply to a subject.
type grant struct {
	// binding describes the binding and its role, for RBACPower.Bindings.
	binding string
	// scope is "" for cluster-wide, else the RoleBinding's namespace.
	scope string
	rules []rbacv1.PolicyRule
	// unknown is set when the role could not be resolved.
	unknown string
}

// rbacIndex maps subjects to what they are granted, built once.
type rbacIndex struct {
	bySA    map[string][]grant // "ns/name"
	byGroup map[string][]grant
}

// aggregate fills the rules of aggregated ClusterRoles the controller has
// not filled (yet): normally the controller writes them, so reading rules
// is enough; this covers snapshots taken before it ran.
func aggregate(roles map[string]*rbacv1.ClusterRole) {
	for _, cr := range roles {
		if cr.AggregationRule == nil || len(cr.Rules) > 0 {
			continue
		}
		var rules []rbacv1.PolicyRule
		for _, ls := range cr.AggregationRule.ClusterRoleSelectors {
			sel, err := metav1.LabelSelectorAsSelector(&ls)
			if err != nil || sel.Empty() {
				continue
			}
			for _, other := range roles {
				if other != cr && sel.Matches(labels.Set(other.Labels)) {
					rules = append(rules, other.Rules...)
				}
			}
		}
		filled := *cr
		filled.Rules = rules
		roles[cr.Name] = &filled
	}
}

func (c *Cluster) index() *rbacIndex {
	c.rbacOnce.Do(func() {
		idx := &rbacIndex{bySA: map[string][]grant{}, byGroup: map[string][]grant{}}
		add := func(g grant, bindingNS string, subjects []rbacv1.Subject) {
			for _, s := range subjects {
				switch s.Kind {
				case rbacv1.ServiceAccountKind:
					ns := s.Namespace
					if ns == "" {
						ns = bindingNS
					}
					idx.bySA[ns+"/"+s.Name] = append(idx.bySA[ns+"/"+s.Name], g)
				case rbacv1.UserKind:
					// A service account is also the user system:serviceaccount:NS:NAME.
					if rest, ok := strings.CutPrefix(s.Name, "system:serviceaccount:"); ok {
						if ns, name, ok := strings.Cut(rest, ":"); ok {
							idx.bySA[ns+"/"+name] = append(idx.bySA[ns+"/"+name], g)
						}
					}
				case rbacv1.GroupKind:
					if s.Name == groupAuthenticated || s.Name == groupAllServiceAccounts ||
						strings.HasPrefix(s.Name, groupAllServiceAccounts+":") {
						gg := g
						gg.binding += " (group " + s.Name + ")"
						idx.byGroup[s.Name] = append(idx.byGroup[s.Name], gg)
					}
				}
			}
		}
		for i := range c.crBindings {
			b := &c.crBindings[i]
			g := grant{binding: fmt.Sprintf("ClusterRoleBinding %s → ClusterRole %s", b.Name, b.RoleRef.Name)}
			if b.RoleRef.Kind == "ClusterRole" {
				g.rules, g.unknown = c.clusterRoleRules(b.RoleRef.Name, g.binding)
			}
			add(g, "", b.Subjects)
		}
		for i := range c.roleBindings {
			b := &c.roleBindings[i]
			g := grant{scope: b.Namespace}
			switch b.RoleRef.Kind {
			case "ClusterRole":
				g.binding = fmt.Sprintf("RoleBinding %s/%s → ClusterRole %s", b.Namespace, b.Name, b.RoleRef.Name)
				g.rules, g.unknown = c.clusterRoleRules(b.RoleRef.Name, g.binding)
			case "Role":
				g.binding = fmt.Sprintf("RoleBinding %s/%s → Role %s/%s", b.Namespace, b.Name, b.Namespace, b.RoleRef.Name)
				if r, ok := c.roles[b.Namespace+"/"+b.RoleRef.Name]; ok {
					g.rules = r.Rules
				} else if _, gone := c.missing[KindRoles]; !gone {
					g.unknown = g.binding + ": role not found"
				}
			}
			add(g, b.Namespace, b.Subjects)
		}
		c.rbacIdx = idx
	})
	return c.rbacIdx
}

func (c *Cluster) clusterRoleRules(name, binding string) ([]rbacv1.PolicyRule, string) {
	if r, ok := c.clusterRoles[name]; ok {
		return r.Rules, ""
	}
	if _, gone := c.missing[KindClusterRoles]; gone {
		return nil, "" // reported once through Unknown
	}
	return nil, binding + ": role not found"
}

// RBAC is the effective power of service account serviceAccount in
// namespace: the union of every ClusterRoleBinding and RoleBinding (in any
// namespace) whose subjects name it as a ServiceAccount, as the user
// system:serviceaccount:NS:NAME, or through the groups
// system:serviceaccounts, system:serviceaccounts:NS and
// system:authenticated. Rules limited by resourceNames grant only the named
// objects, never list, watch or create, so they are not counted as any
// power below; nonResourceURLs are ignored. ClusterAdmin needs a
// cluster-wide "*" verb on "*" resources in "*" groups. The result is
// computed once per service account and shared: do not modify it.
func (c *Cluster) RBAC(namespace, serviceAccount string) *workload.RBACPower {
	if serviceAccount == "" {
		serviceAccount = "default"
	}
	key := namespace + "/" + serviceAccount
	c.mu.Lock()
	p, ok := c.rbacCache[key]
	c.mu.Unlock()
	if ok {
		return p
	}
	idx := c.index()
	var grants []grant
	grants = append(grants, idx.bySA[key]...)
	for _, g := range []string{groupAllServiceAccounts, groupAllServiceAccounts + ":" + namespace, groupAuthenticated} {
		grants = append(grants, idx.byGroup[g]...)
	}
	p = evaluate(grants)
	p.Unknown = append(p.Unknown, c.unknown(KindRoles, KindRoleBindings, KindClusterRoles, KindClusterRoleBindings)...)
	c.mu.Lock()
	c.rbacCache[key] = p
	c.mu.Unlock()
	return p
}

func evaluate(grants []grant) *workload.RBACPower {
	p := &workload.RBACPower{}
	secretNS := map[string]bool{}
	bindings := map[string]bool{}
	for _, g := range grants {
		if g.unknown != "" {
			p.Unknown = append(p.Unknown, g.unknown)
		}
		powerful := false
		set := func(b *bool) {
			*b = true
			powerful = true
		}
		for i := range g.rules {
			r := &g.rules[i]
			if len(r.Resources) == 0 || len(r.ResourceNames) > 0 {
				continue
			}
			if g.scope == "" && has(r.Verbs, "*") && has(r.Resources, "*") && has(r.APIGroups, "*") {
				set(&p.ClusterAdmin)
			}
			if allows(r, "", "secrets", "get", "list", "watch") {
				set(&p.ReadSecrets)
				secretNS[g.scope] = true
			}
			if allows(r, "", "pods", "create") || allows(r, "", "replicationcontrollers", "create") ||
				allows(r, "apps", "deployments", "create") || allows(r, "apps", "daemonsets", "create") ||
				allows(r, "apps", "replicasets", "create") || allows(r, "apps", "statefulsets", "create") ||
				allows(r, "batch", "jobs", "create") || allows(r, "batch", "cronjobs", "create") {
				set(&p.CreatePods)
			}
			if allows(r, "", "pods/exec", "create") {
				set(&p.ExecPods)
			}
			if allows(r, rbacv1.GroupName, "roles", "escalate", "bind") || allows(r, rbacv1.GroupName, "clusterroles", "escalate", "bind") {
				set(&p.EscalateOrBind)
			}
			if allows(r, "", "users", "impersonate") || allows(r, "", "groups", "impersonate") ||
				allows(r, "", "serviceaccounts", "impersonate") || allows(r, "authentication.k8s.io", "uids", "impersonate") {
				set(&p.Impersonate)
			}
		}
		if powerful {
			bindings[g.binding] = true
		}
	}
	if p.ClusterAdmin {
		p.ReadSecrets, p.CreatePods, p.ExecPods, p.EscalateOrBind, p.Impersonate = true, true, true, true, true
		secretNS[""] = true
	}
	if secretNS[""] {
		p.ReadSecretsScope = []string{"cluster"}
	} else {
		for ns := range secretNS {
			p.ReadSecretsScope = append(p.ReadSecretsScope, ns)
		}
		sort.Strings(p.ReadSecretsScope)
	}
	for b := range bindings {
		p.Bindings = append(p.Bindings, b)
	}
	sort.Strings(p.Bindings)
	sort.Strings(p.Unknown)
	return p
}

// allows reports whether rule r grants any of verbs on resource (which may
// carry a "/subresource") in group, with RBAC's wildcards: "*" for
// groups, verbs and resources, and "*/sub" for a subresource of any
// resource.
func allows(r *rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
	if !has(r.APIGroups, group) && !has(r.APIGroups, "*") {
		return false
	}
	resOK := false
	for _, rr := range r.Resources {
		if rr == "*" || rr == resource {
			resOK = true
			break
		}
		if sub, ok := strings.CutPrefix(rr, "*/"); ok {
			if _, rsub, found := strings.Cut(resource, "/"); found && rsub == sub {
				resOK = true
				break
			}
		}
	}
	if !resOK {
		return false
	}
	if has(r.Verbs, "*") {
		return true
	}
	for _, v := range verbs {
		if has(r.Verbs, v) {
			return true
		}
	}
	return false
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
