package discover

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/workload"
)

func ref(kind, name string, controller bool) metav1.OwnerReference {
	return metav1.OwnerReference{Kind: kind, Name: name, Controller: &controller}
}

func TestOwnerWalk(t *testing.T) {
	ix := &ownerIndex{
		replicaSets: map[string]ownerRef{"shop/web-5d8": {"Deployment", "web"}, "shop/roll-77": {"Rollout", "roll"}},
		jobs:        map[string]ownerRef{"ops/backup-2900": {"CronJob", "backup"}},
	}
	tests := []struct {
		name string
		ns   string
		refs []metav1.OwnerReference
		want ownerRef
	}{
		{"bare pod", "shop", nil, ownerRef{"Pod", "p"}},
		{"deployment", "shop", []metav1.OwnerReference{ref("ReplicaSet", "web-5d8", true)}, ownerRef{"Deployment", "web"}},
		{"rs in another namespace is not this one", "other", []metav1.OwnerReference{ref("ReplicaSet", "web-5d8", true)}, ownerRef{"ReplicaSet", "web-5d8"}},
		{"bare replicaset", "shop", []metav1.OwnerReference{ref("ReplicaSet", "solo", true)}, ownerRef{"ReplicaSet", "solo"}},
		{"rs owned by an unknown kind", "shop", []metav1.OwnerReference{ref("ReplicaSet", "roll-77", true)}, ownerRef{"Rollout", "roll"}},
		{"cronjob", "ops", []metav1.OwnerReference{ref("Job", "backup-2900", true)}, ownerRef{"CronJob", "backup"}},
		{"bare job", "ops", []metav1.OwnerReference{ref("Job", "once", true)}, ownerRef{"Job", "once"}},
		{"statefulset", "db", []metav1.OwnerReference{ref("StatefulSet", "pg", true)}, ownerRef{"StatefulSet", "pg"}},
		{"daemonset", "kube-system", []metav1.OwnerReference{ref("DaemonSet", "agent", true)}, ownerRef{"DaemonSet", "agent"}},
		{"unknown kind", "x", []metav1.OwnerReference{ref("SparkApplication", "etl", true)}, ownerRef{"SparkApplication", "etl"}},
		{"controller wins over first", "shop", []metav1.OwnerReference{ref("ConfigMap", "c", false), ref("ReplicaSet", "web-5d8", true)}, ownerRef{"Deployment", "web"}},
		{"no controller: first", "x", []metav1.OwnerReference{ref("Node", "n1", false)}, ownerRef{"Node", "n1"}},
		{"empty refs are ignored", "x", []metav1.OwnerReference{{}, {Kind: "Job"}}, ownerRef{"Pod", "p"}},
	}
	for _, tt := range tests {
		if got := ix.top(tt.ns, "p", tt.refs); got != tt.want {
			t.Errorf("%s: top = %v, want %v", tt.name, got, tt.want)
		}
	}
	// A nil index (owners not listable) stops at the pod's owner.
	var empty ownerIndex
	if got := empty.top("shop", "p", []metav1.OwnerReference{ref("ReplicaSet", "web-5d8", true)}); got != (ownerRef{"ReplicaSet", "web-5d8"}) {
		t.Errorf("empty index: %v", got)
	}
}

func cs(name, imageID string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, ImageID: imageID}
}

// TestBuilder folds hand-made pods — every imageID form and the bad ones —
// and checks workloads, funnel and problems.
func TestBuilder(t *testing.T) {
	ix := &ownerIndex{replicaSets: map[string]ownerRef{"shop/web-1": {"Deployment", "web"}, "shop/web-2": {"Deployment", "web"}}, jobs: map[string]ownerRef{}}
	b := newBuilder(context.Background(), k8s.ClusterClient{Name: "c1"}, Options{NoRegistry: true}, ix,
		map[string][]string{"shop/builder": {"sa-pull"}}, NewKeychains())
	dA, dB := "sha256:"+hexA, "sha256:"+hexB
	pod := func(name, rs string, mutate func(p *corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("uid-" + name),
				Labels: map[string]string{"app": "web", "pod-template-hash": rs}},
			Spec: corev1.PodSpec{NodeName: "node-" + name[len(name)-1:], ServiceAccountName: "builder",
				ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pod-pull"}, {Name: "sa-pull"}},
				InitContainers:   []corev1.Container{{Name: "init", Image: "localhost:5000/init:v1"}},
				Containers: []corev1.Container{{Name: "app", Image: "localhost:5000/app:v1",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{cs("init", "localhost:5000/init@"+dB)},
				ContainerStatuses:     []corev1.ContainerStatus{cs("app", "docker-pullable://localhost:5000/app@"+dA)}},
		}
		if rs != "" {
			p.OwnerReferences = []metav1.OwnerReference{ref("ReplicaSet", rs, true)}
		}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	b.addPod(pod("web-1-a", "web-1", nil))
	b.addPod(pod("web-1-b", "web-1", nil))
	b.addPod(pod("web-1-b", "web-1", nil))                 // seen again after a list restart: ignored
	b.addPod(pod("web-2-c", "web-2", func(p *corev1.Pod) { // pending: not yet pulled
		p.Status = corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}}
	}))
	b.addPod(pod("debug-d", "", func(p *corev1.Pod) { // bare pod with an ephemeral container, ctr-imported image
		p.Status.ContainerStatuses = []corev1.ContainerStatus{cs("app", "sha256:"+hexA)}
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Image: "busybox"}}}
		p.Status.EphemeralContainerStatuses = []corev1.ContainerStatus{cs("dbg", "docker.io/library/busybox@"+dB)}
	}))
	b.addPod(pod("nostatus-e", "", func(p *corev1.Pod) { p.Status = corev1.PodStatus{} }))
	b.addPod(pod("hostile-f", "", func(p *corev1.Pod) {
		p.UID = ""
		p.Status.ContainerStatuses = []corev1.ContainerStatus{cs("app", "app@sha256:../../../etc/passwd"), cs("ghost", "x@"+dA)}
		p.Status.InitContainerStatuses = nil
	}))

	d := &Discovery{Pods: map[WorkloadKey]*PodInfo{}, Namespaces: map[string]NamespaceInfo{"shop": {Labels: map[string]string{"env": "prod"}}}}
	b.finish(d)

	if diff := cmp.Diff(workload.Funnel{Pods: 6, Containers: 13, Unresolved: 7, Digests: 2}, d.Funnel); diff != "" {
		t.Errorf("funnel (-want +got):\n%s", diff)
	}
	var got []string
	for _, w := range d.Workloads {
		line := fmt.Sprintf("%s/%s/%s pods=%d nodes=%v sa=%s labels=%v nslabels=%v", w.Namespace, w.Kind, w.Name, w.Pods, w.Nodes, w.ServiceAccount, w.Labels, w.NamespaceLabels)
		for _, c := range w.Containers {
			line += fmt.Sprintf("\n  %s %s %s repo=%s digest=%.15s pull=%v ports=%d", c.Type, c.Name, c.Image, c.Repository, c.Digest, c.PullSecrets, len(c.Ports))
		}
		got = append(got, line)
	}
	want := []string{
		"shop/Deployment/web pods=3 nodes=[node-a node-b node-c] sa=builder labels=map[app:web] nslabels=map[env:prod]" +
			"\n  init init localhost:5000/init:v1 repo=localhost:5000/init digest=sha256:01234567 pull=[pod-pull sa-pull] ports=0" +
			"\n  container app localhost:5000/app:v1 repo=localhost:5000/app digest=sha256:aaaaaaaa pull=[pod-pull sa-pull] ports=1",
		"shop/Pod/debug-d pods=1 nodes=[node-d] sa=builder labels=map[app:web] nslabels=map[env:prod]" +
			"\n  init init localhost:5000/init:v1 repo=localhost:5000/init digest=sha256:01234567 pull=[pod-pull sa-pull] ports=0" +
			"\n  container app localhost:5000/app:v1 repo= digest= pull=[pod-pull sa-pull] ports=1" +
			"\n  ephemeral dbg busybox repo=index.docker.io/library/busybox digest=sha256:01234567 pull=[pod-pull sa-pull] ports=0",
		"shop/Pod/hostile-f pods=1 nodes=[node-f] sa=builder labels=map[app:web] nslabels=map[env:prod]" +
			"\n  init init localhost:5000/init:v1 repo= digest= pull=[pod-pull sa-pull] ports=0" +
			"\n  container app localhost:5000/app:v1 repo= digest= pull=[pod-pull sa-pull] ports=1",
		"shop/Pod/nostatus-e pods=1 nodes=[node-e] sa=builder labels=map[app:web] nslabels=map[env:prod]" +
			"\n  init init localhost:5000/init:v1 repo= digest= pull=[pod-pull sa-pull] ports=0" +
			"\n  container app localhost:5000/app:v1 repo= digest= pull=[pod-pull sa-pull] ports=1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	var problems []string
	for _, p := range d.Problems {
		problems = append(problems, p.Kind+": "+p.Reason)
	}
	wantProblems := []string{
		"imageID: Deployment shop/web: 1 container(s) in 1 pod(s) unresolved: no container status yet (pod Pending)",
		"imageID: Deployment shop/web: 1 container(s) in 1 pod(s) unresolved: no imageID: waiting (ImagePullBackOff)",
		"imageID: Pod shop/debug-d: 1 container(s) in 1 pod(s) unresolved: sha256-only imageID (config digest); registry lookups disabled",
		"imageID: Pod shop/hostile-f: 1 container(s) in 1 pod(s) unresolved: malformed imageID: bad digest \"sha256:../../../etc/passwd\"",
		"imageID: Pod shop/hostile-f: 1 container(s) in 1 pod(s) unresolved: no container status yet (pod Running)",
		"imageID: Pod shop/nostatus-e: 2 container(s) in 1 pod(s) unresolved: pod has no status",
	}
	if diff := cmp.Diff(wantProblems, problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	pi := d.Pods[WorkloadKey{"c1", "shop", "Deployment", "web"}]
	if pi == nil || pi.Spec == nil || pi.Labels["pod-template-hash"] != "web-1" || pi.Spec.Containers[0].Name != "app" {
		t.Errorf("representative pod of shop/web = %+v", pi)
	}
	if len(d.Pods) != len(d.Workloads) {
		t.Errorf("%d pod records for %d workloads", len(d.Pods), len(d.Workloads))
	}
}

// TestBuilderHugePod folds a pod with thousands of containers and labels,
// and a pod with no spec at all, without blowing up.
func TestBuilderHugePod(t *testing.T) {
	b := newBuilder(context.Background(), k8s.ClusterClient{Name: "c"}, Options{NoRegistry: true}, nil, nil, NewKeychains())
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "n", Labels: map[string]string{}}}
	for i := range 5000 {
		n := fmt.Sprintf("c%d", i)
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "r/i:" + n})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs(n, fmt.Sprintf("r/i@sha256:%064x", i)))
		p.Labels[n] = strings.Repeat("v", 63)
	}
	b.addPod(p)
	b.addPod(&corev1.Pod{})
	d := &Discovery{Pods: map[WorkloadKey]*PodInfo{}}
	b.finish(d)
	if d.Funnel != (workload.Funnel{Pods: 2, Containers: 5000, Digests: 5000}) {
		t.Errorf("funnel = %+v", d.Funnel)
	}
	if len(d.Workloads) != 2 || len(d.Workloads[1].Containers) != 5000 {
		t.Errorf("workloads = %d", len(d.Workloads))
	}
}

func TestUnresolvedProblemsCapped(t *testing.T) {
	b := newBuilder(context.Background(), k8s.ClusterClient{Name: "c"}, Options{}, nil, nil, NewKeychains())
	for i := range maxImageIDProblems + 50 {
		b.addPod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: "n"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "x"}}}})
	}
	d := &Discovery{Pods: map[WorkloadKey]*PodInfo{}}
	b.finish(d)
	if len(d.Problems) != maxImageIDProblems+1 || !strings.Contains(d.Problems[maxImageIDProblems].Reason, "50 more") {
		t.Errorf("%d problems, last %+v", len(d.Problems), d.Problems[len(d.Problems)-1])
	}
	if d.Funnel.Unresolved != maxImageIDProblems+50 {
		t.Errorf("unresolved = %d", d.Funnel.Unresolved)
	}
}
