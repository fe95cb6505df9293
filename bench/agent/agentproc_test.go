package agentbench

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/runlens/runlens/internal/agent"
	"github.com/runlens/runlens/internal/agent/procscan"
	"github.com/runlens/runlens/internal/agent/trace"
	"github.com/runlens/runlens/internal/evidence"
)

// agentStats is what the agent child reports of itself.
type agentStats struct {
	CPUNanos int64 `json:"cpu_ns"`
	// SnapshotCPUNanos is the process's CPU time while it took snapshots
	// (the reader's, running beside them, included).
	SnapshotCPUNanos int64  `json:"snapshot_cpu_ns"`
	MaxRSSKB         int64  `json:"max_rss_kb"`
	Drops            uint64 `json:"drops"`
	Missed           uint64 `json:"missed"`
	Events           int64  `json:"events"`
	LoadEvents       int64  `json:"load_events"`
	Snapshots        int    `json:"snapshots"`
	// FirstNs is the bootstrap snapshot's time, LastNs and MaxNs the
	// later ones'.
	FirstNs    int64 `json:"first_ns"`
	LastNs     int64 `json:"last_ns"`
	MaxNs      int64 `json:"max_ns"`
	Containers int   `json:"containers"`
	Records    int   `json:"records"`
	Processes  int   `json:"processes"`
	EvidenceKB int   `json:"evidence_kb"`
	// LoadRecords counts the records of the load files' package.
	LoadRecords int `json:"load_records"`
	Cut         int `json:"cut"`
}

// profileEnv names a file the agent child writes its CPU profile to.
const profileEnv = "RUNLENS_AGENT_BENCH_CPUPROFILE"

// runAgent is the agent child: `INTERVAL_MS POOL FILES`. It runs what
// `runlens agent --listen` runs, without the CRI and the HTTP server: the
// tracer on the pods' cgroup trees feeding a Watcher (Rescan every second), and
// every interval a procscan snapshot folded into the Watcher and a full
// agent.Snapshot (the
// containers of POOL as procscan attributes them, small fake inventories)
// encoded to JSON as the server keeps it. On stdin: "stats" prints its
// figures, "go" moves the next snapshot to half an interval from now,
// end of input prints them and exits.
func runAgent(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("want INTERVAL_MS POOL FILES, got %q", args)
	}
	ms, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	interval, pool, files := time.Duration(ms)*time.Millisecond, args[1], args[2]
	agent.LimitMemory() // as runlens agent does
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr, err := trace.Open(trace.Options{WatchAll: true})
	if err != nil {
		return err
	}
	defer tr.Close()
	// As runlens agent: only the pods' cgroup trees, filtered in the kernel.
	cgroupRoot, err := trace.CgroupRoot()
	if err != nil {
		return err
	}
	filter := &agent.PodFilter{Tracer: tr, Root: cgroupRoot}
	var netCache procscan.NetCache
	var indexes agent.IndexCache
	var buildIDs procscan.BuildIDCache
	if path := os.Getenv(profileEnv); path != "" {
		// One file per agent child: PATH.<pid>.
		f, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid()))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	w := agent.NewWatcher("/proc")
	var events, loadEvents atomic.Int64
	go tr.Run(ctx, func(ev *trace.Event) {
		events.Add(1)
		if strings.HasPrefix(ev.Path, files) {
			loadEvents.Add(1)
		}
		switch ev.Kind {
		case trace.KindExec:
			w.Exec(ev.PID, ev.Path)
		case trace.KindOpen:
			w.Open(ev.PID, ev.Path)
		}
	})
	go func() {
		// As `runlens agent --listen`: the maps of processes that exec'd,
		// read again a moment later.
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.Rescan()
			}
		}
	}()
	exe, _ := os.Executable()
	st := agentStats{}
	since := time.Now()
	var latest []byte
	cpu := func() int64 {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
	take := func() error {
		t0, c0 := time.Now(), cpu()
		defer func() { st.SnapshotCPUNanos += cpu() - c0 }()
		snap, err := procscan.Scan(ctx, procscan.Options{ContainersOnly: true, NetCache: &netCache, BuildIDs: &buildIDs})
		if err != nil {
			return err
		}
		// As runlens agent: narrowed once a look shows every container
		// inside the pod trees.
		var cgroups []string
		for _, p := range snap.Processes {
			if p.Attribution.ContainerID != "" {
				cgroups = append(cgroups, p.Cgroup)
			}
		}
		if trees, err := filter.Update(cgroups); err != nil || trees == nil {
			return fmt.Errorf("tracer not narrowed to the pod trees under %s (%v)", cgroupRoot, err)
		}
		ctrs, procs := fromScan(snap, pool)
		w.AddSnapshot(procs)
		drops, _ := tr.DropsTotal()
		missed, _ := tr.Missed()
		doc, err := agent.Snapshot(ctx, agent.Sources{
			Node:       "bench",
			Containers: func(context.Context) ([]evidence.Container, error) { return ctrs, nil },
			Processes:  w.Processes,
			Inventory:  fakeInventories(files, exe),
			Since:      since,
			Complete:   drops == 0 && missed == 0 && w.Cut() == 0 && !filter.Gap(),
			Indexes:    &indexes,
			ProcRoot:   "/proc",
		})
		if err != nil {
			return err
		}
		if latest, err = json.Marshal(doc); err != nil {
			return err
		}
		d := time.Since(t0).Nanoseconds()
		if st.Snapshots == 0 {
			st.FirstNs = d
		} else {
			st.LastNs, st.MaxNs = d, max(st.MaxNs, d)
		}
		st.Snapshots++
		st.Containers, st.Records, st.Processes, st.EvidenceKB = len(doc.Containers), len(doc.Records), len(snap.Processes), len(latest)/1024
		st.LoadRecords = 0
		for _, r := range doc.Records {
			if r.Package.Name == "bench-load" && r.State == "loaded" {
				st.LoadRecords++
			}
		}
		return nil
	}
	report := func(prefix string) {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		st.CPUNanos = ru.Utime.Nano() + ru.Stime.Nano()
		st.MaxRSSKB = ru.Maxrss
		st.Drops, _ = tr.DropsTotal()
		st.Missed, _ = tr.Missed()
		st.Events, st.LoadEvents, st.Cut = events.Load(), loadEvents.Load(), w.Cut()
		b, _ := json.Marshal(st)
		fmt.Printf("%s%s\n", prefix, b)
	}
	if err := take(); err != nil {
		return err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := time.NewTimer(interval)
	report("ready ")
	for {
		select {
		case <-next.C:
			if err := take(); err != nil {
				return err
			}
			next.Reset(interval)
		case cmd, ok := <-lines:
			switch {
			case !ok:
				report("")
				return nil
			case cmd == "go":
				next.Reset(interval / 2)
			case cmd == "stats":
				report("")
			}
		}
	}
}

// fromScan is what the CRI would say of the pool's containers, from
// procscan's attribution, and their processes as agent.Processes gives
// them.
func fromScan(snap *procscan.Snapshot, pool string) ([]evidence.Container, map[string][]agent.Process) {
	var ctrs []evidence.Container
	keep := map[string]bool{}
	for id, c := range snap.Containers {
		if !strings.Contains(c.CgroupPath, "/"+pool+"/") {
			continue
		}
		keep[id] = true
		sum := sha256.Sum256([]byte(id))
		ctrs = append(ctrs, evidence.Container{ID: id, Name: "app", PodUID: c.PodUID, PodName: "pod-" + id[:8], PodNamespace: "bench",
			Image: "bench/app:" + id[:12], Digest: "sha256:" + hex.EncodeToString(sum[:]), CgroupPath: c.CgroupPath, PIDs: c.PIDs})
	}
	ports := map[int][]string{}
	for _, l := range snap.Listeners {
		for _, pid := range l.PIDs {
			ports[pid] = append(ports[pid], l.PortName())
		}
	}
	procs := map[string][]agent.Process{}
	for i := range snap.Processes {
		p := &snap.Processes[i]
		id := p.Attribution.ContainerID
		if !keep[id] {
			continue
		}
		q := agent.Process{PID: p.PID, Exe: p.Exe.Path, Ports: ports[p.PID]}
		for _, m := range p.Maps {
			q.Mapped = append(q.Mapped, m.Path)
		}
		for _, f := range p.Files {
			q.Opened = append(q.Opened, f.Path)
		}
		procs[id] = append(procs[id], q)
	}
	return ctrs, procs
}
