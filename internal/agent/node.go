package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

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
	return func(ctx context.Context) (map[string][]Process, error) {
		snap, err := procscan.Scan(ctx, procscan.Options{ProcRoot: procRoot})
		if err != nil {
			return nil, err
		}
		return processesOf(snap), nil
	}
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
