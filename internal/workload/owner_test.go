package workload

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClassifyImage(t *testing.T) {
	opts := OwnerOptions{
		Internal: []string{"registry.example.com/team", "ghcr.io/myorg", "acme"},
		External: []string{"harbor.example.com/dockerhub"},
	}
	type result struct{ Owner, Reason string }
	tests := []struct {
		ref, ns string
		opts    OwnerOptions
		want    result
	}{
		{"registry.example.com/team/api:1.2", "shop", opts, result{OwnerInternal, "matches internal prefix registry.example.com/team"}},
		{"registry.example.com/teamb/api:1.2", "shop", opts, result{OwnerInternal, "private registry registry.example.com"}},
		{"ghcr.io/myorg/web@sha256:" + ownerTestDigest, "shop", opts, result{OwnerInternal, "matches internal prefix ghcr.io/myorg"}},
		{"ghcr.io/my/web", "shop", opts, result{OwnerUnknown, "public registry ghcr.io, org not configured"}},
		{"acme/billing:3", "shop", opts, result{OwnerInternal, "matches internal prefix acme"}},
		{"index.docker.io/acme/billing:3", "shop", opts, result{OwnerInternal, "matches internal prefix acme"}},
		// Ours even in a system namespace: the user said so.
		{"ghcr.io/myorg/cni:1", "kube-system", opts, result{OwnerInternal, "matches internal prefix ghcr.io/myorg"}},
		{"harbor.example.com/dockerhub/library/nginx:1.25", "shop", opts, result{OwnerExternal, "matches external prefix harbor.example.com/dockerhub"}},
		{"nginx:1.25", "shop", opts, result{OwnerExternal, "public vendor image (docker.io/library)"}},
		{"docker.io/library/redis", "shop", opts, result{OwnerExternal, "public vendor image (docker.io/library)"}},
		{"bitnami/postgresql:16", "shop", opts, result{OwnerExternal, "public vendor image (docker.io/bitnami)"}},
		{"quay.io/prometheus/node-exporter:v1.8.0", "monitoring", opts, result{OwnerExternal, "public vendor image (quay.io)"}},
		{"registry.k8s.io/ingress-nginx/controller:v1.11.0", "ingress-nginx", opts, result{OwnerExternal, "public vendor image (registry.k8s.io)"}},
		{"gcr.io/distroless/static:nonroot", "shop", opts, result{OwnerExternal, "public vendor image (gcr.io/distroless)"}},
		{"gcr.io/k8s-staging-foo/bar:1", "shop", opts, result{OwnerExternal, "public vendor image (gcr.io/k8s-staging-)"}},
		{"gcr.io/my-project/api:1", "shop", opts, result{OwnerInternal, "private registry gcr.io"}},
		{"public.ecr.aws/eks/aws-load-balancer-controller:v2.8.1", "kube-system", opts, result{OwnerExternal, "public vendor image (public.ecr.aws)"}},
		{"ghcr.io/fluxcd/source-controller:v1.3.0", "flux-system", opts, result{OwnerExternal, "public vendor image (ghcr.io/fluxcd)"}},
		{"someuser/tool:latest", "shop", opts, result{OwnerUnknown, "public registry docker.io, org not configured"}},
		{"someuser/tool:latest", "kube-system", opts, result{OwnerExternal, "runs in system namespace kube-system"}},
		{"someuser/tool:latest", "platform", OwnerOptions{SystemNamespaces: []string{"platform"}}, result{OwnerExternal, "runs in system namespace platform"}},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1", "shop", opts, result{OwnerInternal, "private registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com"}},
		{"myacr.azurecr.io/api:1", "shop", opts, result{OwnerInternal, "private registry myacr.azurecr.io"}},
		{"localhost:5000/runlens-e2e/app:1", "runlens-fixtures", opts, result{OwnerInternal, "private registry localhost:5000"}},
		{"", "shop", opts, result{OwnerUnknown, "unparsable image reference"}},
		{"UPPER/Case::bad", "shop", opts, result{OwnerUnknown, "unparsable image reference"}},
	}
	for _, tt := range tests {
		owner, reason := ClassifyImage(tt.ref, tt.ns, tt.opts)
		if diff := cmp.Diff(tt.want, result{owner, reason}); diff != "" {
			t.Errorf("ClassifyImage(%q, %q) (-want +got):\n%s", tt.ref, tt.ns, diff)
		}
	}
}

const ownerTestDigest = "0000000000000000000000000000000000000000000000000000000000000000"
