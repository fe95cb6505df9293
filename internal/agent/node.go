package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/runlens/runlens/internal/agent/contentstore"
	"github.com/runlens/runlens/internal/agent/procscan"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
)

// Processes reads procRoot and groups what each container's processes
// execute, map, open and listen on, by container id.
func Processes(procRoot string) func(ctx context.Context) (map[string][]Process, error) {
	return (&ProcReader{ProcRoot: procRoot}).Processes
}

// ProcReader reads /proc for Sources.Processes and keeps what the last
// read could not see, for Sources.Problems: a permission denied on a
// container's process must show in the evidence, not read as unused.
type ProcReader struct {
	ProcRoot string
	mu       sync.Mutex
	problems []string
	// net spares re-reading socket tables from one look to the next,
	// buildIDs reading a mapped file's build ID again.
	net      procscan.NetCache
	buildIDs procscan.BuildIDCache
	// cgroups are the container processes' cgroup v2 paths of the last
	// look (nil before the first).
	cgroups []string
}

// Processes reads ProcRoot once.
func (r *ProcReader) Processes(ctx context.Context) (map[string][]Process, error) {
	snap, err := procscan.Scan(ctx, procscan.Options{ProcRoot: r.ProcRoot, ContainersOnly: true, NetCache: &r.net, BuildIDs: &r.buildIDs})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cgroups = containerCgroups(snap)
	r.problems = containerProblems(snap)
	if snap.ProblemsDropped > 0 {
		r.problems = append(r.problems, fmt.Sprintf("%d more problems reading %s", snap.ProblemsDropped, r.ProcRoot))
	}
	r.mu.Unlock()
	return processesOf(snap), nil
}

// containerProblems are the snapshot's problems that concern containers:
// those of a process attributed to one, and those of no process; a host
// process the agent may not read is no gap in any container's evidence.
func containerProblems(snap *procscan.Snapshot) []string {
	inContainer := map[string]bool{}
	for i := range snap.Processes {
		p := &snap.Processes[i]
		inContainer[strconv.Itoa(p.PID)] = p.Attribution.ContainerID != ""
	}
	var out []string
	for _, pr := range snap.Problems {
		if rest, ok := strings.CutPrefix(pr, "pid "); ok {
			pid, _, _ := strings.Cut(rest, " ")
			if !inContainer[pid] {
				continue
			}
		}
		out = append(out, pr)
	}
	return out
}

// Problems are what the last read could not see.
func (r *ProcReader) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.problems...)
}

// processesOf turns a /proc snapshot into each container's processes.
func processesOf(snap *procscan.Snapshot) map[string][]Process {
	ports := map[int][]string{}
	for _, l := range snap.Listeners {
		for _, pid := range l.PIDs {
			ports[pid] = append(ports[pid], l.PortName())
		}
	}
	out := map[string][]Process{}
	for i := range snap.Processes {
		p := &snap.Processes[i]
		id := p.Attribution.ContainerID
		if id == "" {
			continue
		}
		q := Process{PID: p.PID, Exe: p.Exe.Path, Ports: ports[p.PID]}
		for _, m := range p.Maps {
			q.Mapped = append(q.Mapped, m.Path)
			if m.Inode != 0 {
				if q.MappedInodes == nil {
					q.MappedInodes = map[string]uint64{}
				}
				q.MappedInodes[m.Path] = m.Inode
			}
			if m.BuildID != "" {
				if q.BuildIDs == nil {
					q.BuildIDs = map[string]string{}
				}
				q.BuildIDs[m.Path] = m.BuildID
			}
		}
		for _, f := range p.Files {
			q.Opened = append(q.Opened, f.Path)
		}
		out[id] = append(out[id], q)
	}
	return out
}

// Inventories reads a container's image: from the runtime's content
// store by its digest when store is set and holds every blob, else from
// the live root filesystem of one of its processes
// (<procRoot>/<pid>/root), read in place and confined to it. No registry
// is contacted.
func Inventories(store *contentstore.Store, procRoot string, s *scan.Scanner) func(ctx context.Context, c *evidence.Container) (*inventory.Inventory, error) {
	return func(ctx context.Context, c *evidence.Container) (*inventory.Inventory, error) {
		var storeErr error
		if store != nil && c.Digest != "" {
			img, err := store.Image(ctx, c.Digest)
			if err == nil {
				inv, res, err := s.Inventory(ctx, img)
				if err == nil && res.Status == result.StatusScanned {
					return inv, nil
				}
				storeErr = errors.Join(err, incomplete(res))
			} else {
				storeErr = err
			}
		}
		if len(c.PIDs) == 0 {
			return nil, errors.Join(storeErr, errors.New("no process to read the live root through"))
		}
		root := filepath.Join(procRoot, strconv.Itoa(c.PIDs[0]), "root")
		img, err := image.OpenDir(ctx, root)
		if err != nil {
			return nil, errors.Join(storeErr, err)
		}
		inv, res, err := s.Inventory(ctx, img)
		if err != nil {
			return nil, errors.Join(storeErr, fmt.Errorf("live root %s: %w", root, err))
		}
		if res.Status != result.StatusScanned {
			return inv, fmt.Errorf("live root %s read partly: %s", root, res.Error)
		}
		return inv, nil
	}
}

func incomplete(res *result.Image) error {
	if res == nil || res.Status == result.StatusScanned {
		return nil
	}
	return fmt.Errorf("content store image %s: %s", res.Status, res.Error)
}

// ContainerCgroups returns the distinct cgroup v2 paths of the container
// processes of the last look, nil before the first one (for PodFilter).
func (r *ProcReader) ContainerCgroups() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cgroups
}

func containerCgroups(snap *procscan.Snapshot) []string {
	seen := map[string]bool{}
	out := []string{}
	for i := range snap.Processes {
		p := &snap.Processes[i]
		if p.Attribution.ContainerID == "" || seen[p.Cgroup] {
			continue
		}
		seen[p.Cgroup] = true
		out = append(out, p.Cgroup)
	}
	return out
}
