package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/testing/cluster"
)

// TestFullMode runs the workload set from an image in the cluster's own registry
// and follows one container from the API (imageID) through CRI to its process, then
// tears the cluster down and checks nothing is left.
func TestFullMode(t *testing.T) {
	hostBefore := hostEntries()
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName("e2e-full"))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cs := c.Admin(t)

	img := cluster.AppImage(ctx, t)
	pushed := c.PushImage(ctx, t, img, "runlens-e2e/app", "v1")
	t.Logf("pushed %s", pushed)
	c.ApplyWorkloads(ctx, t, c.Registry+"/runlens-e2e/app:v1")

	t0 := time.Now()
	pods := waitPods(ctx, t, cs, cluster.FixtureNamespace, "app=web", 4*time.Minute, allRunning)
	t.Logf("web pod running %s after apply", time.Since(t0).Round(time.Second))
	web := pods[0]
	st := web.Status.ContainerStatuses[0]
	// The kubelet reports the registry digest the tag resolved to, not the tag.
	if st.ImageID != pushed.String() {
		t.Errorf("imageID = %q, want %q", st.ImageID, pushed.String())
	}
	if st.Image != c.Registry+"/runlens-e2e/app:v1" {
		t.Errorf("image = %q", st.Image)
	}
	containerID, ok := strings.CutPrefix(st.ContainerID, "containerd://")
	if !ok {
		t.Fatalf("containerID = %q, want containerd://…", st.ContainerID)
	}

	// CRI: the same container, and its host PID.
	out, err := c.Crictl(ctx, "inspect", "-o", "json", containerID)
	if err != nil {
		t.Fatal(err)
	}
	var insp struct {
		Status struct {
			ImageRef string `json:"imageRef"`
			Labels   map[string]string
		} `json:"status"`
		Info struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	if err := json.Unmarshal(out, &insp); err != nil {
		t.Fatalf("crictl inspect: %v\n%s", err, out)
	}
	if insp.Status.Labels["io.kubernetes.pod.name"] != web.Name || insp.Info.Pid <= 0 {
		t.Fatalf("crictl inspect: pod %q pid %d, want pod %q and a pid", insp.Status.Labels["io.kubernetes.pod.name"], insp.Info.Pid, web.Name)
	}
	pid := insp.Info.Pid
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(maps), " /app\n") {
		t.Errorf("/proc/%d/maps does not map /app:\n%s", pid, maps)
	}
	cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if !strings.Contains(string(cg), "/"+c.CgroupRoot+"/kubepods/") || !strings.Contains(string(cg), containerID) {
		t.Errorf("/proc/%d/cgroup is not the container's own cgroup under %s:\n%s", pid, c.CgroupRoot, cg)
	}
	netns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatal(err)
	}
	if self, _ := os.Readlink("/proc/self/ns/net"); self == netns {
		t.Errorf("web pod shares the host network namespace")
	}

	// The rest of the workload set runs too: StatefulSet, DaemonSet, Job, bare pod,
	// init containers, the privileged hostPath pod.
	all := waitPods(ctx, t, cs, cluster.FixtureNamespace, "", 4*time.Minute, func(p []corev1.Pod) (bool, string) {
		if len(p) < 7 {
			return false, fmt.Sprintf("%d pods", len(p))
		}
		return allRunning(p)
	})
	for _, p := range all {
		if p.Name == "with-init" {
			is := p.Status.InitContainerStatuses
			if len(is) != 1 || is[0].State.Terminated == nil || is[0].State.Terminated.ExitCode != 0 {
				t.Errorf("with-init: init container status %+v", is)
			}
		}
	}

	t.Run("ephemeral container", func(t *testing.T) {
		c.AddEphemeralContainer(ctx, t, cluster.FixtureNamespace, "standalone", "debug", c.Registry+"/runlens-e2e/app:v1", "-listen", "127.0.0.1:0")
		waitPods(ctx, t, cs, cluster.FixtureNamespace, "app=standalone", 2*time.Minute, func(p []corev1.Pod) (bool, string) {
			es := p[0].Status.EphemeralContainerStatuses
			if len(es) == 1 && es[0].State.Running != nil {
				return true, ""
			}
			return false, fmt.Sprintf("ephemeral statuses %+v", es)
		})
	})
	// Logs travel apiserver -> kubelet, which the harness keeps on loopback.
	t.Run("logs through the kubelet", func(t *testing.T) {
		b, err := cs.CoreV1().Pods(cluster.FixtureNamespace).GetLogs("with-init", &corev1.PodLogOptions{Container: "init-once"}).DoRaw(ctx)
		if err != nil || !strings.Contains(string(b), "runlens e2e app: done") {
			t.Errorf("init container logs = %q, %v", b, err)
		}
	})
	t.Run("private registry path needs the pull secret", func(t *testing.T) { privatePull(ctx, t, c) })
	t.Run("image imported with ctr", func(t *testing.T) { importedImage(ctx, t, c) })

	// Record what must disappear, then tear down and look for leftovers.
	pids := map[int]string{pid: procStart(pid)}
	nsList := []string{netns}
	// The checker itself must see a live cluster, or its silence after down proves nothing.
	if up := leftovers(c, nsList, pids); len(up) < 5 {
		t.Errorf("leftover check sees only %d things while the cluster is up: %v", len(up), up)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(c, nsList, pids); len(left) > 0 {
		t.Errorf("down left behind:\n%s", strings.Join(left, "\n"))
	}
	if left := newHostEntries(hostBefore); len(left) > 0 {
		t.Errorf("down left shim sockets or CNI state behind:\n%s", strings.Join(left, "\n"))
	}
}

func privatePull(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	cs := c.Admin(t)
	ns := cluster.FixtureNamespace
	_, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "registry-pull"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: c.DockerConfigJSON()},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Two distinct private images: the kubelet skips the pull of an image already
	// present, so the pod without the secret must ask for one nobody pulled yet.
	withSecret := c.PushImage(ctx, t, variant(t, cluster.AppImage(ctx, t), "with-secret"), c.PrivatePrefix+"app", "v1")
	c.PushImage(ctx, t, variant(t, cluster.AppImage(ctx, t), "no-secret"), c.PrivatePrefix+"other", "v1")
	for _, p := range []struct {
		name, repo string
		secret     bool
	}{{"private-with-secret", "app", true}, {"private-no-secret", "other", false}} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Labels: map[string]string{"private": p.name}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app",
				Image: c.Registry + "/" + c.PrivatePrefix + p.repo + ":v1", ImagePullPolicy: corev1.PullAlways}}},
		}
		if p.secret {
			pod.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "registry-pull"}}
		}
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ok := waitPods(ctx, t, cs, ns, "private=private-with-secret", 3*time.Minute, allRunning)
	if got := ok[0].Status.ContainerStatuses[0].ImageID; got != withSecret.String() {
		t.Errorf("private imageID = %q, want %q", got, withSecret.String())
	}
	waitPods(ctx, t, cs, ns, "private=private-no-secret", 3*time.Minute, func(p []corev1.Pod) (bool, string) {
		if len(p) == 0 || len(p[0].Status.ContainerStatuses) == 0 {
			return false, "no status yet"
		}
		w := p[0].Status.ContainerStatuses[0].State.Waiting
		if w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff") {
			return true, ""
		}
		return false, podState(p[0])
	})
}

// importedImage runs a pod from an image imported with ctr (no registry): its
// imageID is the bare config digest, the other form a scanner must handle.
func importedImage(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	img := variant(t, cluster.AppImage(ctx, t), "imported")
	const ref = "runlens.local/imported/app:v1"
	c.ImportImage(ctx, t, img, ref)
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	cs := c.Admin(t)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "imported", Labels: map[string]string{"imported": "yes"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: ref,
			ImagePullPolicy: corev1.PullNever}}},
	}
	if _, err := cs.CoreV1().Pods(cluster.FixtureNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitPods(ctx, t, cs, cluster.FixtureNamespace, "imported=yes", 3*time.Minute, allRunning)
	if id := got[0].Status.ContainerStatuses[0].ImageID; id != cfg.String() {
		t.Errorf("imported imageID = %q, want the config digest %q", id, cfg.String())
	}
}

// variant returns img with one extra label, so it has its own digest.
func variant(t *testing.T, img v1.Image, label string) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	cf.Config.Labels["runlens.dev/variant"] = label
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
