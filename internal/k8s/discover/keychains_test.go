package discover

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/k8stest"
	"github.com/runlens/runlens/internal/registry"
)

// forbiddenSecrets is a cluster where reading the secret "regcred" is
// forbidden and "gone" does not exist; gets counts the secret reads.
func forbiddenSecrets(t *testing.T, name string) (k8s.ClusterClient, *int) {
	t.Helper()
	cs := fake.NewClientset(dockerConfigJSONSecret("ok", "registry.example.com", "u", "p"))
	gets := new(int)
	cs.PrependReactor("get", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		*gets++
		if a.(k8stesting.GetAction).GetName() == "regcred" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "regcred", errors.New("no"))
		}
		return false, nil, nil
	})
	return k8s.ClusterClient{Name: name, API: k8stest.Clientset(cs, nil)}, gets
}

// The pull-secret warning: nothing while the images were pulled anyway,
// then one line per cluster naming the unusable secrets and the fix,
// never repeating itself.
func TestKeychainsProblem(t *testing.T) {
	ctx := context.Background()
	prod, gets := forbiddenSecrets(t, "prod")
	k := NewKeychains(prod)
	secrets := []string{"regcred", "gone", "ok"}
	for range 3 {
		if kc := k.For(ctx, "prod", "ns", secrets); kc == nil {
			t.Fatal("no keychain for readable secrets")
		}
	}
	if *gets != 3 {
		t.Errorf("%d secret reads, want 3: each secret once for the (cluster, namespace, set)", *gets)
	}
	if k.For(ctx, "prod", "ns", nil) != nil || k.For(ctx, "elsewhere", "ns", secrets) != nil {
		t.Error("a keychain without secrets, or for an unknown cluster")
	}
	if p := k.Problems("prod"); p != nil {
		t.Errorf("images pulled anyway, yet a problem: %v", p)
	}

	// Two images that named them were not pulled; one whose secrets were
	// all readable does not count.
	k.NotPulled(ctx, "prod", "ns", secrets)
	k.NotPulled(ctx, "prod", "ns", secrets)
	k.NotPulled(ctx, "prod", "ns", []string{"ok"})
	got := k.Problems("prod")
	want := "image pull secrets not usable: ns/gone (not found), ns/regcred (forbidden); 2 image(s) naming them could not be resolved or pulled. " +
		"Fix: grant the scanner get on these secrets, or create the missing ones, or give the registry's credentials in ~/.docker/config.json"
	if len(got) != 1 || got[0].Kind != ProblemSecrets || got[0].Cluster != "prod" || got[0].Reason != want {
		t.Fatalf("problems = %+v\nwant one with reason %q", got, want)
	}
	if strings.Count(got[0].Reason, "not usable") != 1 {
		t.Errorf("the warning repeats itself: %s", got[0].Reason)
	}
	if p := k.Problems("other"); p != nil {
		t.Errorf("another cluster got %v", p)
	}
}

// offline is a registry transport that never reaches a registry.
type offline struct{}

func (offline) RoundTrip(*http.Request) (*http.Response, error) { return nil, errors.New("offline") }

// pullingPod runs image with imageID, naming the pull secret regcred.
func pullingPod(name, image, imageID string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID(name)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", ImageID: imageID}}},
	}
}

// Discovery without a shared cache adds the warning itself, and only for
// the sha256-only image ID it could not resolve: the image known by its
// repository digest needed no pull.
func TestClusterPullSecretProblem(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	cs := fake.NewClientset(
		pullingPod("a", "registry.example.com/a:1", "sha256:"+hexA),
		pullingPod("b", "registry.example.com/b:1", "registry.example.com/b@sha256:"+hexB),
	)
	cs.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "regcred", errors.New("no"))
	})
	d, err := Cluster(context.Background(), k8s.ClusterClient{Name: "prod", API: k8stest.Clientset(cs, nil)},
		Options{Registry: registry.Options{Transport: offline{}}})
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, p := range d.Problems {
		if p.Kind == ProblemSecrets {
			secrets = append(secrets, p.Reason)
		}
	}
	if len(secrets) != 1 || !strings.HasPrefix(secrets[0], "image pull secrets not usable: shop/regcred (forbidden); 1 image(s)") {
		t.Errorf("secrets problems = %q, want one naming shop/regcred for the one unresolved image", secrets)
	}
}
