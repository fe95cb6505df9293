package cri_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/runlens/runlens/internal/agent/contentstore"
	"github.com/runlens/runlens/internal/agent/cri"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/testing/testimage"
	"github.com/runlens/runlens/internal/vulndb"
)

const sample = "../../../testdata/sample/image.tar"

// TestCRIAndContentStoreOnRealCluster runs the bundled sample (plus the
// e2e server) as a pod on the full local cluster, finds its container
// through containerd's CRI socket with the pod's UID, name, process and
// image digest as the API server reports them, watches a second pod start
// and stop, and then inventories the running image from containerd's
// content store — no pull — and compares it with a registry scan of the
// same digest: the same packages and findings, and the time of each.
func TestCRIAndContentStoreOnRealCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName("agent-cri"))

	base, err := tarball.ImageFromPath(sample, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two layers of 24 MiB of files besides the sample's packages, so the
	// times compare reading real amounts of layer data.
	withBulk, err := mutate.AppendLayers(base, bulkLayer(t, "opt/bulk-a", 1), bulkLayer(t, "opt/bulk-b", 2))
	if err != nil {
		t.Fatal(err)
	}
	pushed := c.PushImage(ctx, t, cluster.WithApp(ctx, t, withBulk), "agent/app", "1")
	tag := c.Registry + "/agent/app:1"
	cs := c.Admin(t)
	p := runPod(ctx, t, cs, "inventory", tag)
	st := p.Status.ContainerStatuses[0]
	if st.ImageID != pushed.String() {
		t.Fatalf("pod imageID %q, want the pushed %q", st.ImageID, pushed.String())
	}
	id := strings.TrimPrefix(st.ContainerID, "containerd://")

	client, err := cri.Dial(ctx, c.ContainerdSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	t.Logf("CRI runtime %s %s", client.Runtime, client.RuntimeVersion)
	t0 := time.Now()
	all, err := client.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("listed %d running containers in %s", len(all), time.Since(t0).Round(time.Millisecond))
	ec := find(all, id)
	if ec == nil {
		t.Fatalf("container %s of pod %s not listed: %+v", id, p.Name, all)
	}
	if ec.PodUID != string(p.UID) || ec.PodName != p.Name || ec.PodNamespace != p.Namespace || ec.Name != "app" {
		t.Errorf("pod of the container: %s/%s uid %s name %s; the API server says %s/%s uid %s name app",
			ec.PodNamespace, ec.PodName, ec.PodUID, ec.Name, p.Namespace, p.Name, p.UID)
	}
	if ec.Digest != pushed.DigestStr() || ec.Image != st.ImageID {
		t.Errorf("image %q digest %q; the pod's imageID is %q", ec.Image, ec.Digest, st.ImageID)
	}
	if st.State.Running == nil || ec.StartedAt.Sub(st.State.Running.StartedAt.Time).Abs() > time.Second {
		t.Errorf("started at %s; the kubelet says %v", ec.StartedAt, st.State.Running)
	}
	checkProcess(t, *ec, c.CgroupRoot)

	checkImported(ctx, t, c, client, cs)
	watchPod(ctx, t, client, cs, tag)

	root := filepath.Join(c.Dir, "containerd", "root")
	compareScans(ctx, t, root, ec.Image, c.Registry+"/agent/app@"+pushed.DigestStr())
}

// bulkLayer is a layer of 768 files of 32 KiB of pseudo-random hex text
// (gzip halves it, as it does binaries and libraries) under dir.
func bulkLayer(t *testing.T, dir string, seed uint64) v1.Layer {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	entries := []testimage.Entry{{Name: dir + "/", Mode: 0o755}}
	for i := range 768 {
		raw := make([]byte, 16<<10)
		for j := range raw {
			raw[j] = byte(r.Uint32())
		}
		entries = append(entries, testimage.Entry{Name: fmt.Sprintf("%s/f%04d", dir, i), Mode: 0o644, Data: []byte(hex.EncodeToString(raw))})
	}
	l, err := testimage.TarLayer(entries, testimage.Created, false)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func find(cs []evidence.Container, id string) *evidence.Container {
	for i := range cs {
		if cs[i].ID == id {
			return &cs[i]
		}
	}
	return nil
}

// checkProcess checks the container's pid is a live process whose cgroup
// is the container's own, as the runtime spec named it.
func checkProcess(t *testing.T, ec evidence.Container, cgroupRoot string) {
	t.Helper()
	if len(ec.PIDs) != 1 || ec.PIDs[0] <= 1 {
		t.Fatalf("pids %v", ec.PIDs)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", ec.PIDs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ec.CgroupPath, "/"+cgroupRoot+"/kubepods/") || !strings.HasSuffix(ec.CgroupPath, "/pod"+ec.PodUID+"/"+ec.ID) {
		t.Errorf("cgroup path %q is not the container's below the kubelet's root %s", ec.CgroupPath, cgroupRoot)
	}
	same := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[2] == ec.CgroupPath {
			same++
		}
	}
	if same == 0 || !strings.Contains(string(b), ec.ID) {
		t.Errorf("/proc/%d/cgroup does not name container %s at %s:\n%s", ec.PIDs[0], ec.ID, ec.CgroupPath, b)
	}
	t.Logf("pid %d, cgroup %s (%d hierarchies agree)", ec.PIDs[0], ec.CgroupPath, same)
}

// checkImported runs an image imported into containerd without a
// registry: the runtime knows no registry digest for it, and none is made
// up.
func checkImported(ctx context.Context, t *testing.T, c *cluster.Cluster, client *cri.Client, cs kubernetes.Interface) {
	t.Helper()
	const name = "localhost/agent/imported:1"
	c.ImportImage(ctx, t, cluster.AppImage(ctx, t), name)
	p := runPod(ctx, t, cs, "imported", name)
	all, err := client.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ec := find(all, strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://"))
	if ec == nil || ec.Digest != "" || ec.Image != name || ec.PodUID != string(p.UID) {
		t.Errorf("imported image's container: %+v; want image %s without a digest (the pod's imageID is %s)", ec, name, p.Status.ContainerStatuses[0].ImageID)
	}
}

// watchPod watches while a second pod starts and is deleted: its container
// is reported started, then stopped.
func watchPod(ctx context.Context, t *testing.T, client *cri.Client, cs kubernetes.Interface, image string) {
	t.Helper()
	wctx, stop := context.WithCancel(ctx)
	changes := make(chan cri.Change, 64)
	done := make(chan error, 1)
	go func() { done <- client.Watch(wctx, 200*time.Millisecond, func(ch cri.Change) { changes <- ch }) }()
	defer func() { stop(); <-done }()
	wait := func(what string, ok func(cri.Change) bool) {
		t.Helper()
		deadline := time.After(2 * time.Minute)
		for {
			select {
			case ch := <-changes:
				if ch.Err != nil {
					t.Logf("watch: %v", ch.Err)
				}
				if ok(ch) {
					return
				}
			case <-deadline:
				t.Fatalf("watch: %s not reported", what)
			}
		}
	}
	wait("the first list", func(ch cri.Change) bool { return len(ch.Started) > 0 })
	p := runPod(ctx, t, cs, "watched", image)
	id := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
	t0 := time.Now()
	wait("the new pod's container started", func(ch cri.Change) bool {
		c := find(ch.Started, id)
		return c != nil && c.PodUID == string(p.UID)
	})
	zero := int64(0)
	if err := cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	wait("the deleted pod's container stopped", func(ch cri.Change) bool { return find(ch.Stopped, id) != nil })
	t.Logf("watch: pod %s started and stopped seen (%s after it ran)", p.Name, time.Since(t0).Round(10*time.Millisecond))
}

// runPod runs a one-container pod of image in the default namespace and
// returns it once running.
func runPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, name, image string) *corev1.Pod {
	t.Helper()
	no := false
	zero := int64(0)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: &no, TerminationGracePeriodSeconds: &zero,
			Containers: []corev1.Container{{Name: "app", Image: image, ImagePullPolicy: corev1.PullIfNotPresent}},
		},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].State.Running != nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s not running: %v %+v", name, err, p.Status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// compareScans scans the image from the content store and from the
// registry, each cold (no inventory or layer cache) and twice in turn,
// and checks they agree.
func compareScans(ctx context.Context, t *testing.T, root, storeRef, registryRef string) {
	t.Helper()
	dbDir := t.TempDir()
	if _, err := vulndb.Import(ctx, dbDir, vulndb.ClassifyDir("../../../testdata/sample/advisories")...); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dbDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scanWith := func(open func() (image.Image, error)) (*result.Image, time.Duration) {
		t.Helper()
		sc := &scan.Scanner{Advisories: db, Threats: db, TempDir: t.TempDir(), IncludePackages: true}
		t0 := time.Now()
		img, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		res, err := sc.Scan(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != result.StatusScanned {
			t.Fatalf("%s: %s: %s", img.Descriptor().Reference, res.Status, res.Error)
		}
		return res, time.Since(t0)
	}
	store, err := contentstore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	fromStore := func() (image.Image, error) { return store.Image(ctx, storeRef) }
	fromRegistry := func() (image.Image, error) {
		return image.OpenRegistry(ctx, registryRef, image.RegistryOptions{Options: registry.Options{Insecure: true}})
	}
	var st, rt []time.Duration
	var sres, rres *result.Image
	for range 2 {
		r, d := scanWith(fromStore)
		sres, st = r, append(st, d)
		r, d = scanWith(fromRegistry)
		rres, rt = r, append(rt, d)
	}
	if d := cmp.Diff(set(rres, pkgKey), set(sres, pkgKey)); d != "" {
		t.Errorf("packages (-registry +content store):\n%s", d)
	}
	if d := cmp.Diff(set(rres, findingKey), set(sres, findingKey)); d != "" {
		t.Errorf("findings (-registry +content store):\n%s", d)
	}
	if sres.Target.Digest != rres.Target.Digest || sres.Target.ConfigDigest != rres.Target.ConfigDigest || !cmp.Equal(sres.Target.Layers, rres.Target.Layers) {
		t.Errorf("identity: store %+v, registry %+v", sres.Target, rres.Target)
	}
	t.Logf("inventory of %s: %d packages, %d findings, %d layers", storeRef, sres.PackageCount, len(sres.Findings), len(sres.Target.Layers))
	t.Logf("cold scan times: content store %v, registry %v (open + flatten + extract + match, no cache; ratio %.2f)",
		st, rt, float64(min(st[0], st[1]))/float64(min(rt[0], rt[1])))
	if min(st[0], st[1]) > min(rt[0], rt[1])*3/2 {
		t.Errorf("content store scan %v is slower than the registry's %v", st, rt)
	}
}

func pkgKey(r *result.Image) []string {
	var out []string
	for _, p := range r.Packages {
		out = append(out, p.Ecosystem+" "+p.Type+" "+p.Name+"@"+p.Version+" "+strings.Join(p.Locations, ",")+" "+p.Layer)
	}
	return out
}

func findingKey(r *result.Image) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID+" "+f.Package.Name+"@"+f.Package.Version)
	}
	return out
}

func set(r *result.Image, key func(*result.Image) []string) []string {
	out := key(r)
	sort.Strings(out)
	return out
}
