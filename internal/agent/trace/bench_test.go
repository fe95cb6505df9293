package trace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Run with: go test -run '^$' -bench . -benchtime 1x ./internal/agent/trace/

// loadRun is one run of the rate helper.
type loadRun struct {
	opens    int
	wall     time.Duration
	childCPU time.Duration
}

// runRate has the helper open file rate times a second for d, in cg.
func runRate(b *testing.B, cg testCgroup, rate int, d time.Duration, file string) loadRun {
	b.Helper()
	cmd := cg.helper(b, "rate", strconv.Itoa(rate), strconv.Itoa(int(d.Milliseconds())), file)
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("helper: %v", err)
	}
	var r loadRun
	var ns int64
	if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &r.opens, &ns); err != nil {
		b.Fatalf("helper output %q: %v", out, err)
	}
	r.wall = time.Duration(ns)
	r.childCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r
}

// selfCPU is this process's user and system time so far.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countingReader runs a reader that counts the cgroup's events on file.
func countingReader(b *testing.B, tr *Tracer, cgroupID uint64, file string) (n *atomic.Int64, stop func()) {
	n = new(atomic.Int64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.Run(ctx, func(e *Event) {
			if e.CgroupID == cgroupID && e.Path == file {
				n.Add(1)
			}
		})
	}()
	return n, func() { cancel(); <-done }
}

func benchFile(b *testing.B) string {
	file := filepath.Join(b.TempDir(), "bench-opened")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return file
}

// BenchmarkSustainedRate raises a child's open rate until the reader
// (default 4 MiB ring) drops events; it reports the highest rate with
// none dropped. Each step lasts 2 s, longer than the ring can absorb.
func BenchmarkSustainedRate(b *testing.B) {
	tr := openTracer(b, Options{})
	cg := newCgroup(b)
	if err := tr.Watch(cg.id); err != nil {
		b.Fatal(err)
	}
	file := benchFile(b)
	best := 0.0
	for _, rate := range []int{5_000, 25_000, 50_000, 100_000, 200_000, 400_000} {
		before, _ := tr.Drops()
		n, stop := countingReader(b, tr, cg.id, file)
		r := runRate(b, cg, rate, 2*time.Second, file)
		time.Sleep(200 * time.Millisecond)
		stop()
		after, _ := tr.Drops()
		dropped := after[cg.id] - before[cg.id]
		achieved := float64(r.opens) / r.wall.Seconds()
		b.Logf("rate %7d/s asked, %8.0f/s done: %7d opens, %7d events received, %6d dropped",
			rate, achieved, r.opens, n.Load(), dropped)
		if dropped != 0 || n.Load() < int64(r.opens) {
			break
		}
		best = max(best, achieved)
	}
	b.Logf("highest rate with 0 drops: %.0f events/s (target 50,000/s)", best)
	b.ReportMetric(best, "events/s-0-drops")
}

// BenchmarkCPUOverhead compares the CPU of the same open load without
// the tracer and with it (the child's CPU, which pays for the BPF
// programs in its system calls, plus this process's reader), and the
// child's CPU while the tracer is loaded but filters its cgroup out.
func BenchmarkCPUOverhead(b *testing.B) {
	requireBPF(b)
	file := benchFile(b)
	const d = 3 * time.Second
	for _, rate := range []int{5_000, 50_000} {
		cg := newCgroup(b)
		without := runRate(b, cg, rate, d, file)

		tr := openTracer(b, Options{})
		// Loaded but not watching the child: the cost of the filter alone.
		filtered := runRate(b, cg, rate, d, file)
		if err := tr.Watch(cg.id); err != nil {
			b.Fatal(err)
		}
		n, stop := countingReader(b, tr, cg.id, file)
		cpu0 := selfCPU(b)
		with := runRate(b, cg, rate, d, file)
		time.Sleep(100 * time.Millisecond)
		reader := selfCPU(b) - cpu0
		stop()
		drops, _ := tr.Drops()
		tr.Close()

		extra := with.childCPU + reader - without.childCPU
		b.Logf("rate %d/s for %v: child CPU %v without the tracer, %v when loaded but not watching it (filtered), %v watched; reader %v (%.2f%% of a core); "+
			"%d events, %d dropped; total CPU ratio with/without %.2f; tracer adds %.2f%% of a core",
			rate, d, without.childCPU.Round(time.Millisecond), filtered.childCPU.Round(time.Millisecond), with.childCPU.Round(time.Millisecond),
			reader.Round(time.Millisecond), 100*reader.Seconds()/with.wall.Seconds(), n.Load(), drops[cg.id],
			(with.childCPU+reader).Seconds()/without.childCPU.Seconds(), 100*extra.Seconds()/with.wall.Seconds())
		b.ReportMetric(100*extra.Seconds()/with.wall.Seconds(), fmt.Sprintf("%%core-added@%d/s", rate))
	}
}
