package agentbench

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAgentBench measures the five figures (README.md). About six
// minutes with the default 60 s load windows; RUNLENS_AGENT_BENCH_SECONDS
// shortens them.
func TestAgentBench(t *testing.T) {
	if os.Getenv("RUNLENS_BENCH") != "1" {
		t.Skip("set RUNLENS_BENCH=1 to run the agent benchmark")
	}
	mount := requireHost(t)
	d := 60 * time.Second
	if s, err := strconv.Atoi(os.Getenv("RUNLENS_AGENT_BENCH_SECONDS")); err == nil && s >= 4 {
		d = time.Duration(s) * time.Second
	}
	tb := &table{}
	p := newPool(t, mount)
	ctrs := p.add(t, 20)
	startServers(t, ctrs)
	load(t, ctrs, 5_000, 2*time.Second) // warm-up: page cache, binaries

	// 1. Overhead: the same load without the agent, with it, and without
	// it again (the machine is shared: the two without say how noisy).
	// Snapshots every d/2, placed at d/4 and 3d/4 of the window with it.
	without1 := load(t, ctrs, 5_000, d)
	a, boot20 := startAgent(t, p, d/2)
	a.restart()
	s0 := a.stats(t)
	with := load(t, ctrs, 5_000, d)
	s1 := a.stats(t)
	agentCPU := time.Duration(s1.CPUNanos - s0.CPUNanos)
	t.Logf("load without the agent: %d opens in %v, %.2f%% of a core", without1.opens, without1.wall.Round(time.Millisecond), percent(without1.cpu, without1.wall))
	t.Logf("load with the agent: %d opens, %.2f%% of a core; agent %.2f%% of a core (%d events, %d of them the load's; %d snapshots in the window, %v each)",
		with.opens, percent(with.cpu, with.wall), percent(agentCPU, with.wall), s1.Events-s0.Events, s1.LoadEvents-s0.LoadEvents,
		s1.Snapshots-s0.Snapshots, time.Duration(s1.LastNs).Round(time.Millisecond))

	// 2. Drops as the load rises.
	var dropRows []string
	dropsOK := true
	for _, rate := range []int{10_000, 20_000, 50_000, 100_000} {
		b := a.stats(t)
		r := load(t, ctrs, rate, 5*time.Second)
		time.Sleep(300 * time.Millisecond)
		e := a.stats(t)
		dropped, got, missed := e.Drops-b.Drops, e.LoadEvents-b.LoadEvents, e.Missed-b.Missed
		if rate <= targetDropsUpTo && (dropped != 0 || missed != 0 || got < r.opens) {
			dropsOK = false
		}
		row := fmt.Sprintf("%d/s asked, %.0f/s done: %d opens, %d received, %d dropped, %d missed", rate, r.achieved(), r.opens, got, dropped, missed)
		t.Log("drops: " + row)
		dropRows = append(dropRows, row)
	}
	end20 := a.finish(t)
	without2 := load(t, ctrs, 5_000, d)
	// The added CPU: what the open and close calls cost more with the
	// tracer's programs in them, and the agent process itself. The
	// load's whole loop (its sleeps) is shown, too noisy to subtract.
	base := (without1.calls + without2.calls) / 2
	baseLoop := (without1.cpu + without2.cpu) / 2
	added := percent(with.calls-base+agentCPU, with.wall)
	us := func(r loadResult) float64 { return float64(r.calls.Microseconds()) / float64(r.opens) }
	tb.add("load alone, 5,000 opens/s in 20 containers", fmt.Sprintf("open+close %.2f µs / %.2f µs (before / after), %.2f %% of a core in the calls; whole loop %.1f %% / %.1f %%",
		us(without1), us(without2), percent(base, without1.wall), percent(without1.cpu, without1.wall), percent(without2.cpu, without2.wall)), "", nil)
	tb.add("load with the agent", fmt.Sprintf("open+close %.2f µs (the BPF programs run in them), %.2f %% of a core in the calls; whole loop %.1f %%",
		us(with), percent(with.calls, with.wall), percent(with.cpu, with.wall)), "", nil)
	snapCPU := time.Duration(s1.SnapshotCPUNanos - s0.SnapshotCPUNanos)
	tb.add("agent process", fmt.Sprintf("%.2f %% of a core: reader and Watcher %.2f %% (%d events/s, %d/s the load's), %d snapshots %.2f %% (%v CPU each)", percent(agentCPU, with.wall),
		percent(agentCPU-snapCPU, with.wall), (s1.Events-s0.Events)*int64(time.Second)/int64(with.wall), (s1.LoadEvents-s0.LoadEvents)*int64(time.Second)/int64(with.wall),
		s1.Snapshots-s0.Snapshots, percent(snapCPU, with.wall), (snapCPU/time.Duration(max(s1.Snapshots-s0.Snapshots, 1))).Round(time.Millisecond)), "", nil)
	tb.add("CPU added by the agent", fmt.Sprintf("%.2f %% of a core (calls %+.2f %%, agent %.2f %%); ratio with/without: calls %.2f, whole load + agent %.2f",
		added, percent(with.calls-base, with.wall), percent(agentCPU, with.wall), with.calls.Seconds()/base.Seconds(), (with.cpu+agentCPU).Seconds()/baseLoop.Seconds()),
		"≤ 2 % of a core", ptr(added <= targetAddedCore))
	for i, row := range dropRows {
		var ok *bool
		if i == len(dropRows)-1 {
			ok = ptr(dropsOK)
		}
		tb.add("drops", row, "0 up to 50,000/s", ok)
	}
	tb.add("peak RSS, 20 containers", mb(end20.MaxRSSKB), "", nil)
	tb.add("snapshot, 20 containers", fmt.Sprintf("%v bootstrap, %v last", time.Duration(boot20.FirstNs).Round(time.Millisecond), time.Duration(end20.LastNs).Round(time.Millisecond)), "", nil)

	// 3 and 4. 50 containers: bootstrap, then the load on and a snapshot
	// every 5 s, peak RSS.
	startServers(t, p.add(t, 30))
	a2, boot := startAgent(t, p, 5*time.Second)
	load(t, p.ctrs, 5_000, 22*time.Second)
	m := a2.finish(t)
	if boot.Containers != 50 {
		t.Errorf("bootstrap saw %d containers, want 50", boot.Containers)
	}
	bootSec := time.Duration(boot.FirstNs).Seconds()
	tb.add("peak RSS, 50 containers", fmt.Sprintf("%s after %d snapshots (%d records, evidence %d kB)", mb(m.MaxRSSKB), m.Snapshots, m.Records, m.EvidenceKB), "≤ 100 MB", ptr(float64(m.MaxRSSKB)/1024 <= targetRSSMB))
	tb.add("bootstrap snapshot, 50 containers", fmt.Sprintf("%.3f s (%d processes, %d containers, %d records); later ones ≤ %v",
		bootSec, boot.Processes, boot.Containers, boot.Records, time.Duration(m.MaxNs).Round(time.Millisecond)), "≤ 5 s", ptr(bootSec <= targetBootstrap))

	// 5. Inventory: content store against a cold registry scan.
	inventoryFigures(t, tb, benchImage(), 5)

	fmt.Printf("\nnode agent benchmark\n\n%s\n", tb)
	if len(tb.fail) > 0 {
		t.Logf("targets missed: %s", strings.Join(tb.fail, "; "))
	}
}

// TestAgentSmall runs the benchmark's path on 2 containers for 1 s in
// the ordinary suite: the agent child traces the load, its snapshot
// attributes the load's opens to both containers, nothing is dropped.
func TestAgentSmall(t *testing.T) {
	mount := requireHost(t)
	p := newPool(t, mount)
	ctrs := p.add(t, 2)
	for _, c := range ctrs {
		startIn(t, exec.Command("sleep", "60"), c.dir)
	}
	a, boot := startAgent(t, p, 300*time.Millisecond)
	if boot.Containers != 2 {
		t.Fatalf("bootstrap saw %d containers, want 2", boot.Containers)
	}
	r := load(t, ctrs, 500, time.Second)
	var st agentStats
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st = a.stats(t); st.Snapshots >= boot.Snapshots+2 && st.LoadRecords == 2 && st.LoadEvents >= r.opens {
			break
		}
	}
	st = a.finish(t)
	if st.LoadEvents < r.opens {
		t.Errorf("agent received %d of the load's %d opens", st.LoadEvents, r.opens)
	}
	if st.LoadRecords != 2 {
		t.Errorf("the last snapshot has %d loaded records of the load file, want one per container", st.LoadRecords)
	}
	if st.Drops != 0 {
		t.Errorf("%d events dropped at %d opens/s", st.Drops, r.rate)
	}
	t.Logf("%d opens, %d received; agent %v CPU, peak RSS %s, %d snapshots", r.opens, st.LoadEvents, time.Duration(st.CPUNanos).Round(time.Millisecond), mb(st.MaxRSSKB), st.Snapshots)
}
