package posture

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/runlens/runlens/internal/workload"
)

func TestSensitivity(t *testing.T) {
	hardened := &corev1.SecurityContext{AllowPrivilegeEscalation: tcPtr(false), RunAsNonRoot: tcPtr(true)}
	noToken := tcPtr(false)
	tokenless := func(c ...corev1.Container) *corev1.PodSpec {
		return &corev1.PodSpec{AutomountServiceAccountToken: noToken, Containers: c}
	}
	hostVol := func(name, p string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: p}}}
	}
	mounts := func(names ...string) []corev1.VolumeMount {
		var out []corev1.VolumeMount
		for _, n := range names {
			out = append(out, corev1.VolumeMount{Name: n, MountPath: "/m/" + n})
		}
		return out
	}
	irsa := corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "irsa",
		Annotations: map[string]string{AnnotationEKSRoleARN: "arn:aws:iam::111122223333:role/web"}}}
	gke := corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "gke",
		Annotations: map[string]string{AnnotationGKEServiceAcct: "web@proj.iam.gserviceaccount.com"}}}
	azure := corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "azure",
		Annotations: map[string]string{AnnotationAzureClientID: "00000000-0000-0000-0000-000000000001"}}}
	quiet := corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "quiet"}, AutomountServiceAccountToken: tcPtr(false)}
	objs := Objects{
		ServiceAccounts:     []corev1.ServiceAccount{irsa, gke, azure, quiet},
		Namespaces:          []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"env": "prod"}}}},
		ClusterRoles:        []rbacv1.ClusterRole{tcClusterRole("cluster-admin", tcRule([]string{"*"}, []string{"*"}, []string{"*"}))},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{tcCrb("admins", "cluster-admin", tcSa("shop", "root"))},
	}
	prod := labels.SelectorFromSet(labels.Set{"env": "prod"})
	tests := []struct {
		name     string
		labels   map[string]string
		spec     *corev1.PodSpec
		nsLabels map[string]string
		opts     SensitivityOptions
		want     *workload.Sensitivity
	}{{
		name: "hardened, no token: nothing to report",
		spec: tokenless(corev1.Container{Name: "a", SecurityContext: hardened}),
		want: &workload.Sensitivity{RBAC: &workload.RBACPower{}, Reasons: []string{}},
	}, {
		name: "defaults: escalation not disabled, may run as root, token mounted",
		spec: &corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}},
		want: &workload.Sensitivity{AllowPrivilegeEscalation: true, MayRunAsRoot: true, ServiceAccountToken: true, RBAC: &workload.RBACPower{},
			Reasons: []string{"privilege escalation not disabled (a)", "may run as root: no runAsUser or runAsNonRoot (a)",
				"service-account token mounted (default)"}},
	}, {
		name: "pod-level runAsUser 0 runs as root; container runAsNonRoot wins over it",
		spec: &corev1.PodSpec{AutomountServiceAccountToken: noToken, SecurityContext: &corev1.PodSecurityContext{RunAsUser: tcPtr(int64(0))},
			Containers: []corev1.Container{
				{Name: "root", SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: tcPtr(false)}},
				{Name: "safe", SecurityContext: hardened},
				{Name: "uid", SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: tcPtr(false), RunAsUser: tcPtr(int64(1000))}},
			}},
		want: &workload.Sensitivity{RunsAsRoot: true, RBAC: &workload.RBACPower{}, Reasons: []string{"runs as root (root)"}},
	}, {
		name: "privileged, capabilities, host namespaces, sensitive and plain host paths (init and ephemeral too)",
		spec: &corev1.PodSpec{AutomountServiceAccountToken: noToken, HostPID: true, HostNetwork: true, HostIPC: true,
			InitContainers: []corev1.Container{{Name: "init", SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: tcPtr(false), RunAsNonRoot: tcPtr(true),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "CAP_SYS_PTRACE"}}}}},
			Containers: []corev1.Container{{Name: "root", SecurityContext: &corev1.SecurityContext{Privileged: tcPtr(true), RunAsNonRoot: tcPtr(true)},
				VolumeMounts: mounts("root", "sock", "logs", "kubelet")}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug",
				SecurityContext: &corev1.SecurityContext{RunAsNonRoot: tcPtr(true), AllowPrivilegeEscalation: tcPtr(false),
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}, VolumeMounts: mounts("varrun")}}},
			Volumes: []corev1.Volume{hostVol("root", "/"), hostVol("sock", "/var/run/docker.sock"), hostVol("logs", "/var/log/"),
				hostVol("kubelet", "/var/lib/kubelet/pods"), hostVol("varrun", "/var/run"), hostVol("unmounted", "/etc")}},
		want: &workload.Sensitivity{Privileged: true, AddedCapabilities: []string{"NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"},
			AllowPrivilegeEscalation: true, HostPID: true, HostNetwork: true, HostIPC: true,
			HostPaths:          []string{"/", "/var/lib/kubelet/pods", "/var/log", "/var/run", "/var/run/docker.sock"},
			SensitiveHostPaths: []string{"/", "/var/lib/kubelet/pods", "/var/run", "/var/run/docker.sock"},
			RBAC:               &workload.RBACPower{},
			Reasons: []string{"privileged (root)", "adds capabilities NET_ADMIN, SYS_ADMIN, SYS_PTRACE",
				"privilege escalation allowed (root, debug)", "shares the host PID namespace", "shares the host network",
				"shares the host IPC namespace", "mounts sensitive host path /", "mounts sensitive host path /var/lib/kubelet/pods",
				"mounts host path /var/log", "mounts sensitive host path /var/run", "mounts sensitive host path /var/run/docker.sock"}},
	}, {
		name: "secrets in volumes, projected sources and env; explicit projected token",
		spec: &corev1.PodSpec{AutomountServiceAccountToken: noToken,
			Containers: []corev1.Container{{Name: "a", SecurityContext: hardened, VolumeMounts: mounts("tls", "proj"),
				Env: []corev1.EnvVar{{Name: "P", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}}},
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "api-keys"}}}}}},
			Volumes: []corev1.Volume{
				{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls-cert"}}},
				{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "bundle"}}},
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}},
			}},
		want: &workload.Sensitivity{SecretVolumes: []string{"bundle", "tls-cert"}, SecretEnv: []string{"api-keys", "db"},
			ServiceAccountToken: true, RBAC: &workload.RBACPower{},
			Reasons: []string{"mounts secrets bundle, tls-cert", "secrets in env from api-keys, db", "service-account token mounted (default)"}},
	}, {
		name: "service account automount false; pod true overrides it",
		spec: &corev1.PodSpec{ServiceAccountName: "quiet", Containers: []corev1.Container{{Name: "a", SecurityContext: hardened}}},
		want: &workload.Sensitivity{RBAC: &workload.RBACPower{}, Reasons: []string{}},
	}, {
		name: "pod automount true overrides the service account",
		spec: &corev1.PodSpec{ServiceAccountName: "quiet", AutomountServiceAccountToken: tcPtr(true), Containers: []corev1.Container{{Name: "a", SecurityContext: hardened}}},
		want: &workload.Sensitivity{ServiceAccountToken: true, RBAC: &workload.RBACPower{}, Reasons: []string{"service-account token mounted (quiet)"}},
	}, {
		name: "cluster-admin service account, token mounted",
		spec: &corev1.PodSpec{ServiceAccountName: "root", Containers: []corev1.Container{{Name: "a", SecurityContext: hardened}}},
		want: &workload.Sensitivity{ServiceAccountToken: true, RBAC: &workload.RBACPower{ClusterAdmin: true, ReadSecrets: true, ReadSecretsScope: []string{"cluster"},
			CreatePods: true, ExecPods: true, EscalateOrBind: true, Impersonate: true, Bindings: []string{"ClusterRoleBinding admins → ClusterRole cluster-admin"}},
			Reasons: []string{"service-account token mounted (root)", "service account is cluster-admin"}},
	}, {
		name: "cluster-admin service account without token",
		spec: tokenless(corev1.Container{Name: "a", SecurityContext: hardened}),
		want: &workload.Sensitivity{RBAC: &workload.RBACPower{}, Reasons: []string{}},
	}, {
		name: "cloud identities: EKS, GKE; Azure only with the use label",
		spec: &corev1.PodSpec{ServiceAccountName: "irsa", AutomountServiceAccountToken: noToken, Containers: []corev1.Container{{Name: "a", SecurityContext: hardened}}},
		want: &workload.Sensitivity{RBAC: &workload.RBACPower{}, CloudIdentity: []string{"aws:arn:aws:iam::111122223333:role/web"},
			Reasons: []string{"cloud identity aws:arn:aws:iam::111122223333:role/web"}},
	}, {
		name: "GKE",
		spec: &corev1.PodSpec{ServiceAccountName: "gke", AutomountServiceAccountToken: noToken, Containers: []corev1.Container{{Name: "a", SecurityContext: hardened}}},
		want: &workload.Sensitivity{RBAC: &workload.RBACPower{}, CloudIdentity: []string{"gcp:web@proj.iam.gserviceaccount.com"},
			Reasons: []string{"cloud identity gcp:web@proj.iam.gserviceaccount.com"}},
	}, {
		name: "Azure without the pod label: no federated token",
		spec: &corev1.PodSpec{ServiceAccountName: "azure", AutomountServiceAccountToken: noToken, Containers: []corev1.Container{{Name: "a", SecurityContext: hardened}}},
		want: &workload.Sensitivity{RBAC: &workload.RBACPower{}, Reasons: []string{}},
	}, {
		name:   "Azure with the pod label",
		labels: map[string]string{LabelAzureUse: "true"},
		spec:   &corev1.PodSpec{ServiceAccountName: "azure", AutomountServiceAccountToken: noToken, Containers: []corev1.Container{{Name: "a", SecurityContext: hardened}}},
		want: &workload.Sensitivity{RBAC: &workload.RBACPower{}, CloudIdentity: []string{"azure:00000000-0000-0000-0000-000000000001"},
			Reasons: []string{"cloud identity azure:00000000-0000-0000-0000-000000000001"}},
	}, {
		name: "critical namespace from the context's labels",
		spec: tokenless(corev1.Container{Name: "a", SecurityContext: hardened}),
		opts: SensitivityOptions{CriticalNamespaces: []labels.Selector{prod}},
		want: &workload.Sensitivity{CriticalNamespace: true, RBAC: &workload.RBACPower{}, Reasons: []string{"critical namespace (env=prod)"}},
	}, {
		name:     "critical namespace: caller's labels win",
		spec:     tokenless(corev1.Container{Name: "a", SecurityContext: hardened}),
		nsLabels: map[string]string{"env": "dev"},
		opts:     SensitivityOptions{CriticalNamespaces: []labels.Selector{prod}},
		want:     &workload.Sensitivity{RBAC: &workload.RBACPower{}, Reasons: []string{}},
	}}
	c := New("test", &objs)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Sensitivity("shop", tt.labels, tt.spec, tt.nsLabels, tt.opts)
			if got.Reasons == nil {
				got.Reasons = []string{}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Sensitivity (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSensitivityUnknown(t *testing.T) {
	c := New("test", &Objects{Missing: map[string]string{KindServiceAccounts: "forbidden", KindNamespaces: "forbidden"}})
	got := c.Sensitivity("shop", nil, &corev1.PodSpec{ServiceAccountName: "x"}, nil,
		SensitivityOptions{CriticalNamespaces: []labels.Selector{labels.SelectorFromSet(labels.Set{"env": "prod"})}})
	want := []string{"serviceaccounts: forbidden", "namespaces: forbidden"}
	if diff := cmp.Diff(want, got.Unknown); diff != "" {
		t.Errorf("Unknown (-want +got):\n%s", diff)
	}
	if !got.ServiceAccountToken {
		t.Error("token assumed unmounted without the service account: want the Kubernetes default (mounted)")
	}
}

func TestSensitiveHostPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/etc": true, "/etc/kubernetes/pki": true, "/var": true, "/var/run": true, "/run/containerd/containerd.sock": true,
		"/var/log": false, "/opt/data": false, "/etcetera": false, "/sys/fs/cgroup": true, "/proc": true, "/home": false,
	} {
		if got := sensitiveHostPath(p); got != want {
			t.Errorf("sensitiveHostPath(%q) = %v, want %v", p, got, want)
		}
	}
}
