// Package workload is the model of what runs in Kubernetes and the context
// that makes a vulnerability dangerous there: the workloads, the digests
// their containers run, network exposure and privileges, and the rules
// that say who fixes each image (ClassifyImage). It has no client-go
// dependency, so reports and risk scoring can use it; internal/k8s/discover
// and internal/k8s/posture fill it from the API.
package workload

// Snapshot is what discovery found in one cluster (kubeconfig context).
type Snapshot struct {
	// Cluster is the kubeconfig context name.
	Cluster string `json:"cluster"`
	// Workloads are the top-level owners of running pods, sorted by
	// namespace, kind, name.
	Workloads []Workload `json:"workloads"`
	// Funnel counts what was seen.
	Funnel Funnel `json:"funnel"`
	// Problems are things discovery could not see (a forbidden kind, an
	// unreachable context, a pod without status); results are partial
	// where these apply.
	Problems []Problem `json:"problems,omitempty"`
}

// Funnel counts pods, containers and digests in one cluster.
type Funnel struct {
	Pods       int `json:"pods"`
	Containers int `json:"containers"`
	// Unresolved counts containers whose running digest is unknown (no
	// imageID yet, or a sha256-only ID that could not be resolved).
	Unresolved int `json:"unresolved"`
	Digests    int `json:"digests"`
}

// Problem is one thing discovery could not do, with its scope.
type Problem struct {
	Cluster string `json:"cluster"`
	// Kind is the resource or step ("secrets", "ingresses", "connect").
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Workload is a top-level owner (Deployment, StatefulSet, DaemonSet,
// CronJob, Job, bare Pod, or an unknown kind kept by kind/name) and the
// containers its pods run.
type Workload struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	// Pods is the number of pods seen; Nodes where they run; PodUIDs the
	// pods, which node agents' evidence names.
	Pods            int               `json:"pods"`
	PodUIDs         []string          `json:"pod_uids,omitempty"`
	Nodes           []string          `json:"nodes,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	NamespaceLabels map[string]string `json:"namespace_labels,omitempty"`
	ServiceAccount  string            `json:"service_account,omitempty"`
	Containers      []Container       `json:"containers"`
	Exposure        *Exposure         `json:"exposure,omitempty"`
	Sensitivity     *Sensitivity      `json:"sensitivity,omitempty"`
}

// Container is one container of a workload and the image it runs.
type Container struct {
	Name string `json:"name"`
	// Type is "container", "init" or "ephemeral".
	Type string `json:"type"`
	// Image is the reference from the pod spec (often a tag).
	Image string `json:"image"`
	// ImageID is the runtime's report as given (status.containerStatuses[].imageID).
	ImageID string `json:"image_id,omitempty"`
	// Digest is the manifest digest actually running ("sha256:..."), and
	// Repository where it can be pulled from ("registry/repo"); empty when
	// unresolved.
	Digest     string `json:"digest,omitempty"`
	Repository string `json:"repository,omitempty"`
	// Ports are the declared container ports.
	Ports []Port `json:"ports,omitempty"`
	// PullSecrets are the secret names (pod's and service account's) that
	// may authenticate the pull, in the workload's namespace.
	PullSecrets []string `json:"pull_secrets,omitempty"`
	// Owner says who fixes the image: "internal" (rebuild ours) or
	// "external" (upgrade the vendor's), with the rule that decided.
	Owner       string `json:"owner,omitempty"`
	OwnerReason string `json:"owner_reason,omitempty"`
}

// Port is a declared container port.
type Port struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int32  `json:"container_port"`
	Protocol      string `json:"protocol,omitempty"`
}

// Exposure levels, most exposed first.
const (
	ExposureInternet = "internet" // LoadBalancer, NodePort, ExternalIPs, Ingress, Gateway route
	ExposureCluster  = "cluster"  // reachable from unrestricted pods (ClusterIP or any pod IP)
	ExposureIsolated = "isolated" // ingress restricted by NetworkPolicy to selected peers, or none
	// ExposureUnknown: a kind that could make the workload more exposed than
	// found (Services, Ingresses, Gateway routes) could not be read; see Unknown.
	ExposureUnknown = "unknown"
)

// Exposure is how reachable a workload is over the network.
type Exposure struct {
	Level string `json:"level"`
	// Paths explain the level, e.g.
	// "Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080".
	Paths []string `json:"paths,omitempty"`
	// NetworkPolicies that select the workload's pods and restrict ingress.
	NetworkPolicies []string `json:"network_policies,omitempty"`
	// Unknown names what could not be evaluated ("networkpolicies: forbidden"),
	// so a partial answer is never read as a safe one.
	Unknown []string `json:"unknown,omitempty"`
}

// Sensitivity is what an attacker gains by compromising the workload.
type Sensitivity struct {
	Privileged               bool     `json:"privileged,omitempty"`
	AddedCapabilities        []string `json:"added_capabilities,omitempty"`
	AllowPrivilegeEscalation bool     `json:"allow_privilege_escalation,omitempty"`
	// RunsAsRoot: some container runs as UID 0 for certain (runAsUser: 0).
	// MayRunAsRoot: some container has no runAsUser and no runAsNonRoot, so
	// the image's USER decides (often root).
	RunsAsRoot   bool `json:"runs_as_root,omitempty"`
	MayRunAsRoot bool `json:"may_run_as_root,omitempty"`
	HostPID      bool `json:"host_pid,omitempty"`
	HostNetwork  bool `json:"host_network,omitempty"`
	HostIPC      bool `json:"host_ipc,omitempty"`
	// HostPaths are all hostPath mounts; SensitiveHostPaths the dangerous
	// ones ("/", docker/containerd sockets, /var/lib/kubelet, /etc).
	HostPaths          []string `json:"host_paths,omitempty"`
	SensitiveHostPaths []string `json:"sensitive_host_paths,omitempty"`
	// Secrets mounted as volumes or referenced from env (names only).
	SecretVolumes []string `json:"secret_volumes,omitempty"`
	SecretEnv     []string `json:"secret_env,omitempty"`
	// ServiceAccountToken is true when a token is automounted.
	ServiceAccountToken bool `json:"service_account_token,omitempty"`
	// RBAC is the service account's effective power.
	RBAC *RBACPower `json:"rbac,omitempty"`
	// CloudIdentity lists cloud role bindings ("aws:arn:aws:iam::…",
	// "gcp:sa@project.iam.gserviceaccount.com", "azure:client-id").
	CloudIdentity []string `json:"cloud_identity,omitempty"`
	// CriticalNamespace is set when the namespace matches the user's
	// criticality selectors (e.g. env=prod).
	CriticalNamespace bool `json:"critical_namespace,omitempty"`
	// Reasons are short human-readable phrases for each flag set.
	Reasons []string `json:"reasons,omitempty"`
	// Unknown names what could not be evaluated (service account or RBAC
	// kinds forbidden).
	Unknown []string `json:"unknown,omitempty"`
}

// RBACPower summarises what a service account may do.
type RBACPower struct {
	ClusterAdmin bool `json:"cluster_admin,omitempty"`
	ReadSecrets  bool `json:"read_secrets,omitempty"`
	// ReadSecretsScope is "cluster" or the namespaces where it can.
	ReadSecretsScope []string `json:"read_secrets_scope,omitempty"`
	CreatePods       bool     `json:"create_pods,omitempty"`
	ExecPods         bool     `json:"exec_pods,omitempty"`
	EscalateOrBind   bool     `json:"escalate_or_bind,omitempty"`
	Impersonate      bool     `json:"impersonate,omitempty"`
	// Bindings are the (Cluster)RoleBindings that grant the power.
	Bindings []string `json:"bindings,omitempty"`
	// Unknown names what could not be evaluated (a forbidden RBAC kind, a
	// binding to a missing role).
	Unknown []string `json:"unknown,omitempty"`
}
