package serverbench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/rematch"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/vulndb"
	"github.com/runlens/runlens/internal/webui"
)

// childConfig is what the server child is told.
type childConfig struct {
	DSN        string `json:"dsn"`
	V1         string `json:"v1"` // the first database's directory
	V2         string `json:"v2"` // the updated one's
	CPUProfile string `json:"cpu_profile,omitempty"`
}

// reply is the child's answer to one command.
type reply struct {
	Error   string          `json:"error,omitempty"`
	Seconds float64         `json:"seconds"`
	Risks   int             `json:"risks,omitempty"`
	Rematch *rematch.Report `json:"rematch,omitempty"`
	// MaxRSSMB is the child's peak RSS so far, to tell which step set it.
	MaxRSSMB float64 `json:"max_rss_mb"`
	// DecodedRSSMB is the peak RSS once an ingested result is decoded,
	// before IngestResult.
	DecodedRSSMB float64 `json:"decoded_rss_mb,omitempty"`
}

// maxRSSMB is this process's peak RSS so far.
func maxRSSMB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// runChild serves the store on a loopback httptest server, prints its
// URL, then runs the commands read from stdin, one JSON reply each:
// "ingest PATH CLUSTER UNIX" stores the result in PATH, timing
// IngestResult; "rematch" runs rematch.Run from the first database to
// the second; "quit" ends.
func runChild() error {
	var cfg childConfig
	if err := json.Unmarshal([]byte(os.Getenv(configEnv)), &cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	srv := server.New(st, server.Options{UI: webui.New(st, webui.Options{Version: "bench"})})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	fmt.Printf("url %s\n", ts.URL)
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		var r reply
		var err error
		switch f[0] {
		case "quit":
			return nil
		case "rss":
		case "ingest":
			r, err = childIngest(ctx, st, f[1:])
		case "rematch":
			r, err = childRematch(ctx, st, cfg)
		default:
			err = fmt.Errorf("unknown command %q", f[0])
		}
		if err != nil {
			r.Error = err.Error()
		}
		r.MaxRSSMB = maxRSSMB()
		if err := out.Encode(r); err != nil {
			return err
		}
	}
	return in.Err()
}

// childIngest decodes a result as a push would and times its IngestResult.
func childIngest(ctx context.Context, st store.Store, args []string) (reply, error) {
	if len(args) != 3 {
		return reply{}, errors.New("ingest PATH CLUSTER UNIX")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return reply{}, err
	}
	var doc result.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return reply{}, err
	}
	b = nil
	decoded := maxRSSMB()
	var at int64
	fmt.Sscan(args[2], &at)
	start := time.Now()
	stats, err := st.IngestResult(ctx, store.Ingest{Cluster: args[1], Source: "push:bench", Cause: store.CauseScan, Document: &doc, At: time.Unix(at, 0).UTC()})
	return reply{Seconds: time.Since(start).Seconds(), Risks: stats.Risks, DecodedRSSMB: decoded}, err
}

// childRematch opens both databases and times rematch.Run between them.
func childRematch(ctx context.Context, st store.Store, cfg childConfig) (reply, error) {
	v1, err := vulndb.Open(ctx, cfg.V1)
	if err != nil {
		return reply{}, err
	}
	defer v1.Close()
	v2, err := vulndb.Open(ctx, cfg.V2)
	if err != nil {
		return reply{}, err
	}
	defer v2.Close()
	start := time.Now()
	rep, err := rematch.Run(ctx, st, v1, v2, rematch.Options{})
	return reply{Seconds: time.Since(start).Seconds(), Rematch: &rep}, err
}

// child is the running server child.
type child struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr strings.Builder
	URL    string
}

// startChild re-executes the test binary as the server.
func startChild(t testing.TB, cfg childConfig) *child {
	t.Helper()
	b, _ := json.Marshal(cfg)
	c := &child{cmd: exec.Command(os.Args[0])}
	c.cmd.Env = append(os.Environ(), roleEnv+"=server", configEnv+"="+string(b))
	c.cmd.Stderr = &c.stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.out = bufio.NewReader(stdout)
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("server child did not start: %v: %s", err, c.stderr.String())
	}
	u, ok := strings.CutPrefix(strings.TrimSpace(line), "url ")
	if !ok {
		t.Fatalf("server child said %q", line)
	}
	c.URL = u
	return c
}

// do sends a command and reads its reply.
func (c *child) do(t testing.TB, cmd string) reply {
	t.Helper()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, c.stderr.String())
	}
	line, err := c.out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, c.stderr.String())
	}
	var r reply
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("%s: reply %q: %v", cmd, line, err)
	}
	if r.Error != "" {
		t.Fatalf("%s: %s", cmd, r.Error)
	}
	return r
}

// quit ends the child and returns its peak RSS in MB.
func (c *child) quit(t testing.TB) float64 {
	t.Helper()
	fmt.Fprintln(c.in, "quit")
	c.in.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("server child: %v: %s", err, c.stderr.String())
	}
	ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage")
	}
	return float64(ru.Maxrss) / 1024
}
