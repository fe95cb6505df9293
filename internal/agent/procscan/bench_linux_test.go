package procscan

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// BenchmarkScan scans the real /proc as it is and reports processes,
// mappings and descriptors per second.
func BenchmarkScan(b *testing.B) {
	benchScan(b, nil)
}

// BenchmarkScan50Containers starts 50 containers' worth of processes in
// imitated kubepods cgroups (each: python3's http.server, which maps its
// libraries and listens in a network namespace of its own, and three
// sleeps), then scans the real /proc.
// The node agent's bootstrap aims at 50 running containers in under 5 s.
func BenchmarkScan50Containers(b *testing.B) {
	const containers, sleeps = 50, 3
	python := pythonPath()
	if python == "" {
		b.Skip("python3 not installed")
	}
	pod := newFakePod(b)
	ids := map[string]bool{}
	var servers []*child
	for range containers {
		id, dir := pod.container(b)
		ids[id] = true
		servers = append(servers, startIn(b, podNetwork(exec.Command(python, "-u", "-m", "http.server", "0", "--bind", "0.0.0.0")), dir))
		for range sleeps {
			startIn(b, exec.Command("sleep", "600"), dir)
		}
	}
	for _, s := range servers {
		if line := s.line(b); !strings.Contains(line, "port") {
			b.Fatalf("http.server: %q", line)
		}
	}
	benchScan(b, ids)
}

// benchScan runs Scan in a loop; with want, it checks every container in
// it was found with a listener.
func benchScan(b *testing.B, want map[string]bool) {
	b.ReportAllocs()
	ctx := context.Background()
	var procs, maps, fds, ctrs int
	var took time.Duration
	for b.Loop() {
		snap, err := Scan(ctx, Options{})
		if err != nil {
			b.Fatal(err)
		}
		procs, maps, fds, ctrs = len(snap.Processes), 0, 0, len(snap.Containers)
		for _, p := range snap.Processes {
			maps += len(p.Maps)
			fds += len(p.Files) + len(p.Sockets)
		}
		for id := range want {
			if c := snap.Containers[id]; c == nil || len(c.PIDs) != 4 || len(c.Listeners) != 1 {
				b.Fatalf("container %s not found whole: %+v", id, c)
			}
		}
		took = snap.Duration
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(procs)/sec, "procs/s")
	b.ReportMetric(float64(maps)/sec, "mappings/s")
	b.ReportMetric(float64(procs), "procs")
	b.ReportMetric(float64(ctrs), "containers")
	b.Logf("%d processes (%d distinct mappings, %d descriptors kept) in %d containers: last scan %v, %.0f processes/s",
		procs, maps, fds, ctrs, took.Round(time.Microsecond), float64(procs)/sec)
}
