package cri

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlens/runlens/internal/evidence"
)

// Labels the kubelet puts on every container it creates; used when the
// pod sandbox can no longer be asked (it is being torn down).
const (
	labelPodName      = "io.kubernetes.pod.name"
	labelPodNamespace = "io.kubernetes.pod.namespace"
	labelPodUID       = "io.kubernetes.pod.uid"
	labelContainer    = "io.kubernetes.container.name"
)

// verboseInfo is the JSON both containerd and CRI-O put under the "info"
// key of a verbose ContainerStatus: containerd's ContainerInfo
// (internal/cri/server/container_status.go: sandboxID, pid, runtimeSpec,
// plus snapshot and runtime details) and CRI-O's containerInfo
// (server/container_status.go: sandboxID, pid, runtimeSpec, privileged).
// Only the keys both share are read.
type verboseInfo struct {
	SandboxID   string `json:"sandboxID"`
	Pid         int    `json:"pid"`
	RuntimeSpec *struct {
		Linux *struct {
			CgroupsPath string `json:"cgroupsPath"`
		} `json:"linux"`
	} `json:"runtimeSpec"`
}

// parseInfo reads the init pid and the runtime spec's cgroupsPath from a
// verbose status's info map.
func parseInfo(info map[string]string) (pid int, cgroupsPath string, err error) {
	raw, ok := info["info"]
	if !ok {
		return 0, "", errors.New(`verbose status has no "info" entry`)
	}
	var vi verboseInfo
	if err := json.Unmarshal([]byte(raw), &vi); err != nil {
		return 0, "", fmt.Errorf(`verbose status "info": %w`, err)
	}
	if vi.RuntimeSpec != nil && vi.RuntimeSpec.Linux != nil {
		cgroupsPath = vi.RuntimeSpec.Linux.CgroupsPath
	}
	return vi.Pid, cgroupsPath, nil
}

type pod struct{ name, namespace, uid string }

// lister holds what one Containers call has already asked, so a pod's
// sandbox and an image shared by many containers are asked once.
type lister struct {
	c      *Client
	pods   map[string]pod
	images map[string]imageID
}

// Containers lists the running containers with their pod, image, init
// process, cgroup and start time, sorted by pod then container name. A
// container that exits while it is being read is left out; one that
// cannot be read for another reason is left out and named in the returned
// error, which then accompanies the containers that were read.
func (c *Client) Containers(ctx context.Context) ([]evidence.Container, error) {
	out, _, err := c.list(ctx)
	return out, err
}

// list is Containers that also returns the ids of the running containers
// it could not read, which Watch must not take for stopped ones.
func (c *Client) list(ctx context.Context) ([]evidence.Container, map[string]bool, error) {
	resp, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
	}})
	if err != nil {
		return nil, nil, fmt.Errorf("CRI %s: list containers: %w", c.socket, err)
	}
	l := &lister{c: c, pods: map[string]pod{}, images: map[string]imageID{}}
	out := make([]evidence.Container, 0, len(resp.GetContainers()))
	var errs []error
	failed := map[string]bool{}
	for _, ct := range resp.GetContainers() {
		ec, err := l.container(ctx, ct)
		switch {
		case status.Code(err) == codes.NotFound:
			continue // exited and removed since the list
		case err != nil:
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			failed[ct.GetId()] = true
			errs = append(errs, fmt.Errorf("container %s: %w", ct.GetId(), err))
			continue
		}
		out = append(out, ec)
	}
	sortContainers(out)
	if len(errs) > 0 {
		return out, failed, fmt.Errorf("CRI %s: %w", c.socket, errors.Join(errs...))
	}
	return out, failed, nil
}

// container reads one listed container's verbose status.
func (l *lister) container(ctx context.Context, ct *runtimeapi.Container) (evidence.Container, error) {
	resp, err := l.c.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: ct.GetId(), Verbose: true})
	if err != nil {
		return evidence.Container{}, err
	}
	st := resp.GetStatus()
	if st == nil {
		return evidence.Container{}, errors.New("runtime returned no status")
	}
	if st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return evidence.Container{}, status.Error(codes.NotFound, "no longer running")
	}
	ec := evidence.Container{ID: st.GetId(), Name: st.GetMetadata().GetName()}
	if ec.Name == "" {
		ec.Name = st.GetLabels()[labelContainer]
	}
	if ns := st.GetStartedAt(); ns > 0 {
		ec.StartedAt = time.Unix(0, ns).UTC()
	}
	pid, cg, err := parseInfo(resp.GetInfo())
	if err != nil {
		return evidence.Container{}, err
	}
	if pid > 0 {
		ec.PIDs = []int{pid}
	}
	ec.CgroupPath = CgroupPath(cg)

	p := l.pod(ctx, ct.GetPodSandboxId(), st.GetLabels())
	ec.PodName, ec.PodNamespace, ec.PodUID = p.name, p.namespace, p.uid

	name := st.GetImage().GetImage()
	if name == "" {
		name = ct.GetImage().GetImage()
	}
	id, err := l.image(ctx, name, st.GetImageRef())
	if err != nil {
		return evidence.Container{}, err
	}
	ec.Image, ec.Digest = id.ref, id.digest
	if ec.Image == "" {
		ec.Image = name
	}
	return ec, nil
}

// pod returns the pod a sandbox belongs to, from the sandbox's own
// metadata, else (the sandbox is gone or the call failed) from the
// kubelet's labels on the container.
func (l *lister) pod(ctx context.Context, sandbox string, labels map[string]string) pod {
	if p, ok := l.pods[sandbox]; ok {
		return p
	}
	p := pod{name: labels[labelPodName], namespace: labels[labelPodNamespace], uid: labels[labelPodUID]}
	if sandbox != "" {
		resp, err := l.c.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sandbox})
		if md := resp.GetStatus().GetMetadata(); err == nil && md != nil {
			p = pod{name: md.GetName(), namespace: md.GetNamespace(), uid: md.GetUid()}
		}
	}
	l.pods[sandbox] = p
	return p
}

// sortContainers orders containers by pod namespace, pod, name and id.
func sortContainers(cs []evidence.Container) {
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.PodNamespace != b.PodNamespace {
			return a.PodNamespace < b.PodNamespace
		}
		if a.PodName != b.PodName {
			return a.PodName < b.PodName
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
}
