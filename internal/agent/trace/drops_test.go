package trace

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// drain reads what the ring holds, then stops: it returns the events of
// the cgroup, and how many of them opened path.
func drain(t *testing.T, tr *Tracer, cgroupID uint64, path string) (all, ofPath int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- tr.Run(ctx, func(e *Event) {
			if e.CgroupID == cgroupID {
				all++
				if e.Path == path {
					ofPath++
				}
			}
		})
	}()
	// Run returns what the ring held when cancelled: the child has
	// exited, so nothing more of its cgroup is coming.
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	return all, ofPath
}

// runLoop runs the helper opening file n times in a new watched cgroup,
// with no reader, and returns the cgroup's id.
func runLoop(t *testing.T, tr *Tracer, n int, file string) uint64 {
	t.Helper()
	cg := newCgroup(t)
	if err := tr.Watch(cg.id); err != nil {
		t.Fatal(err)
	}
	if err := cg.helper(t, "loop", strconv.Itoa(n), file).Run(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	return cg.id
}

func TestDropsAreCountedPerCgroup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "opened")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	// Baseline: what the helper's exec and start-up add to its opens,
	// with a ring large enough to keep everything.
	big := openTracer(t, Options{RingBufferSize: 1 << 20})
	base := runLoop(t, big, 10, file)
	baseAll, baseOf := drain(t, big, base, file)
	if d, _ := big.Drops(); d[base] != 0 || baseOf != 10 {
		t.Fatalf("baseline: %d drops, %d of 10 opens seen", d[base], baseOf)
	}
	overhead := baseAll - baseOf
	big.Close()

	// A 4 KiB ring and no reader while the child opens 100,000 times.
	const opens = 100_000
	tr := openTracer(t, Options{RingBufferSize: 4096})
	other := newCgroup(t)
	if err := tr.Watch(other.id); err != nil {
		t.Fatal(err)
	}
	cg := runLoop(t, tr, opens, file)
	drops, err := tr.Drops()
	if err != nil {
		t.Fatal(err)
	}
	all, ofPath := drain(t, tr, cg, file)
	t.Logf("4 KiB ring: %d events received (%d of the loop), %d dropped; helper start-up adds %d events",
		all, ofPath, drops[cg], overhead)
	if drops[cg] == 0 {
		t.Fatalf("no drops counted for cgroup %d: %v", cg, drops)
	}
	if _, ok := drops[other.id]; ok {
		t.Errorf("drops counted for an idle cgroup: %v", drops)
	}
	// Every event the programs made is either received or counted as
	// dropped: received + dropped = the loop's opens + the start-up's
	// events (exec and the runtime's own opens), within a few for a
	// start-up that varies between runs.
	got, want := all+int(drops[cg]), opens+overhead
	if got < opens || got > want+5 || got < want-5 {
		t.Errorf("received %d + dropped %d = %d, want %d (%d opens + %d start-up events)",
			all, drops[cg], got, want, opens, overhead)
	}
	total, err := tr.DropsTotal()
	if err != nil || total != drops[cg] {
		t.Errorf("DropsTotal = %d, %v; want the cgroup's %d", total, err, drops[cg])
	}
	if n, err := tr.Forget(cg); err != nil || n != drops[cg] {
		t.Errorf("Forget = %d, %v; want %d", n, err, drops[cg])
	}
	if d, _ := tr.Drops(); len(d) != 0 {
		t.Errorf("drops after Forget: %v", d)
	}
	if n, err := tr.Forget(cg); err != nil || n != 0 {
		t.Errorf("second Forget = %d, %v; want 0", n, err)
	}
	if all > tr.RingBufferSize()/headerSize {
		t.Errorf("%d events received from a %d-byte ring", all, tr.RingBufferSize())
	}
}
