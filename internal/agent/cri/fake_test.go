package cri

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeContainer is one container of the fake runtime, as the runtime would
// hold it.
type fakeContainer struct {
	id, sandbox, name string
	image, imageRef   string
	state             runtimeapi.ContainerState
	startedAt         int64
	// info is the verbose "info" JSON; nil builds containerd's shape from
	// pid and cgroupsPath.
	info        map[string]string
	pid         int
	cgroupsPath string
	labels      map[string]string
	// statusErr, if set, is what ContainerStatus answers.
	statusErr error
}

// fakeCRI is an in-process CRI runtime serving a fixed, mutable state.
type fakeCRI struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	mu         sync.Mutex
	containers []fakeContainer
	sandboxes  map[string]*runtimeapi.PodSandboxMetadata
	// images maps what ImageStatus is asked for to the image it returns.
	images map[string]*runtimeapi.Image
	calls  map[string]int
}

func (f *fakeCRI) count(m string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[m]++
}

func (f *fakeCRI) set(cs []fakeContainer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.containers = cs
}

func (f *fakeCRI) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: "fake", RuntimeVersion: "v9", RuntimeApiVersion: "v1"}, nil
}

func (f *fakeCRI) ListContainers(_ context.Context, r *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	f.count("ListContainers")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*runtimeapi.Container
	for _, c := range f.containers {
		if st := r.GetFilter().GetState(); st != nil && st.GetState() != c.state {
			continue
		}
		out = append(out, &runtimeapi.Container{Id: c.id, PodSandboxId: c.sandbox,
			Metadata: &runtimeapi.ContainerMetadata{Name: c.name}, Image: &runtimeapi.ImageSpec{Image: c.image},
			ImageRef: c.imageRef, State: c.state, Labels: c.labels})
	}
	return &runtimeapi.ListContainersResponse{Containers: out}, nil
}

func (f *fakeCRI) ContainerStatus(_ context.Context, r *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	f.count("ContainerStatus")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.containers {
		if c.id != r.GetContainerId() {
			continue
		}
		if c.statusErr != nil {
			return nil, c.statusErr
		}
		resp := &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{
			Id: c.id, Metadata: &runtimeapi.ContainerMetadata{Name: c.name}, State: c.state,
			StartedAt: c.startedAt, Image: &runtimeapi.ImageSpec{Image: c.image}, ImageRef: c.imageRef, Labels: c.labels,
		}}
		if r.GetVerbose() {
			resp.Info = c.info
			if resp.Info == nil {
				resp.Info = map[string]string{"info": containerdInfo(c.sandbox, c.pid, c.cgroupsPath)}
			}
		}
		return resp, nil
	}
	return nil, status.Errorf(codes.NotFound, "container %q not found", r.GetContainerId())
}

func (f *fakeCRI) PodSandboxStatus(_ context.Context, r *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	f.count("PodSandboxStatus")
	f.mu.Lock()
	defer f.mu.Unlock()
	md, ok := f.sandboxes[r.GetPodSandboxId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "sandbox %q not found", r.GetPodSandboxId())
	}
	return &runtimeapi.PodSandboxStatusResponse{Status: &runtimeapi.PodSandboxStatus{Id: r.GetPodSandboxId(), Metadata: md}}, nil
}

func (f *fakeCRI) ImageStatus(_ context.Context, r *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	f.count("ImageStatus")
	f.mu.Lock()
	defer f.mu.Unlock()
	// Like containerd: an unknown image is an empty answer, not an error.
	return &runtimeapi.ImageStatusResponse{Image: f.images[r.GetImage().GetImage()]}, nil
}

// containerdInfo is the verbose info containerd writes (ContainerInfo of
// internal/cri/server/container_status.go), with the fields runlens
// ignores present too.
func containerdInfo(sandbox string, pid int, cgroupsPath string) string {
	b, err := json.Marshal(map[string]any{
		"sandboxID": sandbox, "pid": pid, "removing": false,
		"snapshotKey": "k", "snapshotter": "overlayfs", "runtimeType": "io.containerd.runc.v2",
		"config":      map[string]any{"metadata": map[string]any{"name": "x"}},
		"runtimeSpec": map[string]any{"ociVersion": "1.0.2", "process": map[string]any{"args": []string{"/app"}}, "linux": map[string]any{"cgroupsPath": cgroupsPath, "namespaces": []any{}}},
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// serveFake serves f as a CRI runtime on a unix socket and returns its path.
func serveFake(t *testing.T, f *fakeCRI) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "cri.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	if f != nil {
		runtimeapi.RegisterRuntimeServiceServer(srv, f)
		runtimeapi.RegisterImageServiceServer(srv, f)
	}
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return sock
}
