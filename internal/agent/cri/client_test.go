package cri

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlens/runlens/internal/evidence"
)

const (
	uidA = "0b9e8f4c-1d2e-4a5b-8c7d-111111111111"
	uidB = "0b9e8f4c-1d2e-4a5b-8c7d-222222222222"
)

func hex64(c byte) string { return strings.Repeat(string(c), 64) }

func running() runtimeapi.ContainerState { return runtimeapi.ContainerState_CONTAINER_RUNNING }

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	_, err := Dial(ctx, filepath.Join(dir, "absent.sock"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "absent.sock") {
		t.Errorf("missing socket: %v, want a not-exist error naming it", err)
	}

	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o600)
	if _, err := Dial(ctx, file); err == nil || !strings.Contains(err.Error(), "not a unix socket") {
		t.Errorf("regular file: %v, want 'not a unix socket'", err)
	}

	// A gRPC server without the CRI services.
	if _, err := Dial(ctx, serveFake(t, nil)); !errors.Is(err, ErrNotCRI) || !strings.Contains(err.Error(), "Unimplemented") {
		t.Errorf("gRPC without CRI: %v, want ErrNotCRI", err)
	}

	// A socket whose server speaks no gRPC at all (it answers HTTP/1).
	sock := filepath.Join(dir, "http.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			c.Close()
		}
	}()
	t0 := time.Now()
	if _, err := Dial(ctx, sock); !errors.Is(err, ErrNotCRI) {
		t.Errorf("HTTP/1 socket: %v, want ErrNotCRI", err)
	}
	if d := time.Since(t0); d > DialTimeout+2*time.Second {
		t.Errorf("HTTP/1 socket took %s", d)
	}
}

func TestContainers(t *testing.T) {
	cfgWeb, cfgImported := "sha256:"+hex64('c'), "sha256:"+hex64('e')
	f := &fakeCRI{
		sandboxes: map[string]*runtimeapi.PodSandboxMetadata{
			"sb-a": {Name: "shop-0", Namespace: "shop", Uid: uidA},
			"sb-b": {Name: "web-1", Namespace: "front", Uid: uidB},
		},
		images: map[string]*runtimeapi.Image{
			// Pulled under two names: the digest of the repository the
			// container names is chosen.
			cfgWeb:      {Id: cfgWeb, RepoDigests: []string{"mirror.example/web@sha256:" + hex64('1'), "localhost:5000/web@sha256:" + hex64('2')}},
			cfgImported: {Id: cfgImported, RepoTags: []string{"local/tool:dev"}},
		},
	}
	f.set([]fakeContainer{
		{id: hex64('a'), sandbox: "sb-a", name: "app", image: "localhost:5000/shop/app:2.14", imageRef: "localhost:5000/shop/app@sha256:" + hex64('d'),
			state: running(), startedAt: 1700000000123456789, pid: 4242, cgroupsPath: "/runlens-x/kubepods/besteffort/pod" + uidA + "/" + hex64('a')},
		{id: hex64('b'), sandbox: "sb-a", name: "sidecar", image: "localhost:5000/web:1", imageRef: cfgWeb, state: running(), pid: 4300,
			cgroupsPath: "kubepods-besteffort-pod" + strings.ReplaceAll(uidA, "-", "_") + ".slice:cri-containerd:" + hex64('b')},
		{id: hex64('c'), sandbox: "sb-b", name: "tool", image: "local/tool:dev", imageRef: cfgImported, state: running(), pid: 77},
		// CRI-O's info shape; the sandbox is gone, the kubelet's labels say
		// whose it was.
		{id: hex64('f'), sandbox: "sb-gone", name: "crio", image: "localhost:5000/web:1", imageRef: cfgWeb, state: running(),
			info:   map[string]string{"info": `{"sandboxID":"sb-gone","pid":91,"privileged":false,"runtimeSpec":{"linux":{"cgroupsPath":"kubepods-burstable-pod123.slice:crio:` + hex64('f') + `"}}}`},
			labels: map[string]string{labelPodName: "late-0", labelPodNamespace: "ops", labelPodUID: uidB}},
		{id: hex64('9'), sandbox: "sb-b", name: "done", state: runtimeapi.ContainerState_CONTAINER_EXITED},
		{id: hex64('8'), sandbox: "sb-b", name: "racing", state: running(), statusErr: status.Error(codes.NotFound, "gone")},
		{id: hex64('7'), sandbox: "sb-b", name: "broken", state: running(), statusErr: status.Error(codes.Internal, "disk on fire")},
	})
	c, err := Dial(context.Background(), serveFake(t, f))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Runtime != "fake" || c.RuntimeVersion != "v9" {
		t.Errorf("runtime %q %q", c.Runtime, c.RuntimeVersion)
	}
	got, err := c.Containers(context.Background())
	if err == nil || !strings.Contains(err.Error(), hex64('7')) || !strings.Contains(err.Error(), "disk on fire") || strings.Contains(err.Error(), hex64('8')) {
		t.Errorf("error %v: want only the broken container named", err)
	}
	want := []evidence.Container{
		{ID: hex64('c'), Name: "tool", PodName: "web-1", PodNamespace: "front", PodUID: uidB, Image: "local/tool:dev", PIDs: []int{77}},
		{ID: hex64('f'), Name: "crio", PodName: "late-0", PodNamespace: "ops", PodUID: uidB,
			Image: "localhost:5000/web@sha256:" + hex64('2'), Digest: "sha256:" + hex64('2'),
			CgroupPath: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice/crio-" + hex64('f') + ".scope", PIDs: []int{91}},
		{ID: hex64('a'), Name: "app", PodName: "shop-0", PodNamespace: "shop", PodUID: uidA,
			Image: "localhost:5000/shop/app@sha256:" + hex64('d'), Digest: "sha256:" + hex64('d'),
			CgroupPath: "/runlens-x/kubepods/besteffort/pod" + uidA + "/" + hex64('a'), PIDs: []int{4242},
			StartedAt: time.Unix(0, 1700000000123456789).UTC()},
		{ID: hex64('b'), Name: "sidecar", PodName: "shop-0", PodNamespace: "shop", PodUID: uidA,
			Image: "localhost:5000/web@sha256:" + hex64('2'), Digest: "sha256:" + hex64('2'),
			CgroupPath: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(uidA, "-", "_") + ".slice/cri-containerd-" + hex64('b') + ".scope",
			PIDs:       []int{4300}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("containers (-want +got):\n%s", d)
	}
	// One sandbox status per pod (sb-a has two containers), one image
	// status per image (cfgWeb serves two): a node of many containers of
	// few images costs few calls.
	if n := f.calls["PodSandboxStatus"]; n != 3 {
		t.Errorf("PodSandboxStatus called %d times, want 3", n)
	}
	if n := f.calls["ImageStatus"]; n != 2 {
		t.Errorf("ImageStatus called %d times, want 2", n)
	}
}

func TestParseInfo(t *testing.T) {
	if _, _, err := parseInfo(map[string]string{}); err == nil {
		t.Error("no info entry: no error")
	}
	if _, _, err := parseInfo(map[string]string{"info": "{"}); err == nil {
		t.Error("bad JSON: no error")
	}
	pid, cg, err := parseInfo(map[string]string{"info": `{"pid":5}`})
	if err != nil || pid != 5 || cg != "" {
		t.Errorf("no spec: %d %q %v", pid, cg, err)
	}
}

func TestCgroupPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "",
		"/kubepods/burstable/podX/abc": "/kubepods/burstable/podX/abc",
		"kubepods/podX/abc":            "/kubepods/podX/abc",
		"/a/../b//c":                   "/b/c",
		"kubepods-pod1.slice:crio:abc": "/kubepods.slice/kubepods-pod1.slice/crio-abc.scope",
		"system.slice:docker:abc":      "/system.slice/docker-abc.scope",
		"-.slice::abc.scope":           "/abc.scope",
		"kubelet-kubepods-besteffort-pod9.slice:cri-containerd:abc": "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod9.slice/cri-containerd-abc.scope",
	} {
		if got := CgroupPath(in); got != want {
			t.Errorf("CgroupPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRepoDigest(t *testing.T) {
	d := "sha256:" + hex64('1')
	for _, bad := range []string{"", "sha256:" + hex64('1'), "repo@sha256:abc", "repo@sha256:" + strings.ToUpper(hex64('a')), "repo@sha512:" + hex64('1'), "@" + d} {
		if _, _, ok := splitDigestRef(bad); ok {
			t.Errorf("splitDigestRef(%q) accepted", bad)
		}
	}
	if repo, got, ok := splitDigestRef("host:5000/a/b@" + d); !ok || repo != "host:5000/a/b" || got != d {
		t.Errorf("split: %q %q %v", repo, got, ok)
	}
	for in, want := range map[string]string{"host:5000/a/b:v1": "host:5000/a/b", "host:5000/a/b": "host:5000/a/b", "a@" + d: "a", "a:v@" + d: "a"} {
		if got := repository(in); got != want {
			t.Errorf("repository(%q) = %q, want %q", in, got, want)
		}
	}
	if id := pickRepoDigest([]string{"z/x@" + d, "bad", "a/x@" + d}, "other:1"); id.ref != "a/x@"+d {
		t.Errorf("no repository match: %v, want the first in order", id)
	}
	if id := pickRepoDigest([]string{"junk"}, "x"); id != (imageID{}) {
		t.Errorf("no valid repo digest: %v", id)
	}
}
