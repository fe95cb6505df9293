package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// RESTConfig loads a kubeconfig file (Kubeconfig or ScannerKubeconfig).
func RESTConfig(t testing.TB, kubeconfig string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return cfg
}

// Clientset returns a typed client for kubeconfig.
func Clientset(t testing.TB, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(RESTConfig(t, kubeconfig))
	if err != nil {
		t.Fatalf("clientset: %v", err)
	}
	return cs
}

// Admin returns a typed admin client for the cluster.
func (c *Cluster) Admin(t testing.TB) *kubernetes.Clientset { return Clientset(t, c.Kubeconfig) }

// Scanner returns a typed client authenticated as the read-only scanner user.
func (c *Cluster) Scanner(t testing.TB) *kubernetes.Clientset {
	return Clientset(t, c.ScannerKubeconfig)
}

// Apply server-side-applies every object of a multi-document YAML stream and
// returns them in order. Kinds are resolved through discovery, so CRDs work once
// they are established.
func Apply(ctx context.Context, cfg *rest.Config, manifest []byte) ([]*unstructured.Unstructured, error) {
	objs, err := DecodeObjects(manifest)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := obj.GetNamespace()
			if ns == "" {
				ns = "default"
			}
			ri = dyn.Resource(m.Resource).Namespace(ns)
		}
		// A freshly created namespace may still be getting its default ServiceAccount;
		// retry briefly on the "not found"/"forbidden" answers that gives.
		err = wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "runlens-e2e", Force: true})
			if err != nil {
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			// One more try to report the server's own error.
			_, aerr := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "runlens-e2e", Force: true})
			return nil, fmt.Errorf("apply %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), errors.Join(err, aerr))
		}
	}
	return objs, nil
}

// DecodeObjects splits a multi-document YAML stream into objects, skipping empty
// documents.
func DecodeObjects(manifest []byte) ([]*unstructured.Unstructured, error) {
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decode manifest: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("decode manifest: object without kind, apiVersion or name: %v", m)
		}
		objs = append(objs, u)
	}
}

// RunningStatus is a container status as the kubelet writes it for a
// running container, for api-mode tests that have no kubelet.
func RunningStatus(name, image, imageID string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Image: image, ImageID: imageID, Ready: true,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}
}

// SetPodStatus binds p to node (unless node is "" or p is bound) and writes
// its status as a kubelet would: Running, with the given init and main
// container statuses.
func SetPodStatus(ctx context.Context, t testing.TB, cs kubernetes.Interface, p *corev1.Pod, node string, init, main []corev1.ContainerStatus) {
	t.Helper()
	if node != "" && p.Spec.NodeName == "" {
		err := cs.CoreV1().Pods(p.Namespace).Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name},
			Target: corev1.ObjectReference{Kind: "Node", Name: node}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("bind %s: %v", p.Name, err)
		}
	}
	cur, err := cs.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Status.Phase = corev1.PodRunning
	cur.Status.InitContainerStatuses = init
	cur.Status.ContainerStatuses = main
	if _, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("status of %s: %v", p.Name, err)
	}
}
