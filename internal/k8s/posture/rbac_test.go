package posture

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/workload"
)

// asSets compares string lists as sets: the order is sort.Strings' own.
var asSets = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestRBAC(t *testing.T) {
	star := []string{"*"}
	core := []string{""}
	admin := tcClusterRole("cluster-admin", tcRule(star, star, star), rbacv1.PolicyRule{Verbs: star, NonResourceURLs: star})
	secretReader := tcClusterRole("secret-reader", tcRule([]string{"get", "list", "watch"}, core, []string{"secrets"}))
	namedSecret := tcClusterRole("named-secret", tcRule([]string{"get"}, core, []string{"secrets"}, "tls-cert"),
		tcRule([]string{"create"}, core, []string{"pods/exec"}, "one-pod"))
	aggregated := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"agg/to-agg": "true"}}}}}
	part := tcClusterRole("agg-part", tcRule([]string{"create"}, core, []string{"pods/exec"}))
	part.Labels = map[string]string{"agg/to-agg": "true"}
	filledAgg := tcClusterRole("filled-agg", tcRule([]string{"escalate"}, []string{"rbac.authorization.k8s.io"}, []string{"clusterroles"}))
	filledAgg.AggregationRule = aggregated.AggregationRule
	deployer := rbacv1.Role{ObjectMeta: tcMeta("shop", "deployer"), Rules: []rbacv1.PolicyRule{
		tcRule([]string{"create", "update"}, []string{"apps"}, []string{"deployments"})}}
	subExec := tcClusterRole("any-exec", tcRule([]string{"create"}, core, []string{"*/exec"}))
	nonResource := tcClusterRole("healthz", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}})
	impersonator := tcClusterRole("impersonator", tcRule([]string{"impersonate"}, core, []string{"users", "groups"}))
	podCreator := tcClusterRole("pod-creator", tcRule([]string{"create"}, core, []string{"pods"}))

	objs := Objects{
		ClusterRoles: []rbacv1.ClusterRole{admin, secretReader, namedSecret, aggregated, part, filledAgg, subExec, nonResource, impersonator, podCreator},
		Roles:        []rbacv1.Role{deployer},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			tcCrb("admins", "cluster-admin", tcSa("shop", "root")),
			tcCrb("readers", "secret-reader", tcSa("shop", "reader")),
			tcCrb("named", "named-secret", tcSa("shop", "named")),
			tcCrb("agg", "agg", tcSa("shop", "agg")),
			tcCrb("filled", "filled-agg", tcSa("shop", "filled")),
			tcCrb("exec", "any-exec", rbacv1.Subject{Kind: rbacv1.UserKind, Name: "system:serviceaccount:shop:user"}),
			tcCrb("health", "healthz", tcSa("shop", "health")),
			tcCrb("shop-sas", "pod-creator", rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:serviceaccounts:shop"}),
			tcCrb("everyone", "impersonator", rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:authenticated"}),
			tcCrb("dangling", "no-such-role", tcSa("shop", "dangling")),
		},
		RoleBindings: []rbacv1.RoleBinding{
			tcRb("shop", "ns-admin", "ClusterRole", "cluster-admin", tcSa("shop", "nsadmin")),
			tcRb("prod", "cross", "ClusterRole", "secret-reader", tcSa("shop", "cross")),
			tcRb("shop", "deploy", "Role", "deployer", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "deploy"}),
		},
	}
	everyone := "ClusterRoleBinding everyone → ClusterRole impersonator (group system:authenticated)"
	shopSAs := "ClusterRoleBinding shop-sas → ClusterRole pod-creator (group system:serviceaccounts:shop)"
	tests := []struct {
		ns, sa string
		want   *workload.RBACPower
	}{
		{"shop", "root", &workload.RBACPower{ClusterAdmin: true, ReadSecrets: true, ReadSecretsScope: []string{"cluster"}, CreatePods: true,
			ExecPods: true, EscalateOrBind: true, Impersonate: true,
			Bindings: []string{"ClusterRoleBinding admins → ClusterRole cluster-admin", everyone, shopSAs}}},
		{"shop", "nsadmin", &workload.RBACPower{ReadSecrets: true, ReadSecretsScope: []string{"shop"}, CreatePods: true,
			ExecPods: true, EscalateOrBind: true, Impersonate: true,
			Bindings: []string{everyone, shopSAs, "RoleBinding shop/ns-admin → ClusterRole cluster-admin"}}},
		{"shop", "reader", &workload.RBACPower{ReadSecrets: true, ReadSecretsScope: []string{"cluster"}, CreatePods: true, Impersonate: true,
			Bindings: []string{"ClusterRoleBinding readers → ClusterRole secret-reader", everyone, shopSAs}}},
		{"shop", "cross", &workload.RBACPower{ReadSecrets: true, ReadSecretsScope: []string{"prod"}, CreatePods: true, Impersonate: true,
			Bindings: []string{everyone, shopSAs, "RoleBinding prod/cross → ClusterRole secret-reader"}}},
		{"shop", "named", &workload.RBACPower{CreatePods: true, Impersonate: true, Bindings: []string{everyone, shopSAs}}},
		{"shop", "agg", &workload.RBACPower{CreatePods: true, ExecPods: true, Impersonate: true,
			Bindings: []string{"ClusterRoleBinding agg → ClusterRole agg", everyone, shopSAs}}},
		{"shop", "filled", &workload.RBACPower{CreatePods: true, EscalateOrBind: true, Impersonate: true,
			Bindings: []string{"ClusterRoleBinding filled → ClusterRole filled-agg", everyone, shopSAs}}},
		{"shop", "user", &workload.RBACPower{CreatePods: true, ExecPods: true, Impersonate: true,
			Bindings: []string{"ClusterRoleBinding exec → ClusterRole any-exec", everyone, shopSAs}}},
		{"shop", "health", &workload.RBACPower{CreatePods: true, Impersonate: true, Bindings: []string{everyone, shopSAs}}},
		{"shop", "deploy", &workload.RBACPower{CreatePods: true, Impersonate: true,
			Bindings: []string{everyone, shopSAs, "RoleBinding shop/deploy → Role shop/deployer"}}},
		{"shop", "dangling", &workload.RBACPower{CreatePods: true, Impersonate: true, Bindings: []string{everyone, shopSAs},
			Unknown: []string{"ClusterRoleBinding dangling → ClusterRole no-such-role: role not found"}}},
		{"other", "root", &workload.RBACPower{Impersonate: true, Bindings: []string{everyone}}},
	}
	c := New("test", &objs)
	for _, tt := range tests {
		t.Run(tt.ns+"/"+tt.sa, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, c.RBAC(tt.ns, tt.sa), asSets); diff != "" {
				t.Errorf("RBAC (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRBACForbiddenKinds(t *testing.T) {
	c := New("test", &Objects{
		ClusterRoles:        []rbacv1.ClusterRole{tcClusterRole("cluster-admin", tcRule([]string{"*"}, []string{"*"}, []string{"*"}))},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{tcCrb("admins", "cluster-admin", tcSa("ns", "sa"))},
		Missing:             map[string]string{KindRoleBindings: "forbidden", KindRoles: "forbidden"},
	})
	got := c.RBAC("ns", "sa")
	want := &workload.RBACPower{ClusterAdmin: true, ReadSecrets: true, ReadSecretsScope: []string{"cluster"}, CreatePods: true,
		ExecPods: true, EscalateOrBind: true, Impersonate: true,
		Bindings: []string{"ClusterRoleBinding admins → ClusterRole cluster-admin"},
		Unknown:  []string{"roles: forbidden", "rolebindings: forbidden"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RBAC (-want +got):\n%s", diff)
	}
	if got := c.RBAC("ns", "nobody"); got.ClusterAdmin || len(got.Unknown) != 2 {
		t.Errorf("unbound SA = %+v, want no power and the unknown marks", got)
	}
}
