package cluster

import (
	"context"
	_ "embed"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/runlens/runlens/internal/testing/testimage"
)

// workloadsYAML is the workload set the cluster tests scan: every workload kind, every
// Service type, an Ingress, a deny-all NetworkPolicy, ServiceAccounts of varying RBAC
// power (one bound to cluster-admin, one with an IRSA annotation), init containers
// and a privileged pod mounting the host's "/". "{{IMAGE}}" stands for the image.
//
//go:embed testdata/workloads.yaml
var workloadsYAML string

// Fixture namespaces created by ApplyWorkloads.
const (
	// FixtureNamespace holds the exposed workloads.
	FixtureNamespace = "runlens-fixtures"
	// IsolatedNamespace holds a workload behind a deny-all NetworkPolicy.
	IsolatedNamespace = "runlens-isolated"
)

// WorkloadsManifest returns the workload set with image substituted.
func WorkloadsManifest(image string) []byte {
	return []byte(strings.ReplaceAll(workloadsYAML, "{{IMAGE}}", image))
}

// ApplyWorkloads applies the workload set, running image, as an admin.
func (c *Cluster) ApplyWorkloads(ctx context.Context, t testing.TB, image string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Apply(ctx, RESTConfig(t, c.Kubeconfig), WorkloadsManifest(image))
	if err != nil {
		t.Fatalf("apply workloads: %v", err)
	}
	return objs
}

// AppImage builds the e2e app (testdata/app, a static Go binary) into a one-layer
// image whose entrypoint is /app.
func AppImage(ctx context.Context, t testing.TB) v1.Image {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin, err := testimage.GoStatic(ctx, filepath.Dir(file), "./testdata/app")
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	img, err := testimage.FromFiles([]testimage.File{{Path: "/app", Data: bin}},
		testimage.Config{Entrypoint: []string{"/app"}, Labels: map[string]string{"org.opencontainers.image.title": "runlens-e2e-app"}})
	if err != nil {
		t.Fatalf("app image: %v", err)
	}
	return img
}

// PushImage pushes img to the cluster registry as repo:tag (repo without host) and
// returns the digest reference, e.g. localhost:PORT/runlens-e2e/app@sha256:….
// Repositories under PrivatePrefix are pushed with the registry credentials.
func (c *Cluster) PushImage(ctx context.Context, t testing.TB, img v1.Image, repo, tag string) name.Digest {
	t.Helper()
	ref := fmt.Sprintf("%s/%s:%s", c.Registry, repo, tag)
	var opts []remote.Option
	if strings.HasPrefix(repo, c.PrivatePrefix) {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: c.RegistryUser, Password: c.RegistryPassword}))
	}
	d, err := testimage.Push(ctx, img, ref, opts...)
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return d
}

// DockerConfigJSON returns a .dockerconfigjson payload for the private registry
// path, for an image pull Secret.
func (c *Cluster) DockerConfigJSON() []byte {
	return DockerConfigJSON(c.Registry, c.RegistryUser, c.RegistryPassword)
}

// RemoteDigest returns the digest ref points at in its registry (anonymous).
func RemoteDigest(ctx context.Context, ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("reference %q: %w", ref, err)
	}
	desc, err := remote.Head(r, remote.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("head %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}

// ImportImage loads img straight into the node's containerd as ref (with `ctr
// images import`, no registry), the way air-gapped nodes get images: pods must use
// imagePullPolicy Never, and their imageID is then "sha256:<config digest>" rather
// than a registry digest.
func (c *Cluster) ImportImage(ctx context.Context, t testing.TB, img v1.Image, ref string) {
	t.Helper()
	if c.ContainerdSocket == "" {
		t.Fatal("ImportImage: no containerd in this cluster (api mode)")
	}
	tarPath := filepath.Join(t.TempDir(), "image.tar")
	if err := testimage.WriteTarball(img, ref, tarPath); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, "ctr", "--address", c.ContainerdSocket, "-n", "k8s.io",
		"images", "import", tarPath).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr images import %s: %v\n%s", ref, err, out)
	}
}

// AddEphemeralContainer attaches a debug container running image (with args) to a
// running pod through the ephemeralcontainers subresource, as `kubectl debug` does;
// ephemeral containers cannot be declared in a manifest.
func (c *Cluster) AddEphemeralContainer(ctx context.Context, t testing.TB, ns, pod, name, image string, args ...string) {
	t.Helper()
	cs := c.Admin(t)
	p, err := cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod %s/%s: %v", ns, pod, err)
	}
	p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: image, Args: args},
	})
	if _, err := cs.CoreV1().Pods(ns).UpdateEphemeralContainers(ctx, pod, p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("add ephemeral container to %s/%s: %v", ns, pod, err)
	}
}
