package agent

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/runlens/runlens/internal/agent/trace"
)

// maxTreeDepth bounds how deep under the cgroup v2 mount PodCgroupTrees
// looks: kubelet's own trees sit at the top (/kubepods.slice,
// /kubepods), nested ones a level or two lower (kind's
// /kubelet.slice/kubelet-kubepods.slice).
const maxTreeDepth = 3

// PodCgroupTrees returns the cgroup directories under the cgroup v2
// mount root that hold the node's pods: the topmost directories named
// like kubelet's pod trees ("kubepods", "kubepods.slice",
// "kubelet-kubepods.slice", …), sorted. Each pod's and container's cgroup
// is below one of them, so tracing these trees traces every container,
// including those that start later, and no other process of the node.
func PodCgroupTrees(root string) []string {
	var out []string
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if isPodTree(e.Name()) {
				out = append(out, p)
				continue // the pods are below; nothing else is
			}
			if depth < maxTreeDepth {
				walk(p, depth+1)
			}
		}
	}
	walk(root, 1)
	return out
}

// isPodTree reports whether a cgroup directory's name is one of
// kubelet's pod trees: "kubepods" for the cgroupfs driver, a systemd
// slice "kubepods.slice", or a nested slice "<parent>-kubepods.slice".
func isPodTree(name string) bool {
	name = strings.TrimSuffix(name, ".slice")
	return name == "kubepods" || strings.HasSuffix(name, "-kubepods")
}

// TreeTracer is what WatchPodTrees needs of the tracer (trace.Tracer).
type TreeTracer interface {
	WatchTree(cgroupID uint64, level int) error
	WatchAll() error
	WatchListed() error
}

// WatchPodTrees points the tracer at the node's pod cgroup trees under
// root, and returns them. When there are none (a node whose runtime
// puts containers elsewhere), it traces every process instead, so that
// nothing a container does is missed, and returns nil; call it again
// later (each look) to narrow the tracer once the trees exist.
func WatchPodTrees(t TreeTracer, root string) ([]string, error) {
	var watched []string
	for _, dir := range PodCgroupTrees(root) {
		id, err := trace.CgroupID(dir)
		if err != nil {
			continue // gone meanwhile
		}
		level, err := trace.CgroupLevel(root, dir)
		if err != nil {
			return nil, err
		}
		if err := t.WatchTree(id, level); err != nil {
			return nil, err
		}
		watched = append(watched, dir)
	}
	if len(watched) == 0 {
		return nil, t.WatchAll()
	}
	return watched, t.WatchListed()
}

// PodFilter narrows a tracer to the node's pod cgroup trees, and only
// once a look at /proc has shown every container's cgroup inside them: on
// a node where some container's cgroup v2 path lies elsewhere (a hybrid
// host whose runtime attributes pods in v1 only), narrowing would hide
// its events, so the tracer keeps tracing every process. Safe for
// concurrent use.
type PodFilter struct {
	Tracer TreeTracer
	// Root is the cgroup v2 mount.
	Root string

	mu       sync.Mutex
	narrowed bool
	gap      bool
}

// Update looks again, given the cgroup v2 paths (below Root, as
// /proc/<pid>/cgroup names them) of every container process of the
// latest look; nil before the first look keeps every process traced. It
// returns the trees traced, nil when every process is.
func (f *PodFilter) Update(containerCgroups []string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	trees := PodCgroupTrees(f.Root)
	if containerCgroups == nil || len(trees) == 0 || !allBelow(f.Root, containerCgroups, trees) {
		if f.narrowed && containerCgroups != nil {
			// A container outside the trees while they alone were traced:
			// its events until now were not seen.
			f.gap = true
		}
		f.narrowed = false
		return nil, f.Tracer.WatchAll()
	}
	watched, err := WatchPodTrees(f.Tracer, f.Root)
	f.narrowed = err == nil && watched != nil
	return watched, err
}

// Gap reports whether the filter ever hid a container's events: every
// window since the start is then partial.
func (f *PodFilter) Gap() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gap
}

// allBelow reports whether every cgroup path lies in one of the trees.
func allBelow(root string, cgroups, trees []string) bool {
	for _, cg := range cgroups {
		p := filepath.Join(root, cg)
		in := false
		for _, t := range trees {
			if p == t || strings.HasPrefix(p, t+"/") {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}
