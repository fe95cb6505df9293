package workload

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Image owners: who fixes a vulnerable image.
const (
	OwnerInternal = "internal" // rebuild ours
	OwnerExternal = "external" // upgrade the vendor's
	OwnerUnknown  = "unknown"
)

// OwnerOptions configure ClassifyImage.
type OwnerOptions struct {
	// Internal are "our" registries or repository prefixes
	// ("registry.example.com/team", "ghcr.io/myorg"). They win over every
	// other rule, system namespaces included.
	Internal []string
	// External are more vendor prefixes (a mirror of public images, say
	// "harbor.example.com/dockerhub"), added to DefaultExternal.
	External []string
	// SystemNamespaces default to DefaultSystemNamespaces when nil.
	SystemNamespaces []string
}

// DefaultSystemNamespaces run the platform's own components.
var DefaultSystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// DefaultExternal are public registries and well-known vendor
// repositories: whole registries ("quay.io") or registry/org prefixes
// ("docker.io/bitnami"). Docker Hub is spelled docker.io.
var DefaultExternal = []string{
	// Registries that serve only vendors' or projects' public images.
	"registry.k8s.io", "k8s.gcr.io", "quay.io", "mcr.microsoft.com", "public.ecr.aws",
	"registry.access.redhat.com", "registry.redhat.io", "docker.elastic.co", "nvcr.io",
	"cgr.dev", "gke.gcr.io", "registry.opensource.zalan.do", "container-registry.oracle.com",
	// Google-hosted public projects.
	"gcr.io/distroless", "gcr.io/google-containers", "gcr.io/google_containers",
	"gcr.io/kaniko-project", "gcr.io/cloudsql-docker", "gcr.io/k8s-staging-",
	"gcr.io/gke-release", "gcr.io/tekton-releases", "gcr.io/knative-releases",
	// Docker Hub official images and vendors.
	"docker.io/library", "docker.io/bitnami", "docker.io/grafana", "docker.io/prom",
	"docker.io/hashicorp", "docker.io/jetstack", "docker.io/fluent", "docker.io/calico",
	"docker.io/cilium", "docker.io/rancher", "docker.io/istio", "docker.io/envoyproxy",
	"docker.io/traefik", "docker.io/nginxinc", "docker.io/confluentinc", "docker.io/openpolicyagent",
	"docker.io/elastic", "docker.io/datadog", "docker.io/newrelic", "docker.io/amazon",
	"docker.io/mongo", "docker.io/minio", "docker.io/kong", "docker.io/apache",
	"docker.io/otel", "docker.io/jaegertracing", "docker.io/velero", "docker.io/argoproj",
	"docker.io/weaveworks", "docker.io/kubernetesui", "docker.io/curlimages", "docker.io/busybox",
	// GitHub Container Registry orgs of well-known projects.
	"ghcr.io/fluxcd", "ghcr.io/external-secrets", "ghcr.io/kyverno", "ghcr.io/aquasecurity",
	"ghcr.io/dexidp", "ghcr.io/cloudnative-pg", "ghcr.io/open-telemetry", "ghcr.io/prometheus-community",
	"ghcr.io/stakater", "ghcr.io/kubereboot", "ghcr.io/kube-vip", "ghcr.io/k8snetworkplumbingwg",
	"ghcr.io/grafana", "ghcr.io/argoproj", "ghcr.io/cert-manager", "ghcr.io/kedacore",
	"ghcr.io/projectcontour", "ghcr.io/spiffe", "ghcr.io/chainguard-dev", "ghcr.io/linkerd",
	"ghcr.io/kubernetes-sigs", "ghcr.io/actions", "ghcr.io/siderolabs", "ghcr.io/cilium",
}

// publicHosting are registries where anyone publishes: an org there is
// neither known vendor nor, without configuration, known to be ours.
var publicHosting = map[string]bool{"docker.io": true, "ghcr.io": true, "registry.gitlab.com": true}

// ClassifyImage says who fixes image ref running in namespace, and why.
// Rules, first match wins:
//
//  1. a prefix in opts.Internal: internal;
//  2. a prefix in opts.External or DefaultExternal (public registries and
//     well-known vendor orgs): external;
//  3. a system namespace (kube-system, ...): external, the platform's;
//  4. another org on a registry where anyone publishes (Docker Hub,
//     ghcr.io, registry.gitlab.com): unknown, configure it;
//  5. anything else, a private-looking registry (ECR, ACR, Artifact
//     Registry, gcr.io projects, Harbor, localhost): internal. A mirror of
//     vendor images there counts as ours unless listed in opts.External.
//
// An unparsable reference is unknown. Prefixes match whole path
// components: "ghcr.io/my" does not match "ghcr.io/myorg".
func ClassifyImage(ref string, namespace string, opts OwnerOptions) (owner, reason string) {
	repo, ok := normalizeRepo(ref)
	if !ok {
		return OwnerUnknown, "unparsable image reference"
	}
	for _, p := range opts.Internal {
		if matchPrefix(repo, p) {
			return OwnerInternal, "matches internal prefix " + p
		}
	}
	for _, p := range opts.External {
		if matchPrefix(repo, p) {
			return OwnerExternal, "matches external prefix " + p
		}
	}
	for _, p := range DefaultExternal {
		if matchPrefix(repo, p) {
			return OwnerExternal, "public vendor image (" + p + ")"
		}
	}
	sys := opts.SystemNamespaces
	if sys == nil {
		sys = DefaultSystemNamespaces
	}
	for _, ns := range sys {
		if ns == namespace {
			return OwnerExternal, "runs in system namespace " + ns
		}
	}
	host, _, _ := strings.Cut(repo, "/")
	if publicHosting[host] {
		return OwnerUnknown, "public registry " + host + ", org not configured"
	}
	return OwnerInternal, "private registry " + host
}

// normalizeRepo returns "registry/repository" with Docker Hub spelled
// docker.io and official images under library/.
func normalizeRepo(ref string) (string, bool) {
	r, err := name.ParseReference(strings.TrimSpace(ref))
	if err != nil {
		return "", false
	}
	reg := r.Context().RegistryStr()
	if reg == name.DefaultRegistry || reg == "registry-1.docker.io" {
		reg = "docker.io"
	}
	return reg + "/" + r.Context().RepositoryStr(), true
}

// matchPrefix matches prefix against repo on component boundaries; a
// prefix ending in "-" (a family such as "gcr.io/k8s-staging-") matches
// any component starting with it. A prefix without a registry host is
// taken as a Docker Hub org.
func matchPrefix(repo, prefix string) bool {
	prefix = strings.TrimSuffix(strings.TrimSpace(prefix), "/")
	if prefix == "" {
		return false
	}
	first, _, _ := strings.Cut(prefix, "/")
	if !strings.ContainsAny(first, ".:") && first != "localhost" {
		prefix = "docker.io/" + prefix
	} else if first == "index.docker.io" || first == "registry-1.docker.io" {
		prefix = "docker.io" + strings.TrimPrefix(prefix, first)
	}
	if strings.HasSuffix(prefix, "-") {
		return strings.HasPrefix(repo, prefix)
	}
	return repo == prefix || strings.HasPrefix(repo, prefix+"/")
}

// Repository names the repository of image reference ref as
// "registry/repository", with Docker Hub spelled docker.io and official
// images under library/ ("nginx:1.25" → "docker.io/library/nginx"); ok is
// false for a reference that does not parse.
func Repository(ref string) (repo string, ok bool) { return normalizeRepo(ref) }
