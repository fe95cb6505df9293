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
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/agent"
	"github.com/runlens/runlens/internal/agent/contentstore"
	"github.com/runlens/runlens/internal/agent/cri"
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
}

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
	return cmd
}

func (a *app) runAgent(ctx context.Context, o *agentOptions) error {
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
	src := agent.Sources{
		Node:       node,
		Containers: client.Containers,
		Processes:  agent.Processes(o.procRoot),
		Inventory:  agent.Inventories(store, o.procRoot, &scan.Scanner{}),
		Since:      time.Now(),
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
	return serveEvidence(ctx, a, o, src)
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
// snapshot until ctx ends. Without a tracer it sees only what runs at
// each look, so its windows are never complete.
func serveEvidence(ctx context.Context, a *app, o *agentOptions, src agent.Sources) error {
	var mu sync.Mutex
	var latest []byte
	take := func() {
		doc, err := agent.Snapshot(ctx, src)
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
