package agent

import (
	"bufio"
	"context"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/runlens/runlens/internal/agent/procscan"
)

// maxPathsPerContainer bounds what a Watcher keeps of one container.
const maxPathsPerContainer = 20_000

// Watcher accumulates what each container's processes executed, mapped,
// opened and listened on since the agent started: from /proc snapshots
// (which see what is running and what it has mapped) and from the
// tracer's exec and open events (which see what starts and stops between
// them). Processes gives the sum for Snapshot. It is safe for concurrent
// use.
type Watcher struct {
	procRoot string
	mu       sync.Mutex
	// byContainer holds each container's processes by pid.
	byContainer map[string]map[int]*Process
	// seen holds each container's kept (kind, pid, path) triples.
	seen map[string]map[seenKey]bool
	// pids caches which container a pid is in (id "" for the host) and
	// its Process, so that an event costs no look-up by container id.
	pids map[uint32]pidEntry
	// Cut counts paths left out at the cap.
	cut int
	// execed are processes that exec'd since the last Rescan.
	execed map[uint32]string
}

// NewWatcher returns an empty Watcher reading procRoot for the pids the
// tracer names.
func NewWatcher(procRoot string) *Watcher {
	return &Watcher{procRoot: procRoot, byContainer: map[string]map[int]*Process{}, seen: map[string]map[seenKey]bool{}, pids: map[uint32]pidEntry{}, execed: map[uint32]string{}}
}

// AddSnapshot folds what one /proc snapshot saw into the sum. It also
// forgets which container each pid was in (pids are reused).
func (w *Watcher) AddSnapshot(snap map[string][]Process) {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.pids)
	for id, procs := range snap {
		for i := range procs {
			p := &procs[i]
			q := w.process(id, p.PID)
			if q == nil {
				continue
			}
			if p.Exe != "" {
				q.Exe = p.Exe
			}
			q.Mapped = w.addPaths(id, q.PID, 'm', q.Mapped, p.Mapped...)
			q.Opened = w.addPaths(id, q.PID, 'o', q.Opened, p.Opened...)
			q.Ports = addUnique(q.Ports, p.Ports...)
			for f, id := range p.BuildIDs {
				if q.BuildIDs == nil {
					q.BuildIDs = map[string]string{}
				}
				q.BuildIDs[f] = id
			}
			for f, ino := range p.MappedInodes {
				if q.MappedInodes == nil {
					q.MappedInodes = map[string]uint64{}
				}
				q.MappedInodes[f] = ino
			}
		}
	}
}

// Exec records that pid ran file (as the process names it).
func (w *Watcher) Exec(pid uint32, file string) { w.event(pid, file, true) }

// Open records that pid opened file; relative paths are left out (their
// directory is not known here).
func (w *Watcher) Open(pid uint32, file string) { w.event(pid, file, false) }

func (w *Watcher) event(pid uint32, file string, exec bool) {
	if !path.IsAbs(file) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	pe, ok := w.pids[pid]
	if !ok {
		pe.id = w.containerOf(pid)
		if pe.id != "" {
			pe.proc = w.process(pe.id, int(pid))
		}
		w.pids[pid] = pe
	}
	id, q := pe.id, pe.proc
	if q == nil {
		return
	}
	if exec {
		w.execed[pid] = id
		q.Executed = w.addPaths(id, q.PID, 'x', q.Executed, file)
	} else {
		q.Opened = w.addPaths(id, q.PID, 'o', q.Opened, file)
	}
}

// pidEntry is what a Watcher knows of a pid until the next snapshot.
type pidEntry struct {
	id   string
	proc *Process
}

// containerOf reads /proc/<pid>/cgroup and names its container, "" for a
// host process or one gone already.
func (w *Watcher) containerOf(pid uint32) string {
	f, err := os.Open(filepath.Join(w.procRoot, strconv.FormatUint(uint64(pid), 10), "cgroup"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, cg, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		_, p, _ := strings.Cut(cg, ":")
		if a, ok := procscan.ParseCgroupPath(p); ok && a.ContainerID != "" {
			return a.ContainerID
		}
	}
	return ""
}

// process returns container id's process pid, made on first use; nil
// when the container has reached the cap.
func (w *Watcher) process(id string, pid int) *Process {
	m := w.byContainer[id]
	if m == nil {
		m = map[int]*Process{}
		w.byContainer[id] = m
	}
	q := m[pid]
	if q == nil {
		q = &Process{PID: pid}
		m[pid] = q
	}
	return q
}

// seenKey is one kept path of one process: kind 'x' executed, 'm'
// mapped, 'o' opened.
type seenKey struct {
	kind byte
	pid  int
	path string
}

// addPaths appends the paths of add not kept yet for that process and
// kind, up to the container's cap.
func (w *Watcher) addPaths(id string, pid int, kind byte, list []string, add ...string) []string {
	seen := w.seen[id]
	if seen == nil {
		seen = map[seenKey]bool{}
		w.seen[id] = seen
	}
	for _, p := range add {
		k := seenKey{kind, pid, p}
		if seen[k] {
			continue
		}
		if len(seen) >= maxPathsPerContainer {
			w.cut++
			continue
		}
		seen[k] = true
		list = append(list, p)
	}
	return list
}

// Rescan reads the maps of the processes that exec'd since the last call:
// libraries a program maps without an open the tracer saw (mmap of an fd
// it inherited, a loader that maps) show there. Call it a moment after the
// execs (the loader needs time to map them).
func (w *Watcher) Rescan() {
	w.mu.Lock()
	pending := w.execed
	w.execed = map[uint32]string{}
	w.mu.Unlock()
	for pid, id := range pending {
		maps, err := procscan.ReadMaps(w.procRoot, int(pid), 0)
		if err != nil {
			continue // gone already: its opens were traced
		}
		paths := make([]string, 0, len(maps))
		for _, m := range maps {
			paths = append(paths, m.Path)
		}
		w.mu.Lock()
		if q := w.process(id, int(pid)); q != nil {
			q.Mapped = w.addPaths(id, q.PID, 'm', q.Mapped, paths...)
		}
		w.mu.Unlock()
	}
}

// Processes is the sum so far, by container id, for Snapshot.
func (w *Watcher) Processes(context.Context) (map[string][]Process, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string][]Process, len(w.byContainer))
	for id, m := range w.byContainer {
		list := make([]Process, 0, len(m))
		for _, q := range m {
			c := *q
			c.Executed = append([]string(nil), q.Executed...)
			c.Mapped = append([]string(nil), q.Mapped...)
			c.Opened = append([]string(nil), q.Opened...)
			c.Ports = append([]string(nil), q.Ports...)
			c.BuildIDs = maps.Clone(q.BuildIDs)
			c.MappedInodes = maps.Clone(q.MappedInodes)
			list = append(list, c)
		}
		out[id] = list
	}
	return out, nil
}

// Cut is how many paths were left out at the per-container cap: a
// window with any is not complete.
func (w *Watcher) Cut() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cut
}

func addUnique(list []string, add ...string) []string {
	for _, s := range add {
		if !containsString(list, s) {
			list = append(list, s)
		}
	}
	return list
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
