// Package clusterdiscovery benchmarks agentless discovery (issue 5): two
// api-mode clusters holding 10,000 pods and 500 unique running digests
// between them, discovered through the shipped read-only scanner role.
//
//	sudo RUNLENS_E2E=1 go test ./bench/cluster-discovery/ -run TestDiscoveryBench -v -timeout 30m
//
// Object creation is timed on its own. Discovery runs in a child process
// (this test binary re-executed) so its peak RSS (VmHWM) is discovery's
// alone, not the creation clients'.
package clusterdiscovery

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/testing/cluster"
)

const (
	podsPerCluster = 5000
	digestsPer     = 300 // cluster A runs digests 0..299, B 200..499: 500 in all
	digestOffsetB  = 200
	nodes          = 10
	workers        = 48
	namespaces     = 20
	childEnv       = "RUNLENS_BENCH_DISCOVERY_CHILD"
)

// result is what the child reports.
type result struct {
	WallSeconds float64               `json:"wall_seconds"`
	PeakRSSMB   float64               `json:"peak_rss_mb"`
	Pods        int                   `json:"pods"`
	Containers  int                   `json:"containers"`
	Workloads   int                   `json:"workloads"`
	Digests     int                   `json:"unique_digests"`
	PerCluster  map[string]k8s.Funnel `json:"per_cluster"`
	Problems    []string              `json:"problems,omitempty"`
}

func TestDiscoveryBench(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child mode")
	}
	a := cluster.Start(t, cluster.ModeAPI, cluster.WithName("disc-bench-a"))
	b := cluster.Start(t, cluster.ModeAPI, cluster.WithName("disc-bench-b"))
	ctx := context.Background()

	t0 := time.Now()
	var wg sync.WaitGroup
	for i, c := range []*cluster.Cluster{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			offset := 0
			if i == 1 {
				offset = digestOffsetB
			}
			populate(ctx, t, c, offset)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("created 2 x %d pods (with statuses), owners and nodes in %s", podsPerCluster, time.Since(t0).Round(100*time.Millisecond))

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDiscoveryChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+a.ScannerKubeconfig+string(os.PathListSeparator)+b.ScannerKubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var r result
	for _, line := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT "); ok {
			if err := json.Unmarshal([]byte(s), &r); err != nil {
				t.Fatal(err)
			}
		}
	}
	fmt.Printf("\ncluster discovery: 2 clusters, %d pods, %d containers, %d workloads, %d unique digests\n", r.Pods, r.Containers, r.Workloads, r.Digests)
	fmt.Printf("  wall %.2f s   peak RSS %.1f MB   (targets for discovery + context: <= 10 s, <= 300 MB)\n", r.WallSeconds, r.PeakRSSMB)
	for n, f := range r.PerCluster {
		fmt.Printf("  %s: %+v\n", n, f)
	}
	if r.Pods != 2*podsPerCluster || r.Digests != digestOffsetB+digestsPer {
		t.Errorf("discovered %d pods, %d digests; want %d, %d", r.Pods, r.Digests, 2*podsPerCluster, digestOffsetB+digestsPer)
	}
	if len(r.Problems) > 0 {
		t.Errorf("problems: %v", r.Problems)
	}
}

// TestDiscoveryChild is the measured process.
func TestDiscoveryChild(t *testing.T) {
	kcs := os.Getenv(childEnv)
	if kcs == "" {
		t.Skip("run by TestDiscoveryBench")
	}
	var clients []k8s.ClusterClient
	for i, kc := range strings.Split(kcs, string(os.PathListSeparator)) {
		cs, err := k8s.LoadContexts(kc, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		cs[0].Name = fmt.Sprintf("cluster-%c", 'a'+i)
		clients = append(clients, cs[0])
	}
	t0 := time.Now()
	ds, err := k8s.DiscoverAll(context.Background(), clients, k8s.DiscoverOptions{NoRegistry: true}, 0)
	wall := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	r := result{WallSeconds: wall.Seconds(), PeakRSSMB: vmHWM(t), PerCluster: map[string]k8s.Funnel{}}
	digests := map[string]bool{}
	for _, d := range ds {
		r.PerCluster[d.Cluster] = d.Funnel
		r.Pods += d.Funnel.Pods
		r.Containers += d.Funnel.Containers
		r.Workloads += len(d.Workloads)
		for _, w := range d.Workloads {
			for _, c := range w.Containers {
				if c.Digest != "" {
					digests[c.Digest] = true
				}
			}
		}
		for _, p := range d.Problems {
			r.Problems = append(r.Problems, p.Cluster+" "+p.Kind+": "+p.Reason)
		}
	}
	r.Digests = len(digests)
	b, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", b)
}

// vmHWM is the process's peak resident set, in MB.
func vmHWM(t *testing.T) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return kb / 1024
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

func digest(i int) string { return fmt.Sprintf("sha256:%064x", i+1) }

// populate creates one cluster's objects. Owner references are not marked
// controller: real controllers would otherwise adopt, scale or release
// pods they did not create (discovery falls back to the first owner).
func populate(ctx context.Context, t *testing.T, c *cluster.Cluster, offset int) {
	cfg := cluster.RESTConfig(t, c.Kubeconfig)
	cfg.QPS, cfg.Burst = 2000, 4000
	cs := kubernetes.NewForConfigOrDie(cfg)
	no := false
	var failed atomic.Bool
	check := func(what string, err error) {
		if err != nil && !failed.Swap(true) {
			t.Errorf("%s: %v", what, err)
		}
	}
	for i := range nodes {
		_, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i)}}, metav1.CreateOptions{})
		check("node", err)
	}
	for i := range namespaces {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("team-%d", i),
			Labels: map[string]string{"env": []string{"prod", "staging"}[i%2], "team": fmt.Sprint(i)}}}, metav1.CreateOptions{})
		check("namespace", err)
	}

	// Workloads: 300 Deployments x 15 pods, 50 CronJobs x 2 pods, 50
	// StatefulSets x 4 pods, 200 bare pods = 5000 pods, 600 workloads.
	type podJob struct {
		ns, name string
		owner    *metav1.OwnerReference
		wl       int
	}
	jobs := make(chan podJob, 256)
	var pw sync.WaitGroup
	for range workers {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for j := range jobs {
				if failed.Load() {
					continue
				}
				createPod(ctx, cs, j.ns, j.name, j.owner, j.wl, offset, check)
			}
		}()
	}
	ref := func(kind, apiVersion string, m metav1.ObjectMeta) *metav1.OwnerReference {
		return &metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: m.Name, UID: m.UID, Controller: &no}
	}
	zero := int32(0)
	never := func(n string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"bench-owner": n}}
	}
	tpl := func(n string) corev1.PodTemplateSpec {
		restart := corev1.RestartPolicyAlways
		if strings.HasPrefix(n, "backup-") {
			restart = corev1.RestartPolicyNever
		}
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"bench-owner": n}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.bench/placeholder:v1"}}, RestartPolicy: restart}}
	}
	wl := 0
	for i := range 300 {
		ns := fmt.Sprintf("team-%d", i%namespaces)
		n := fmt.Sprintf("web-%d", i)
		d, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: n},
			Spec: appsv1.DeploymentSpec{Replicas: &zero, Selector: never(n), Template: tpl(n)}}, metav1.CreateOptions{})
		check("deployment", err)
		if err != nil {
			break
		}
		rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: n + "-5d8f7c",
			OwnerReferences: []metav1.OwnerReference{*ref("Deployment", "apps/v1", d.ObjectMeta)}},
			Spec: appsv1.ReplicaSetSpec{Replicas: &zero, Selector: never(n + "-rs"), Template: tpl(n + "-rs")}}, metav1.CreateOptions{})
		check("replicaset", err)
		if err != nil {
			break
		}
		for p := range 15 {
			jobs <- podJob{ns, fmt.Sprintf("%s-5d8f7c-%d", n, p), ref("ReplicaSet", "apps/v1", rs.ObjectMeta), wl}
		}
		wl++
	}
	yes := true
	for i := range 50 {
		ns := fmt.Sprintf("team-%d", i%namespaces)
		n := fmt.Sprintf("backup-%d", i)
		cj, err := cs.BatchV1().CronJobs(ns).Create(ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: n},
			Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", Suspend: &yes, JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tpl(n)}}}}, metav1.CreateOptions{})
		check("cronjob", err)
		if err != nil {
			break
		}
		job, err := cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: n + "-29000000",
			OwnerReferences: []metav1.OwnerReference{*ref("CronJob", "batch/v1", cj.ObjectMeta)}},
			Spec: batchv1.JobSpec{Suspend: &yes, Template: tpl(n + "-job")}}, metav1.CreateOptions{})
		check("job", err)
		if err != nil {
			break
		}
		for p := range 2 {
			jobs <- podJob{ns, fmt.Sprintf("%s-29000000-%d", n, p), ref("Job", "batch/v1", job.ObjectMeta), wl}
		}
		wl++
	}
	for i := range 50 {
		ns := fmt.Sprintf("team-%d", i%namespaces)
		n := fmt.Sprintf("db-%d", i)
		ss, err := cs.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: n},
			Spec: appsv1.StatefulSetSpec{Replicas: &zero, Selector: never(n), Template: tpl(n)}}, metav1.CreateOptions{})
		check("statefulset", err)
		if err != nil {
			break
		}
		for p := range 4 {
			jobs <- podJob{ns, fmt.Sprintf("%s-%d", n, p), ref("StatefulSet", "apps/v1", ss.ObjectMeta), wl}
		}
		wl++
	}
	for i := range 200 {
		jobs <- podJob{fmt.Sprintf("team-%d", i%namespaces), fmt.Sprintf("tool-%d", i), nil, wl}
		wl++
	}
	close(jobs)
	pw.Wait()
}

// createPod creates a realistic pod (labels, env, resources, a secret
// volume) and writes its running status with the workload's digests.
func createPod(ctx context.Context, cs kubernetes.Interface, ns, name string, owner *metav1.OwnerReference, wl, offset int, check func(string, error)) {
	d := offset + wl%digestsPer
	initD := offset + (wl+7)%digestsPer
	image := fmt.Sprintf("registry.bench/team/app-%d:v1", d)
	initImage := fmt.Sprintf("registry.bench/team/app-%d:v1", initD)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels:      map[string]string{"app": fmt.Sprintf("wl-%d", wl), "pod-template-hash": "5d8f7c", "tier": "backend", "version": "v1"},
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090"}},
		Spec: corev1.PodSpec{
			NodeName:       fmt.Sprintf("node-%d", wl%nodes),
			Tolerations:    []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			InitContainers: []corev1.Container{{Name: "init", Image: initImage, Command: []string{"/bin/migrate", "--wait"}}},
			Containers: []corev1.Container{{
				Name: "app", Image: image, Args: []string{"--listen=:8080", "--log-level=info"},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}},
				Env: []corev1.EnvVar{{Name: "MODE", Value: "production"}, {Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}}},
				Resources:    corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}},
				VolumeMounts: []corev1.VolumeMount{{Name: "certs", MountPath: "/etc/certs", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "certs"}}}},
		},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	created, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		check("pod", err)
		return
	}
	now := metav1.Now()
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", HostIP: "10.1.0.1",
		InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", Image: initImage, ImageID: fmt.Sprintf("registry.bench/team/app-%d@%s", initD, digest(initD)),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", FinishedAt: now}}}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: image, ImageID: fmt.Sprintf("registry.bench/team/app-%d@%s", d, digest(d)), Ready: true,
			ContainerID: "containerd://" + strings.Repeat("c", 64), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}},
	}
	_, err = cs.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	check("pod status", err)
}
