package posture

import (
	"fmt"
	pathpkg "path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/runlens/runlens/internal/workload"
)

// SensitivityOptions tune Sensitivity.
type SensitivityOptions struct {
	// CriticalNamespaces mark a namespace critical when its labels match
	// any of these selectors (e.g. labels.Parse("env=prod")).
	CriticalNamespaces []labels.Selector
}

// Cloud workload-identity keys on service accounts (and, for Azure, pods).
const (
	AnnotationEKSRoleARN     = "eks.amazonaws.com/role-arn"
	AnnotationGKEServiceAcct = "iam.gke.io/gcp-service-account"
	AnnotationAzureClientID  = "azure.workload.identity/client-id"
	LabelAzureUse            = "azure.workload.identity/use"
)

// SensitiveHostPaths are host paths whose mount hands over the node: its
// root, container-runtime sockets, kubelet credentials, configuration and
// kernel interfaces. A mount of one of them, of something below one, or of
// a directory above one (mounting /var/run exposes docker.sock) counts.
var SensitiveHostPaths = []string{
	"/", "/var/run/docker.sock", "/run/docker.sock", "/run/containerd", "/var/run/containerd",
	"/var/run/crio", "/run/crio", "/var/lib/kubelet", "/etc", "/proc", "/sys",
}

// ctr is one container of any type, as sensitivity sees it.
type ctr struct {
	name    string
	sc      *corev1.SecurityContext
	mounts  []corev1.VolumeMount
	env     []corev1.EnvVar
	envFrom []corev1.EnvFromSource
}

func allContainers(spec *corev1.PodSpec) []ctr {
	var out []ctr
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			c := &list[i]
			out = append(out, ctr{c.Name, c.SecurityContext, c.VolumeMounts, c.Env, c.EnvFrom})
		}
	}
	for i := range spec.EphemeralContainers {
		c := &spec.EphemeralContainers[i].EphemeralContainerCommon
		out = append(out, ctr{c.Name, c.SecurityContext, c.VolumeMounts, c.Env, c.EnvFrom})
	}
	return out
}

// Sensitivity says what an attacker gains by compromising pods with this
// spec and labels in namespace, following Kubernetes' defaults:
// allowPrivilegeEscalation unset means allowed (and privileged or
// CAP_SYS_ADMIN always allow it); a container "runs as root" when its
// effective runAsUser is 0 and "may run as root" when neither runAsUser
// nor runAsNonRoot is set, so the image's USER decides; the service-account
// token is mounted unless the pod, else its service account, sets
// automountServiceAccountToken false (or a projected token volume is
// mounted explicitly). nsLabels nil means the namespace's labels from the
// context. RBAC is always filled; its reasons say when the token is not
// mounted, since the power is then out of an attacker's direct reach.
func (c *Cluster) Sensitivity(namespace string, podLabels map[string]string, spec *corev1.PodSpec, nsLabels map[string]string, opts SensitivityOptions) *workload.Sensitivity {
	if spec == nil {
		spec = &corev1.PodSpec{}
	}
	s := &workload.Sensitivity{HostPID: spec.HostPID, HostNetwork: spec.HostNetwork, HostIPC: spec.HostIPC}
	var psc corev1.PodSecurityContext
	if spec.SecurityContext != nil {
		psc = *spec.SecurityContext
	}
	var privileged, apeSet, apeDefault, root, mayRoot []string
	caps := map[string]bool{}
	for _, ct := range allContainers(spec) {
		sc := ct.sc
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		priv := sc.Privileged != nil && *sc.Privileged
		if priv {
			privileged = append(privileged, ct.name)
		}
		sysAdmin := false
		if sc.Capabilities != nil {
			for _, cp := range sc.Capabilities.Add {
				name := strings.TrimPrefix(strings.ToUpper(string(cp)), "CAP_")
				caps[name] = true
				sysAdmin = sysAdmin || name == "SYS_ADMIN" || name == "ALL"
			}
		}
		switch {
		case priv || sysAdmin || (sc.AllowPrivilegeEscalation != nil && *sc.AllowPrivilegeEscalation):
			apeSet = append(apeSet, ct.name)
		case sc.AllowPrivilegeEscalation == nil:
			apeDefault = append(apeDefault, ct.name)
		}
		user, nonRoot := sc.RunAsUser, sc.RunAsNonRoot
		if user == nil {
			user = psc.RunAsUser
		}
		if nonRoot == nil {
			nonRoot = psc.RunAsNonRoot
		}
		switch {
		case nonRoot != nil && *nonRoot: // the kubelet refuses to start it as UID 0
		case user != nil && *user == 0:
			root = append(root, ct.name)
		case user == nil:
			mayRoot = append(mayRoot, ct.name)
		}
	}
	reason := func(format string, args ...any) { s.Reasons = append(s.Reasons, fmt.Sprintf(format, args...)) }
	if len(privileged) > 0 {
		s.Privileged = true
		reason("privileged (%s)", join(privileged))
	}
	for cp := range caps {
		s.AddedCapabilities = append(s.AddedCapabilities, cp)
	}
	sort.Strings(s.AddedCapabilities)
	if len(caps) > 0 {
		reason("adds capabilities %s", strings.Join(s.AddedCapabilities, ", "))
	}
	if len(apeSet)+len(apeDefault) > 0 {
		s.AllowPrivilegeEscalation = true
		if len(apeSet) > 0 {
			reason("privilege escalation allowed (%s)", join(apeSet))
		}
		if len(apeDefault) > 0 {
			reason("privilege escalation not disabled (%s)", join(apeDefault))
		}
	}
	if len(root) > 0 {
		s.RunsAsRoot = true
		reason("runs as root (%s)", join(root))
	}
	if len(mayRoot) > 0 {
		s.MayRunAsRoot = true
		reason("may run as root: no runAsUser or runAsNonRoot (%s)", join(mayRoot))
	}
	if spec.HostPID {
		reason("shares the host PID namespace")
	}
	if spec.HostNetwork {
		reason("shares the host network")
	}
	if spec.HostIPC {
		reason("shares the host IPC namespace")
	}
	c.volumes(spec, s, reason)
	c.identity(namespace, podLabels, spec, s, reason)
	if nsLabels == nil {
		nsLabels = c.namespaces[namespace]
		if _, gone := c.missing[KindNamespaces]; gone && len(opts.CriticalNamespaces) > 0 {
			s.Unknown = append(s.Unknown, c.unknown(KindNamespaces)...)
		}
	}
	for _, sel := range opts.CriticalNamespaces {
		if sel != nil && !sel.Empty() && sel.Matches(labels.Set(nsLabels)) {
			s.CriticalNamespace = true
			reason("critical namespace (%s)", sel.String())
			break
		}
	}
	return s
}

// volumes records hostPath mounts and the secrets a container can read.
func (c *Cluster) volumes(spec *corev1.PodSpec, s *workload.Sensitivity, reason func(string, ...any)) {
	mounted := map[string]bool{}
	secretEnv := map[string]bool{}
	for _, ct := range allContainers(spec) {
		for _, m := range ct.mounts {
			mounted[m.Name] = true
		}
		for _, e := range ct.env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name != "" {
				secretEnv[e.ValueFrom.SecretKeyRef.Name] = true
			}
		}
		for _, e := range ct.envFrom {
			if e.SecretRef != nil && e.SecretRef.Name != "" {
				secretEnv[e.SecretRef.Name] = true
			}
		}
	}
	hostPaths, sensitive, secretVol := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, v := range spec.Volumes {
		if !mounted[v.Name] {
			continue
		}
		switch {
		case v.HostPath != nil:
			p := pathpkg.Clean("/" + v.HostPath.Path)
			hostPaths[p] = true
			if sensitiveHostPath(p) {
				sensitive[p] = true
			}
		case v.Secret != nil && v.Secret.SecretName != "":
			secretVol[v.Secret.SecretName] = true
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.Secret != nil && src.Secret.Name != "" {
					secretVol[src.Secret.Name] = true
				}
				if src.ServiceAccountToken != nil {
					s.ServiceAccountToken = true
				}
			}
		}
	}
	s.HostPaths, s.SensitiveHostPaths = keys(hostPaths), keys(sensitive)
	s.SecretVolumes, s.SecretEnv = keys(secretVol), keys(secretEnv)
	for _, p := range s.HostPaths {
		if sensitive[p] {
			reason("mounts sensitive host path %s", p)
		} else {
			reason("mounts host path %s", p)
		}
	}
	if len(s.SecretVolumes) > 0 {
		reason("mounts secrets %s", strings.Join(s.SecretVolumes, ", "))
	}
	if len(s.SecretEnv) > 0 {
		reason("secrets in env from %s", strings.Join(s.SecretEnv, ", "))
	}
}

// identity records the service-account token, its RBAC power and cloud
// identities.
func (c *Cluster) identity(namespace string, podLabels map[string]string, spec *corev1.PodSpec, s *workload.Sensitivity, reason func(string, ...any)) {
	name := spec.ServiceAccountName
	if name == "" {
		name = spec.DeprecatedServiceAccount
	}
	if name == "" {
		name = "default"
	}
	sa := c.serviceAccounts[namespace+"/"+name]
	_, saGone := c.missing[KindServiceAccounts]
	if saGone {
		s.Unknown = append(s.Unknown, c.unknown(KindServiceAccounts)...)
	}
	automount := true
	switch {
	case spec.AutomountServiceAccountToken != nil:
		automount = *spec.AutomountServiceAccountToken
	case sa != nil && sa.AutomountServiceAccountToken != nil:
		automount = *sa.AutomountServiceAccountToken
	}
	if automount {
		s.ServiceAccountToken = true
	}
	suffix := ""
	if s.ServiceAccountToken {
		reason("service-account token mounted (%s)", name)
	} else {
		suffix = " (token not mounted)"
	}
	s.RBAC = c.RBAC(namespace, name)
	r := s.RBAC
	for _, f := range []struct {
		on   bool
		text string
	}{
		{r.ClusterAdmin, "service account is cluster-admin"},
		{r.ReadSecrets && !r.ClusterAdmin, "service account can read secrets (" + strings.Join(r.ReadSecretsScope, ", ") + ")"},
		{r.CreatePods && !r.ClusterAdmin, "service account can create pods"},
		{r.ExecPods && !r.ClusterAdmin, "service account can exec into pods"},
		{r.EscalateOrBind && !r.ClusterAdmin, "service account can escalate or bind roles"},
		{r.Impersonate && !r.ClusterAdmin, "service account can impersonate"},
	} {
		if f.on {
			reason("%s%s", f.text, suffix)
		}
	}
	if sa == nil {
		return
	}
	if v := sa.Annotations[AnnotationEKSRoleARN]; v != "" {
		s.CloudIdentity = append(s.CloudIdentity, "aws:"+v)
	}
	if v := sa.Annotations[AnnotationGKEServiceAcct]; v != "" {
		s.CloudIdentity = append(s.CloudIdentity, "gcp:"+v)
	}
	// Azure's webhook injects the federated token only into pods labelled
	// azure.workload.identity/use=true (the label sat on the service
	// account in early versions).
	if v := sa.Annotations[AnnotationAzureClientID]; v != "" &&
		(podLabels[LabelAzureUse] == "true" || sa.Labels[LabelAzureUse] == "true") {
		s.CloudIdentity = append(s.CloudIdentity, "azure:"+v)
	}
	for _, id := range s.CloudIdentity {
		reason("cloud identity %s", id)
	}
}

func sensitiveHostPath(p string) bool {
	for _, s := range SensitiveHostPaths {
		below := s != "/" && strings.HasPrefix(p, s+"/")
		above := strings.HasPrefix(s, p+"/")
		if p == s || below || above {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func join(names []string) string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}
