// Package procscan reads a proc filesystem once and reports, for every
// process, what it executes, maps, opens and listens on, attributed to its
// Kubernetes pod and container by the cgroup path. It is the node agent's
// bootstrap: containers that were running before the agent started are
// seen as they are, without restarting them.
//
// Only /proc/<pid>/{stat,cgroup,exe,cwd,maps,fd,ns/net,net/*} are read.
// Paths are reported as the kernel prints them (in the process's own
// mount namespace), with the device and inode it gives, so another part
// can resolve them inside the container root under confinement. Nothing
// here follows /proc/<pid>/root, opens a file of a container or executes
// anything.
//
// Processes come and go while /proc is read: one that vanishes is skipped
// and counted, a field that cannot be read for lack of permission is a
// problem of the snapshot, never a failure of the scan.
package procscan

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultProcRoot    = "/proc"
	DefaultMaxMaps     = 100_000
	DefaultMaxFDs      = 100_000
	DefaultMaxNetLines = 1 << 20
	DefaultMaxProblems = 1000
)

// Options configure Scan. The zero value scans /proc with the defaults.
type Options struct {
	// ProcRoot is the proc filesystem to read ("/proc"; a test points it
	// at a fake tree).
	ProcRoot string
	// MaxMaps bounds the maps lines read per process, MaxFDs the file
	// descriptors looked at per process, MaxNetLines the lines read from
	// one /proc/<pid>/net/* file. What is cut is said in
	// Process.Truncated and in the problems.
	MaxMaps     int
	MaxFDs      int
	MaxNetLines int
	// MaxProblems bounds Snapshot.Problems; the rest are counted in
	// Snapshot.ProblemsDropped.
	MaxProblems int
	// Workers is how many processes are read at once (default: the
	// number of CPUs, at most 4).
	Workers int
	// ContainersOnly reads only the stat and cgroup of processes no
	// container holds (the node's own: kubelet, the runtime, its shims),
	// not their executables, maps, files or sockets.
	ContainersOnly bool
	// BuildIDs, when set, reads the GNU build ID of every executable
	// mapping (Mapping.BuildID) and remembers it from one Scan to the
	// next.
	BuildIDs *BuildIDCache
	// NetCache, kept from one Scan to the next, spares reading socket
	// tables that cannot have changed (see NetCache); nil reads every
	// namespace's tables each time.
	NetCache *NetCache
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.ProcRoot == "" {
		o.ProcRoot = DefaultProcRoot
	}
	if o.MaxMaps <= 0 {
		o.MaxMaps = DefaultMaxMaps
	}
	if o.MaxFDs <= 0 {
		o.MaxFDs = DefaultMaxFDs
	}
	if o.MaxNetLines <= 0 {
		o.MaxNetLines = DefaultMaxNetLines
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = DefaultMaxProblems
	}
	if o.Workers <= 0 {
		o.Workers = min(runtime.GOMAXPROCS(0), 4)
	}
	return o
}

// Snapshot is what one Scan saw.
type Snapshot struct {
	// ProcRoot is the proc filesystem read; Started and Duration when
	// and how long.
	ProcRoot string        `json:"proc_root"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	// Processes are the user-space processes read, by pid.
	Processes []Process `json:"processes"`
	// Containers groups the processes attributed to a container, by
	// container id.
	Containers map[string]*Container `json:"containers"`
	// Listeners are the listening TCP and bound UDP sockets of every
	// network namespace seen, with the pids holding them (none when the
	// holder could not be read).
	Listeners []Listener `json:"listeners,omitempty"`
	// KernelThreads counts the kernel threads skipped; Vanished the
	// processes that exited while being read.
	KernelThreads int `json:"kernel_threads"`
	Vanished      int `json:"vanished"`
	// Problems are what could not be read (permission denied, lines cut
	// at a cap, malformed lines); ProblemsDropped counts those past
	// Options.MaxProblems.
	Problems        []string `json:"problems,omitempty"`
	ProblemsDropped int      `json:"problems_dropped,omitempty"`
}

// Process is one process as /proc shows it.
type Process struct {
	PID  int    `json:"pid"`
	PPID int    `json:"ppid"`
	Comm string `json:"comm"`
	// StartTime is when the process started, in clock ticks since boot
	// (stat's starttime): with PID it tells a process from a later one
	// that reuses its pid.
	StartTime uint64 `json:"start_time"`
	// Exe is the executable: the exe link's target and the device and
	// inode of the file it names.
	Exe FileID `json:"exe"`
	// Cwd is the working directory (the cwd link's target).
	Cwd string `json:"cwd,omitempty"`
	// Cgroup is the cgroup v2 path ("0::" line); CgroupV1 the v1 line
	// ("memory:/kubepods/…") the attribution came from on a hybrid host
	// whose v2 path names no pod.
	Cgroup   string `json:"cgroup,omitempty"`
	CgroupV1 string `json:"cgroup_v1,omitempty"`
	// Attribution is the pod and container the cgroup path names (zero
	// for a host process).
	Attribution Attribution `json:"attribution,omitzero"`
	// NetNS is the inode of the network namespace (0 if unreadable).
	NetNS uint64 `json:"netns,omitempty"`
	// Maps are the distinct file-backed mappings, in maps order.
	Maps []Mapping `json:"maps,omitempty"`
	// Files are the open regular files; Sockets the inodes of the open
	// sockets.
	Files   []FileID `json:"files,omitempty"`
	Sockets []uint64 `json:"sockets,omitempty"`
	// Truncated says what was cut at a cap ("maps: cut at 100000 lines").
	Truncated []string `json:"truncated,omitempty"`
}

// Container is one container's processes and what they use, each path
// once.
type Container struct {
	// ID is the container id, PodUID the pod's UID (with dashes), Runtime
	// and QoS what the cgroup path says of them.
	ID      string `json:"id"`
	PodUID  string `json:"pod_uid"`
	Runtime string `json:"runtime,omitempty"`
	QoS     string `json:"qos,omitempty"`
	// CgroupPath is the container's cgroup (below the mount).
	CgroupPath string `json:"cgroup_path"`
	PIDs       []int  `json:"pids"`
	// Exes, Mapped and Open are the executables, mapped files and open
	// regular files of its processes, deduplicated and sorted by path.
	Exes   []FileID  `json:"exes,omitempty"`
	Mapped []Mapping `json:"mapped,omitempty"`
	Open   []FileID  `json:"open,omitempty"`
	// Listeners are the listening sockets its processes hold.
	Listeners []Listener `json:"listeners,omitempty"`
}

// Scan reads opts.ProcRoot once. It fails only when the root itself cannot
// be listed or ctx ends; everything else is skipped, counted or recorded
// as a problem of the snapshot.
func Scan(ctx context.Context, opts Options) (*Snapshot, error) {
	opts = opts.withDefaults()
	start := time.Now()
	pids, err := listPIDs(opts.ProcRoot)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{ProcRoot: opts.ProcRoot, Started: start}
	rec := &recorder{max: opts.MaxProblems}
	procs, err := readAll(ctx, opts, pids, snap, rec)
	if err != nil {
		return nil, err
	}
	internPaths(procs)
	snap.Processes = procs
	snap.Listeners = readListeners(ctx, opts, procs, rec)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("procscan: %w", err)
	}
	snap.Containers = groupContainers(procs, snap.Listeners)
	snap.Problems, snap.ProblemsDropped = rec.problems, rec.dropped
	snap.Duration = time.Since(start)
	return snap, nil
}

// listPIDs returns the numeric entries of the proc root, ascending.
func listPIDs(root string) ([]int, error) {
	f, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("procscan: open proc root: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("procscan: list %s: %w", root, err)
	}
	var pids []int
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// outcome is what reading one pid came to.
type outcome int

const (
	readOK outcome = iota
	readVanished
	readKernel
	readSkipped // stat unreadable: the problem says why
)

// result is one worker's answer for one pid.
type result struct {
	proc     Process
	outcome  outcome
	problems []string
}

// readAll reads pids with opts.Workers workers and returns the processes
// read, by pid.
func readAll(ctx context.Context, opts Options, pids []int, snap *Snapshot, rec *recorder) ([]Process, error) {
	results := make([]result, len(pids))
	err := forEach(ctx, opts.Workers, len(pids), func(i int) {
		r := &processReader{opts: opts, pid: pids[i]}
		results[i] = r.read()
	})
	if err != nil {
		return nil, err
	}
	procs := make([]Process, 0, len(pids))
	for _, r := range results {
		for _, p := range r.problems {
			rec.add(p)
		}
		switch r.outcome {
		case readVanished:
			snap.Vanished++
		case readKernel:
			snap.KernelThreads++
		case readSkipped:
		default:
			procs = append(procs, r.proc)
		}
	}
	return procs, nil
}

// forEach runs fn(0) … fn(n-1) on the given number of goroutines. It
// stops handing out work when ctx ends, and then returns ctx's error.
func forEach(ctx context.Context, workers, n int, fn func(i int)) error {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			err = fmt.Errorf("procscan: %w", ctx.Err())
			break feed
		}
	}
	close(next)
	wg.Wait()
	return err
}

// recorder keeps the snapshot's problems up to a cap.
type recorder struct {
	max      int
	problems []string
	dropped  int
}

// add records one problem, or counts it once the cap is reached.
func (r *recorder) add(p string) {
	if len(r.problems) >= r.max {
		r.dropped++
		return
	}
	r.problems = append(r.problems, p)
}
