// Package agentbench measures the node agent on this host (README.md):
// the CPU it adds to a file-open load in imitated containers, the events
// it drops as the load rises, its peak RSS with 50 containers, the time
// of one full snapshot of them, and the inventory of an image from a
// containerd content store against a cold registry scan.
//
// The test binary plays three parts: the test itself (root: it makes the
// cgroups and starts the children), the agent (a child running the
// tracer, a Watcher and procscan, as `runlens agent --listen` does) and
// the load (children that open files at a given rate inside a
// container's cgroup).
package agentbench

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/agent/trace"
)

// Targets.
const (
	targetAddedCore = 2.0    // % of one core above the same load without the agent
	targetDropsUpTo = 50_000 // events/s with no drop
	targetRSSMB     = 100.0
	targetBootstrap = 5.0 // seconds for one snapshot of 50 containers
)

// roleEnv makes the test binary act as a child: "agent" or "load".
const roleEnv = "RUNLENS_AGENT_BENCH_ROLE"

func TestMain(m *testing.M) {
	switch role := os.Getenv(roleEnv); role {
	case "":
		os.Exit(m.Run())
	case "agent":
		err := runAgent(os.Args[1:])
		exit(role, err)
	case "load":
		err := runLoad(os.Args[1:])
		exit(role, err)
	default:
		exit(role, errors.New("unknown role"))
	}
}

func exit(role string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// requireHost skips without root, a cgroup2 mount or BPF, saying why.
func requireHost(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (cgroups, BPF)")
	}
	root, err := trace.CgroupRoot()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	if err := trace.Supported(); err != nil {
		t.Skipf("skipping: the tracer cannot run here: %v", err)
	}
	return root
}

// table prints the figures with their targets.
type table struct {
	rows [][4]string
	fail []string
}

// add records one figure; target and ok may be empty for a figure
// without a target.
func (tb *table) add(name, value, target string, pass *bool) {
	verdict := ""
	if pass != nil {
		verdict = "PASS"
		if !*pass {
			verdict = "FAIL"
			tb.fail = append(tb.fail, name)
		}
	}
	tb.rows = append(tb.rows, [4]string{name, value, target, verdict})
}

// String is the table in Markdown.
func (tb *table) String() string {
	var b strings.Builder
	b.WriteString("| figure | measured | target | |\n|---|---|---|---|\n")
	for _, r := range tb.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r[0], r[1], r[2], r[3])
	}
	return b.String()
}

func ptr(b bool) *bool { return &b }
