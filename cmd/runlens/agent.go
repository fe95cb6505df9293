package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/agent"
	"github.com/runlens/runlens/internal/agent/caps"
	"github.com/runlens/runlens/internal/agent/contentstore"
	"github.com/runlens/runlens/internal/agent/cri"
	"github.com/runlens/runlens/internal/agent/trace"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/usage"
)

// agentOptions are the flags of `runlens agent`.
type agentOptions struct {
	once           bool
	output         string
	listen         string
	interval       time.Duration
	criSocket      string
	containerdRoot string
	procRoot       string
	node           string
	drift          bool
}

// dropCapabilities makes `runlens agent` drop every capability but
// caps.Keep() at start. Tests that run the agent inside their own
// process turn it off: that process still has clusters to tear down.
var dropCapabilities = true

func (a *app) agentCommand() *cobra.Command {
	var o agentOptions
	cmd := &cobra.Command{
		Use:   "agent (--once | --listen ADDR)",
		Short: "Watch this node's running containers and say which packages they use",
		Long: `Run on a Kubernetes node, as root: list the running containers through the
runtime's CRI socket, read each image's packages from the runtime's content
store (or the container's live root filesystem) without pulling anything,
and see what every process executes, maps, opens and listens on (/proc).
The result is evidence: per image and package, executed, listening, loaded
or not seen, over an observation window. "runlens scan cluster --evidence"
gives every risk its runtime state from it.

--drift (on by default with --once) also compares each container's live
root with its image from the content store: packages installed and files
written or dropped since it started, in the container's "drift".

It needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (and CAP_BPF, CAP_PERFMON
for tracing), says which is missing, and drops every other capability at
start; docs/agent.md has the DaemonSet's securityContext.

--once writes one snapshot and exits. Its window is a single moment, so it
can prove a package in use but never unused; --listen keeps watching and
serves the latest evidence at GET /v1/evidence.`,
		Example: `  runlens agent --once -o evidence.json
  runlens agent --listen :9090 --interval 30s
  runlens scan cluster --evidence evidence.json --evidence http://node-2:9090/v1/evidence`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.once == (o.listen != "") {
				return usage.Errorf("give exactly one of --once and --listen")
			}
			if !cmd.Flags().Changed("drift") {
				o.drift = o.once
			}
			if o.interval < time.Second {
				return usage.Errorf("--interval: want 1s or more, got %s", o.interval)
			}
			return a.runAgent(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.once, "once", false, "take one snapshot, write it and exit")
	f.StringVarP(&o.output, "output", "o", "", "with --once, write the evidence to this file instead of stdout")
	f.StringVar(&o.listen, "listen", "", "keep watching and serve GET /v1/evidence on this address (host:port)")
	f.DurationVar(&o.interval, "interval", 30*time.Second, "with --listen, how often to look again")
	f.StringVar(&o.criSocket, "cri-socket", "/run/containerd/containerd.sock", "the container runtime's CRI socket (containerd, CRI-O)")
	f.StringVar(&o.containerdRoot, "containerd-root", "/var/lib/containerd", "containerd's root, whose content store holds the images; images not found there are read from the live root")
	f.StringVar(&o.procRoot, "proc", "/proc", "the host's proc filesystem")
	f.StringVar(&o.node, "node", "", "the node's name in the evidence (default: the host name)")
	f.BoolVar(&o.drift, "drift", false, "compare each container's live root with its image: packages and files added at runtime (default: on with --once)")
	return cmd
}

func (a *app) runAgent(ctx context.Context, o *agentOptions) error {
	agent.LimitMemory()
	if err := a.agentCapabilities(); err != nil {
		return err
	}
	client, err := cri.Dial(ctx, o.criSocket)
	if err != nil {
		return err
	}
	defer client.Close()
	store, err := contentstore.Open(o.containerdRoot)
	if err != nil {
		a.log.Warn("no content store: images are read from the containers' live roots", "reason", err)
		store = nil
	} else {
		defer store.Close()
	}
	node := o.node
	if node == "" {
		node, _ = os.Hostname()
	}
	procs := &agent.ProcReader{ProcRoot: o.procRoot}
	src := agent.Sources{
		Node:       node,
		Containers: client.Containers,
		Processes:  procs.Processes,
		Problems:   procs.Problems,
		Inventory:  agent.Inventories(store, o.procRoot, &scan.Scanner{}),
		ProcRoot:   o.procRoot,
		Since:      time.Now(),
	}
	if o.drift && store != nil {
		d := &agent.Drifter{Store: store, ProcRoot: o.procRoot, Scanner: &scan.Scanner{}}
		src.Inventory, src.Drift = d.Inventory, d.Drift
	}
	if o.once {
		doc, err := agent.Snapshot(ctx, src)
		if err != nil {
			return err
		}
		for _, p := range doc.Problems {
			a.log.Warn("agent", "problem", p)
		}
		return writeEvidence(a.stdout, o.output, doc)
	}
	src.Inventory = agent.CacheInventories(src.Inventory)
	src.Indexes = &agent.IndexCache{}
	return serveEvidence(ctx, a, o, a.watch(ctx, o, src, procs.ContainerCgroups))
}

// watch makes src continuous: every snapshot adds to what was seen since
// the start, and the tracer's exec and open events fill the time between
// snapshots. Windows are complete only while the tracer runs and has lost
// nothing; without it (no BPF here) every window is partial.
// cgroups gives the container processes' cgroup v2 paths of the last look.
func (a *app) watch(ctx context.Context, o *agentOptions, src agent.Sources, cgroups func() []string) func() agent.Sources {
	w := agent.NewWatcher(o.procRoot)
	procs := src.Processes
	src.Processes = func(ctx context.Context) (map[string][]agent.Process, error) {
		snap, err := procs(ctx)
		if err != nil {
			return nil, err
		}
		w.AddSnapshot(snap)
		return w.Processes(ctx)
	}
	tr, err := trace.Open(trace.Options{WatchAll: true})
	if err != nil {
		a.log.Warn("no tracer: only what runs at each look is seen, and no window is complete", "reason", err)
		return func() agent.Sources { return src }
	}
	// Only the pods' cgroup trees are traced, in the kernel, once a look
	// has shown every container inside them; looked at again each look.
	var filter *agent.PodFilter
	if root, err := trace.CgroupRoot(); err == nil {
		filter = &agent.PodFilter{Tracer: tr, Root: root}
	}
	narrow := func() {
		if filter == nil {
			return
		}
		trees, err := filter.Update(cgroups())
		switch {
		case err != nil:
			a.log.Warn("tracer filter", "err", err)
		case trees == nil:
			a.log.Debug("tracing every process of the node (no pod cgroup tree holding every container)")
		default:
			a.log.Debug("tracing the pod cgroup trees", "trees", trees)
		}
	}
	var running atomic.Bool
	running.Store(true)
	go func() {
		// Libraries mapped right after an exec, without a traced open.
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
	go func() {
		defer tr.Close()
		defer running.Store(false)
		err := tr.Run(ctx, func(ev *trace.Event) {
			switch ev.Kind {
			case trace.KindExec:
				w.Exec(ev.PID, ev.Path)
			case trace.KindOpen:
				w.Open(ev.PID, ev.Path)
			}
		})
		if err != nil && ctx.Err() == nil {
			a.log.Error("tracer stopped", "err", err)
		}
	}()
	return func() agent.Sources {
		narrow()
		s := src
		dropped, derr := tr.DropsTotal()
		missed, merr := tr.Missed()
		s.Complete = running.Load() && derr == nil && merr == nil && dropped == 0 && missed == 0 && w.Cut() == 0 &&
			(filter == nil || !filter.Gap())
		return s
	}
}

// agentCapabilities fails naming the capabilities the agent lacks, then
// drops every one it does not need.
func (a *app) agentCapabilities() error {
	have, err := caps.Current()
	if err != nil {
		a.log.Warn("capabilities not checked", "reason", err)
		return nil
	}
	if err := caps.Check(have); err != nil {
		return err
	}
	if !dropCapabilities {
		return nil
	}
	after, err := caps.Drop(caps.Keep())
	if err != nil {
		a.log.Warn("capabilities not dropped", "reason", err, "effective", have.Effective.String())
		return nil
	}
	a.log.Info("agent capabilities", "effective", after.Effective.String(), "permitted", after.Permitted.String())
	return nil
}

// writeEvidence writes doc as indented JSON to path, or w when empty.
func writeEvidence(w io.Writer, path string, doc *evidence.Document) error {
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("creating evidence file: %w", err)
		}
		err = encodeEvidence(f, doc)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing evidence: %w", cerr)
		}
		return err
	}
	return encodeEvidence(w, doc)
}

func encodeEvidence(w io.Writer, doc *evidence.Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing evidence: %w", err)
	}
	return nil
}

// serveEvidence looks again every interval and serves the latest
// snapshot until ctx ends.
func serveEvidence(ctx context.Context, a *app, o *agentOptions, sources func() agent.Sources) error {
	var mu sync.Mutex
	var latest []byte
	take := func() {
		doc, err := agent.Snapshot(ctx, sources())
		if err != nil {
			a.log.Error("agent snapshot failed", "err", err)
			return
		}
		b, err := json.Marshal(doc)
		if err != nil {
			a.log.Error("agent snapshot", "err", err)
			return
		}
		mu.Lock()
		latest = b
		mu.Unlock()
	}
	take()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/evidence", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		b := latest
		mu.Unlock()
		if b == nil {
			http.Error(w, "no snapshot yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		t := time.NewTicker(o.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				srv.Close()
				return
			case <-t.C:
				take()
			}
		}
	}()
	a.log.Info("agent serving evidence", "addr", ln.Addr().String(), "interval", o.interval)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
