// Package agent is the node agent's core: from the containers the runtime
// runs, what their processes execute, map, open and listen on, and each
// image's inventory, it makes the evidence records the ranking reads
// (internal/evidence). Reading /proc, BPF and the CRI live in the
// packages below it; this one only joins what they saw.
package agent

import (
	"sort"
	"time"

	"github.com/runlens/runlens/internal/agent/attribute"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/result"
)

// Process is what was seen of one process of a container, paths as the
// process sees them.
type Process struct {
	PID int
	// Exe is the executable; Executed more programs it ran (exec events).
	Exe      string
	Executed []string
	// Mapped are file-backed mappings; Opened files it opened.
	Mapped []string
	Opened []string
	// Ports it listens on ("tcp/8080", "udp/53").
	Ports []string
	// BuildIDs are the GNU build IDs of the ELF files it maps, by path;
	// MappedInodes their inodes (as maps names them), by path.
	BuildIDs     map[string]string
	MappedInodes map[string]uint64
}

// Seen is one container's observation: the container, its processes, and
// when they were seen.
type Seen struct {
	Container evidence.Container
	Processes []Process
	// At is when the processes were read (a bootstrap scan) or last
	// updated (tracing).
	At time.Time
	// ByInode, when set, names the package-owned file of the container
	// with this inode ("" when none): a mapped file under a path no
	// package names is matched by inode.
	ByInode func(ino uint64) string
}

// use is one package's strongest use in one container.
type use struct {
	pkg   *inventory.Package
	state string
	pids  map[int]bool
	files map[string]bool
	ports map[string]bool
	// buildIDs of the files, where known.
	buildIDs map[string]string
}

// stateRank orders the in-use states, strongest first.
var stateRank = map[string]int{result.RuntimeExecuted: 0, result.RuntimeListening: 1, result.RuntimeLoaded: 2}

// Records are the evidence records of one container: one per package of
// its image seen in use (executed when a process ran one of its files,
// listening when a process that maps one of its files listens, loaded
// when mapped or opened), sorted by package. Packages never seen in use
// get no record: the container's window says they were watched.
func Records(s *Seen, ix *attribute.Index) []evidence.Record {
	uses := map[*inventory.Package]*use{}
	mark := func(file, state string, p *Process) {
		owners := ix.Owners(file)
		if len(owners) == 0 && s.ByInode != nil {
			if same := s.ByInode(p.MappedInodes[file]); same != "" {
				owners = ix.Owners(same)
			}
		}
		for _, pkg := range owners {
			u := uses[pkg]
			if u == nil {
				u = &use{pkg: pkg, state: state, pids: map[int]bool{}, files: map[string]bool{}, ports: map[string]bool{}}
				uses[pkg] = u
			}
			if stateRank[state] < stateRank[u.state] {
				u.state = state
			}
			u.pids[p.PID] = true
			u.files[file] = true
			if id := p.BuildIDs[file]; id != "" {
				if u.buildIDs == nil {
					u.buildIDs = map[string]string{}
				}
				u.buildIDs[file] = id
			}
			if state == result.RuntimeListening {
				for _, port := range p.Ports {
					u.ports[port] = true
				}
			}
		}
	}
	for i := range s.Processes {
		p := &s.Processes[i]
		loaded := result.RuntimeLoaded
		if len(p.Ports) > 0 {
			loaded = result.RuntimeListening
		}
		for _, f := range append([]string{p.Exe}, p.Executed...) {
			if f != "" {
				mark(f, result.RuntimeExecuted, p)
			}
		}
		for _, f := range p.Mapped {
			mark(f, loaded, p)
		}
		for _, f := range p.Opened {
			mark(f, result.RuntimeLoaded, p)
		}
	}
	out := make([]evidence.Record, 0, len(uses))
	c := &s.Container
	for _, u := range uses {
		out = append(out, evidence.Record{
			Digest:       c.Digest,
			Package:      evidence.Package{Name: u.pkg.Name, Version: u.pkg.Version, Ecosystem: u.pkg.Ecosystem, PURL: u.pkg.PURL, Location: first(u.pkg.Locations)},
			PodUID:       c.PodUID,
			PodNamespace: c.PodNamespace,
			PodName:      c.PodName,
			Containers:   []string{c.ID},
			State:        u.state,
			FirstSeen:    s.At,
			LastSeen:     s.At,
			Window:       c.Window,
			PIDs:         sortedInts(u.pids),
			Files:        sortedKeys(u.files),
			BuildIDs:     u.buildIDs,
			Ports:        sortedKeys(u.ports),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Package.Name != out[j].Package.Name {
			return out[i].Package.Name < out[j].Package.Name
		}
		return out[i].Package.Version < out[j].Package.Version
	})
	return out
}

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedInts(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
