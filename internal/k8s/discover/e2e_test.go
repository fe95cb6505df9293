package discover

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/k8stest"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/testing/testimage"
	"github.com/runlens/runlens/internal/workload"
)

// e2eFixture is what TestDiscoverAPI put into its cluster.
type e2eFixture struct {
	c                        *cluster.Cluster
	publicRef, privateRef    string // tags in the cluster registry
	publicDigest, privDigest string
	publicCfg, privCfg       string
}

// waitPods waits until selector matches n pods in ns.
func waitPods(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, selector string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		pods = l.Items
		return len(pods) == n, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d pods %q in %s: have %d: %v", n, selector, ns, len(pods), err)
	}
	return pods
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func podTemplate(labels map[string]string, sa string, images ...string) corev1.PodTemplateSpec {
	spec := corev1.PodSpec{ServiceAccountName: sa}
	for i, img := range images {
		spec.Containers = append(spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: img,
			Ports: []corev1.ContainerPort{{Name: fmt.Sprintf("http%d", i), ContainerPort: 8080 + int32(i)}}})
	}
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
}

// setupFixture creates, with real controllers where api mode has them
// (Deployment → ReplicaSet → Pod, Job → Pod, StatefulSet → Pod), one
// workload per imageID form and statuses written as a kubelet would.
func setupFixture(ctx context.Context, t *testing.T, c *cluster.Cluster) e2eFixture {
	t.Helper()
	cs := c.Admin(t)
	f := e2eFixture{c: c, publicRef: c.Registry + "/runlens-disc/app:v1", privateRef: c.Registry + "/" + c.PrivatePrefix + "disc:v1"}
	pub := testimage.Image(t, "linux/amd64", map[string]string{"etc/app": "public"})
	priv := testimage.Image(t, "linux/amd64", map[string]string{"etc/app": "private"})
	f.publicDigest = c.PushImage(ctx, t, pub, "runlens-disc/app", "v1").DigestStr()
	f.privDigest = c.PushImage(ctx, t, priv, c.PrivatePrefix+"disc", "v1").DigestStr()
	f.publicCfg = must(pub.ConfigName()).String()
	f.privCfg = must(priv.ConfigName()).String()
	moved := testimage.Image(t, "linux/amd64", map[string]string{"etc/app": "old build"})
	movedCfg := must(moved.ConfigName()).String()

	create := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, metav1.CreateOptions{})
	create(err)
	for ns, labels := range map[string]map[string]string{"disc-shop": {"env": "prod"}, "disc-ops": {"team": "ops"}} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{})
		create(err)
	}
	_, err = cs.CoreV1().Secrets("disc-shop").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred"},
		Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: c.DockerConfigJSON()}}, metav1.CreateOptions{})
	create(err)
	// The service account names the pull secret; the pods do not.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("disc-shop").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller"},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}, metav1.CreateOptions{})
		return err == nil, nil
	})
	create(err)
	one, two := int32(1), int32(2)

	// Deployment web: 2 pods, containerd-style imageIDs, plus an init
	// container reported dockershim-style.
	tpl := podTemplate(map[string]string{"app": "web"}, "", f.publicRef)
	tpl.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: f.publicRef}}
	_, err = cs.AppsV1().Deployments("disc-shop").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: tpl}}, metav1.CreateOptions{})
	create(err)
	// StatefulSet db: a private image known only by its config digest;
	// resolving it needs the service account's pull secret.
	_, err = cs.AppsV1().StatefulSets("disc-shop").Create(ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: podTemplate(map[string]string{"app": "db"}, "puller", f.privateRef)}}, metav1.CreateOptions{})
	create(err)
	// CronJob backup (suspended) and a Job it owns, as the cronjob
	// controller would have made it: a ctr-imported public image.
	jobTpl := podTemplate(map[string]string{"app": "backup"}, "", f.publicRef)
	jobTpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	yes := true
	cj, err := cs.BatchV1().CronJobs("disc-ops").Create(ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "backup"},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", Suspend: &yes, JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTpl}}}}, metav1.CreateOptions{})
	create(err)
	_, err = cs.BatchV1().Jobs("disc-ops").Create(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "backup-29000000",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &yes}}},
		Spec: batchv1.JobSpec{Template: jobTpl}}, metav1.CreateOptions{})
	create(err)
	// An unknown owner kind (a ConfigMap stands in for a CRD's object; it
	// exists so the garbage collector keeps the pod).
	cm, err := cs.CoreV1().ConfigMaps("disc-ops").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "etl"}}, metav1.CreateOptions{})
	create(err)
	bare := func(name string, owner *metav1.OwnerReference, images ...string) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}}, Spec: podTemplate(nil, "", images...).Spec}
		if owner != nil {
			p.OwnerReferences = []metav1.OwnerReference{*owner}
		}
		_, err := cs.CoreV1().Pods("disc-ops").Create(ctx, p, metav1.CreateOptions{})
		create(err)
	}
	bare("etl-0", &metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: cm.Name, UID: cm.UID, Controller: &yes}, f.publicRef)
	bare("debug", nil, f.publicRef)
	bare("pending", nil, f.publicRef)
	bare("moved", nil, f.publicRef)
	bare("garbage", nil, f.publicRef, "localhost:1/none:v1")

	repoID := f.publicRef[:strings.LastIndex(f.publicRef, ":")] + "@" + f.publicDigest
	for _, p := range waitPods(ctx, t, cs, "disc-shop", "app=web", 2) {
		cluster.SetPodStatus(ctx, t, cs, &p, "node-1",
			[]corev1.ContainerStatus{cluster.RunningStatus("migrate", f.publicRef, "docker-pullable://"+repoID)},
			[]corev1.ContainerStatus{cluster.RunningStatus("c0", f.publicRef, repoID)})
	}
	for _, p := range waitPods(ctx, t, cs, "disc-shop", "app=db", 1) {
		cluster.SetPodStatus(ctx, t, cs, &p, "node-1", nil, []corev1.ContainerStatus{cluster.RunningStatus("c0", f.privateRef, f.privCfg)})
	}
	for _, p := range waitPods(ctx, t, cs, "disc-ops", "app=backup", 1) {
		cluster.SetPodStatus(ctx, t, cs, &p, "node-1", nil, []corev1.ContainerStatus{cluster.RunningStatus("c0", f.publicRef, f.publicCfg)})
	}
	get := func(name string) *corev1.Pod {
		return must(cs.CoreV1().Pods("disc-ops").Get(ctx, name, metav1.GetOptions{}))
	}
	cluster.SetPodStatus(ctx, t, cs, get("etl-0"), "node-1", nil, []corev1.ContainerStatus{cluster.RunningStatus("c0", f.publicRef, repoID)})
	cluster.SetPodStatus(ctx, t, cs, get("moved"), "node-1", nil, []corev1.ContainerStatus{cluster.RunningStatus("c0", f.publicRef, movedCfg)})
	cluster.SetPodStatus(ctx, t, cs, get("garbage"), "node-1", nil, []corev1.ContainerStatus{
		cluster.RunningStatus("c0", f.publicRef, "sha256:../../etc/passwd"),
		{Name: "c1", Image: "localhost:1/none:v1", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}}})
	// debug gets an ephemeral container (kubectl debug), reported by digest.
	dbg := get("debug")
	dbg.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "dbg", Image: f.publicRef, TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullIfNotPresent}}}
	_, err = cs.CoreV1().Pods("disc-ops").UpdateEphemeralContainers(ctx, "debug", dbg, metav1.UpdateOptions{})
	create(err)
	dbg = get("debug")
	dbg.Status.EphemeralContainerStatuses = []corev1.ContainerStatus{cluster.RunningStatus("dbg", f.publicRef, repoID)}
	cluster.SetPodStatus(ctx, t, cs, dbg, "node-1", nil, []corev1.ContainerStatus{cluster.RunningStatus("c0", f.publicRef, repoID)})
	dbg = get("debug")
	dbg.Status.EphemeralContainerStatuses = []corev1.ContainerStatus{cluster.RunningStatus("dbg", f.publicRef, repoID)}
	_, err = cs.CoreV1().Pods("disc-ops").UpdateStatus(ctx, dbg, metav1.UpdateOptions{})
	create(err)
	return f
}

// summary renders a Discovery compactly for comparison.
func summary(d *Discovery) []string {
	var out []string
	for _, w := range d.Workloads {
		line := fmt.Sprintf("%s %s/%s pods=%d nodes=%v sa=%s", w.Kind, w.Namespace, w.Name, w.Pods, w.Nodes, w.ServiceAccount)
		for _, c := range w.Containers {
			dig := c.Digest
			if dig == "" {
				dig = "UNRESOLVED"
			}
			line += fmt.Sprintf(" | %s:%s=%s", c.Type, c.Name, dig)
		}
		out = append(out, line)
	}
	return out
}

func problemKinds(d *Discovery) []string {
	var out []string
	for _, p := range d.Problems {
		out = append(out, p.Kind+": "+p.Reason)
	}
	sort.Strings(out)
	return out
}

// tokenConfig returns a rest.Config for a new service account bound to a
// ClusterRole with rules (no binding when rules is nil).
func tokenConfig(ctx context.Context, t *testing.T, c *cluster.Cluster, name string, rules []rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	cs := c.Admin(t)
	_, err := cs.CoreV1().ServiceAccounts("disc-ops").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rules != nil {
		_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "disc-" + name}, Rules: rules}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "disc-" + name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "disc-" + name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: "disc-ops"}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	tok, err := cs.CoreV1().ServiceAccounts("disc-ops").CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(cluster.RESTConfig(t, c.Kubeconfig))
	cfg.BearerToken = tok.Status.Token
	return cfg
}

// scannerWithUnreachable writes a kubeconfig holding the scanner's context
// and one pointing at a closed port.
func scannerWithUnreachable(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	raw, err := clientcmd.LoadFromFile(c.ScannerKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cur := raw.Contexts[raw.CurrentContext]
	raw.Contexts = map[string]*clientcmdapi.Context{"scanner": cur.DeepCopy()}
	dead := raw.Clusters[cur.Cluster].DeepCopy()
	dead.Server = fmt.Sprintf("https://127.0.0.1:%d", k8stest.ClosedPort(t))
	raw.Clusters["dead"] = dead
	deadCtx := cur.DeepCopy()
	deadCtx.Cluster = "dead"
	raw.Contexts["dead"] = deadCtx
	raw.CurrentContext = "scanner"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*raw, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiscoverAPI(t *testing.T) {
	c := cluster.Start(t, cluster.ModeAPI, cluster.WithName("disc-api"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f := setupFixture(ctx, t, c)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	opts := Options{Registry: registry.Options{Transport: registry.NewTransport(nil, registry.RetryOptions{BaseDelay: time.Millisecond})}}
	pub, priv := f.publicDigest, f.privDigest

	wantAdmin := []string{
		"CronJob disc-ops/backup pods=1 nodes=[node-1] sa=default | container:c0=" + pub,
		"ConfigMap disc-ops/etl pods=1 nodes=[node-1] sa=default | container:c0=" + pub,
		"Pod disc-ops/debug pods=1 nodes=[node-1] sa=default | container:c0=" + pub + " | ephemeral:dbg=" + pub,
		"Pod disc-ops/garbage pods=1 nodes=[node-1] sa=default | container:c0=UNRESOLVED | container:c1=UNRESOLVED",
		"Pod disc-ops/moved pods=1 nodes=[node-1] sa=default | container:c0=UNRESOLVED",
		"Pod disc-ops/pending pods=1 nodes=[] sa=default | container:c0=UNRESOLVED",
		"Deployment disc-shop/web pods=2 nodes=[node-1] sa=default | init:migrate=" + pub + " | container:c0=" + pub,
		"StatefulSet disc-shop/db pods=1 nodes=[node-1] sa=puller | container:c0=" + priv,
	}
	t.Run("admin", func(t *testing.T) {
		d, err := Cluster(ctx, k8s.NewClusterClient("admin", cluster.RESTConfig(t, c.Kubeconfig)), Options{Namespaces: []string{"disc-shop", "disc-ops"}, Registry: opts.Registry})
		if err != nil {
			t.Fatal(err)
		}
		checkSummary(t, d, wantAdmin)
		if d.Funnel != (workload.Funnel{Pods: 9, Containers: 13, Unresolved: 4, Digests: 2}) {
			t.Errorf("funnel = %+v", d.Funnel)
		}
		t.Logf("problems:\n%s", strings.Join(problemKinds(d), "\n"))
		if len(d.Problems) != 4 {
			t.Errorf("%d problems, want the 4 unresolved containers'", len(d.Problems))
		}
		if d.Workloads[0].NamespaceLabels["team"] != "ops" || d.Namespaces["disc-shop"].Labels["env"] != "prod" {
			t.Errorf("namespace labels: %v / %v", d.Workloads[0].NamespaceLabels, d.Namespaces)
		}
		pi := d.Pods[WorkloadKey{"admin", "disc-shop", "Deployment", "web"}]
		if pi == nil || pi.Labels["app"] != "web" || pi.Labels["pod-template-hash"] == "" || len(pi.Spec.InitContainers) != 1 {
			t.Errorf("pod record of web: %+v", pi)
		}
	})

	// Exactly the shipped read-only role (deploy/rbac/runlens-scanner.yaml):
	// everything but the secret, so the private config digest stays
	// unresolved and says why.
	t.Run("scanner role", func(t *testing.T) {
		d, err := Cluster(ctx, k8s.NewClusterClient("scanner", cluster.RESTConfig(t, c.ScannerKubeconfig)), opts)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]string(nil), wantAdmin...)
		want[len(want)-1] = "StatefulSet disc-shop/db pods=1 nodes=[node-1] sa=puller | container:c0=UNRESOLVED"
		checkSummary(t, onlyNamespaces(d, "disc-shop", "disc-ops"), want)
		probs := strings.Join(problemKinds(d), "\n")
		t.Logf("problems:\n%s", probs)
		for _, want := range []string{
			"secrets: image pull secrets not usable: disc-shop/regcred (forbidden); 1 image(s) naming them could not be resolved or pulled. " +
				"Fix: grant the scanner get on these secrets, or give the registry's credentials in ~/.docker/config.json",
			"imageID: StatefulSet disc-shop/db: 1 container(s) in 1 pod(s) unresolved: sha256-only imageID not resolved against the registry",
		} {
			if !strings.Contains(probs, want) {
				t.Errorf("problems lack %q", want)
			}
		}
		for _, kind := range []string{"replicasets", "jobs", "namespaces", "serviceaccounts", "pods", "connect"} {
			if strings.Contains(probs, kind+": ") {
				t.Errorf("the scanner role should allow %s", kind)
			}
		}
		if d.Funnel.Unresolved != 5 || d.Funnel.Digests < 1 {
			t.Errorf("funnel = %+v", d.Funnel)
		}
	})

	// Only pods: the optional kinds are Problems and owners stop at the
	// pod's own owner reference.
	t.Run("pods only", func(t *testing.T) {
		cfg := tokenConfig(ctx, t, c, "pods-only", []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}})
		d, err := Cluster(ctx, k8s.NewClusterClient("limited", cfg), Options{NoRegistry: true})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, p := range d.Problems {
			kinds[p.Kind] = true
		}
		for _, k := range []string{"replicasets", "jobs", "namespaces", "serviceaccounts"} {
			if !kinds[k] {
				t.Errorf("no problem for forbidden %s: %v", k, problemKinds(d))
			}
		}
		got := map[string]int{}
		for _, w := range onlyNamespaces(d, "disc-shop", "disc-ops").Workloads {
			got[w.Kind]++
			if w.Kind == "Job" && w.Name != "backup-29000000" || w.Kind == "ReplicaSet" && !strings.HasPrefix(w.Name, "web-") {
				t.Errorf("workload %s/%s", w.Kind, w.Name)
			}
		}
		if got["ReplicaSet"] != 1 || got["Job"] != 1 || got["StatefulSet"] != 1 || got["Deployment"] != 0 {
			t.Errorf("workload kinds = %v", got)
		}
	})

	t.Run("pods forbidden", func(t *testing.T) {
		cfg := tokenConfig(ctx, t, c, "nothing", nil)
		d, err := Cluster(ctx, k8s.NewClusterClient("nothing", cfg), Options{})
		if !errors.Is(err, ErrPodsUnavailable) || len(d.Problems) != 1 || d.Problems[0].Kind != ProblemPods || len(d.Workloads) != 0 {
			t.Errorf("err = %v, discovery %+v", err, d)
		}
	})

	// Two contexts, one unreachable: it is reported, the other is scanned.
	t.Run("unreachable context", func(t *testing.T) {
		clients, err := k8s.LoadContexts(scannerWithUnreachable(t, c), nil, true)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := All(ctx, clients, opts, 0)
		if !errors.Is(err, ErrClusterUnavailable) {
			t.Errorf("err = %v", err)
		}
		if ds[0].Cluster != "dead" || len(ds[0].Problems) != 1 || ds[0].Problems[0].Kind != ProblemConnect {
			t.Errorf("dead context: %+v", ds[0])
		}
		if ds[1].Cluster != "scanner" || len(onlyNamespaces(ds[1], "disc-shop", "disc-ops").Workloads) != len(wantAdmin) {
			t.Errorf("scanner context: %v", summary(ds[1]))
		}
	})
}

// onlyNamespaces drops workloads of other namespaces (the cluster's own
// system pods, if any).
func onlyNamespaces(d *Discovery, ns ...string) *Discovery {
	keep := map[string]bool{}
	for _, n := range ns {
		keep[n] = true
	}
	out := *d
	out.Workloads = nil
	for _, w := range d.Workloads {
		if keep[w.Namespace] {
			out.Workloads = append(out.Workloads, w)
		}
	}
	return &out
}

func checkSummary(t *testing.T, d *Discovery, want []string) {
	t.Helper()
	got := summary(d)
	sort.Strings(got)
	want = append([]string(nil), want...)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("workloads:\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
