package trace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/runlens/runlens/internal/agent/mountinfo"
)

// collector gathers a tracer's events in the background.
type collector struct {
	mu     sync.Mutex
	events []Event
	done   chan struct{}
}

func collect(t *testing.T, tr *Tracer) *collector {
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		tr.Run(ctx, func(e *Event) {
			c.mu.Lock()
			c.events = append(c.events, *e)
			c.mu.Unlock()
		})
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

// find returns the first event matching, or false.
func (c *collector) find(match func(*Event) bool) (Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.events {
		if match(&c.events[i]) {
			return c.events[i], true
		}
	}
	return Event{}, false
}

// wait waits up to 5 s for an event matching.
func (c *collector) wait(t *testing.T, what string, match func(*Event) bool) Event {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if e, ok := c.find(match); ok {
			return e
		}
	}
	t.Fatalf("no %s event", what)
	return Event{}
}

// deepFile makes a file whose absolute path is about 1,000 bytes long.
func deepFile(t *testing.T) string {
	dir := t.TempDir()
	for len(dir) < 950 {
		dir = filepath.Join(dir, strings.Repeat("d", 60))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "deep-file")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExecAndOpensOfAWatchedCgroup(t *testing.T) {
	tr := openTracer(t, Options{})
	cg := newCgroup(t)
	if err := tr.Watch(cg.id); err != nil {
		t.Fatal(err)
	}
	c := collect(t, tr)
	start := time.Now()

	// A program of the cgroup: its exec and the file it opens.
	cat := cg.command(t, "/bin/cat", "/etc/hostname")
	if err := cat.Run(); err != nil {
		t.Fatalf("cat: %v", err)
	}
	ex := c.wait(t, "exec of /bin/cat", func(e *Event) bool { return e.Kind == KindExec && e.Path == "/bin/cat" })
	if ex.CgroupID != cg.id || int(ex.PID) != cat.Process.Pid || ex.Comm != "cat" {
		t.Errorf("exec event = %+v, want cgroup %d pid %d comm cat", ex, cg.id, cat.Process.Pid)
	}
	if ex.Time.Before(start.Add(-time.Second)) || ex.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("exec time %v not within the test's run (started %v)", ex.Time, start)
	}
	op := c.wait(t, "open of /etc/hostname", func(e *Event) bool { return e.Kind == KindOpen && e.Path == "/etc/hostname" })
	if op.CgroupID != cg.id || int(op.PID) != cat.Process.Pid || op.Syscall != "openat" || op.Result < 0 {
		t.Errorf("open event = %+v, want cgroup %d pid %d via openat, an fd as result", op, cg.id, cat.Process.Pid)
	}

	// A path longer than 255 bytes arrives whole, and openat2 is seen
	// with its flags.
	long := deepFile(t)
	target := filepath.Join(t.TempDir(), "openat2-target")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := cg.helper(t, "opens", long, target)
	if err := h.Run(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	lo := c.wait(t, "open of the long path", func(e *Event) bool { return e.Kind == KindOpen && e.Path == long })
	if lo.CgroupID != cg.id || lo.Flags&unix.O_CLOEXEC == 0 || lo.Dirfd != unix.AT_FDCWD {
		t.Errorf("long-path event = %+v, want cgroup %d, O_CLOEXEC, AT_FDCWD", lo, cg.id)
	}
	t.Logf("long path of %d bytes arrived whole", len(lo.Path))
	o2 := c.wait(t, "openat2", func(e *Event) bool { return e.Syscall == "openat2" && e.Path == target })
	if o2.CgroupID != cg.id || o2.Flags&unix.O_CLOEXEC == 0 || int(o2.PID) != h.Process.Pid {
		t.Errorf("openat2 event = %+v, want cgroup %d, pid %d, O_CLOEXEC", o2, cg.id, h.Process.Pid)
	}

	// Other cgroups are filtered: this test process's own opens and a
	// program run outside the cgroup are not reported.
	marker := filepath.Join(t.TempDir(), "unwatched-marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := newCgroup(t).command(t, "/bin/cat", marker).Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(marker); err != nil {
		t.Fatal(err)
	}
	// A later event of the watched cgroup proves the reader got past them.
	if err := cg.command(t, "/bin/cat", "/etc/hosts").Run(); err != nil {
		t.Fatal(err)
	}
	c.wait(t, "open of /etc/hosts", func(e *Event) bool { return e.Path == "/etc/hosts" })
	if e, ok := c.find(func(e *Event) bool { return e.Path == marker || e.CgroupID != cg.id }); ok {
		t.Errorf("event of an unwatched cgroup reported: %+v", e)
	}

	// WatchAll reports them; WatchListed filters again.
	if err := tr.WatchAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(marker); err != nil {
		t.Fatal(err)
	}
	self := c.wait(t, "open of the marker under WatchAll", func(e *Event) bool { return e.Path == marker })
	if int(self.PID) != os.Getpid() {
		t.Errorf("marker opened by pid %d, want this process %d", self.PID, os.Getpid())
	}
	if err := tr.WatchListed(); err != nil {
		t.Fatal(err)
	}
	if n, err := tr.Missed(); err != nil {
		t.Errorf("Missed: %v", err)
	} else {
		t.Logf("recursion misses: %d", n)
	}
	if d, _ := tr.Drops(); d[cg.id] != 0 {
		t.Errorf("drops of the cgroup = %d with a 4 MiB ring and a reader", d[cg.id])
	}
}

func TestCloseDetachesAndFrees(t *testing.T) {
	requireBPF(t)
	tr, err := Open(Options{WatchAll: true})
	if err != nil {
		t.Fatal(err)
	}
	var progs []ebpf.ProgramID
	for _, p := range []*ebpf.Program{tr.objs.TraceExec, tr.objs.TraceOpenat, tr.objs.TraceOpenat2, tr.objs.TraceOpenLegacy, tr.objs.TraceOpenExit} {
		info, err := p.Info()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := info.ID()
		progs = append(progs, id)
	}
	if len(tr.links) < 5 {
		t.Fatalf("%d tracepoints attached, want at least 5 (exec, openat and openat2 entries and exits)", len(tr.links))
	}
	ch := tr.Events(context.Background())
	// The channel delivers: this process's own open, under WatchAll.
	marker := filepath.Join(t.TempDir(), "events-marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(marker); err != nil {
		t.Fatal(err)
	}
	for timeout := time.After(5 * time.Second); ; {
		select {
		case e := <-ch:
			if e.Path != marker {
				continue
			}
			if int(e.PID) != os.Getpid() || e.Kind != KindOpen {
				t.Errorf("marker event = %+v", e)
			}
		case <-timeout:
			t.Fatal("no event for the marker on the Events channel")
		}
		break
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The reader ends (events read before Close may still be queued).
	for range ch {
	}
	if err := tr.Err(); err != nil {
		t.Errorf("Err after Close = %v, want nil", err)
	}
	// Programs are freed once no fd or link holds them.
	for _, id := range progs {
		var err error
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var p *ebpf.Program
			if p, err = ebpf.NewProgramFromID(id); err != nil {
				break
			}
			p.Close()
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("program %d still loaded after Close (%v)", id, err)
		}
	}
}

func TestCgroupIDAndRingSize(t *testing.T) {
	root, err := CgroupRoot()
	if err != nil {
		t.Skipf("no cgroup2 mount: %v", err)
	}
	id, err := CgroupID(root)
	if err != nil || id == 0 {
		t.Fatalf("CgroupID(%s) = %d, %v", root, id, err)
	}
	if _, err := CgroupID("/etc/hostname"); err == nil {
		t.Error("CgroupID of a file: no error")
	}
	for in, want := range map[int]int{0: DefaultRingBufferSize, 1: 4096, 4096: 4096, 5000: 8192, 1 << 20: 1 << 20} {
		if got := ringSize(in); got != want {
			t.Errorf("ringSize(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestFailedOpensOnlyWhenAsked(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "does-not-exist")
	for _, failed := range []bool{false, true} {
		tr := openTracer(t, Options{FailedOpens: failed})
		cg := newCgroup(t)
		if err := tr.Watch(cg.id); err != nil {
			t.Fatal(err)
		}
		c := collect(t, tr)
		// cat fails on the missing file, then opens the one that exists.
		if err := cg.command(t, "/bin/cat", missing, "/etc/hostname").Run(); err == nil {
			t.Fatal("cat of a missing file succeeded")
		}
		c.wait(t, "open of /etc/hostname", func(e *Event) bool { return e.Path == "/etc/hostname" })
		e, seen := c.find(func(e *Event) bool { return e.Path == missing })
		switch {
		case failed && !seen:
			t.Error("FailedOpens: the failed open is not reported")
		case failed && e.Result != -int64(unix.ENOENT):
			t.Errorf("FailedOpens: result %d, want -ENOENT", e.Result)
		case !failed && seen:
			t.Errorf("failed open reported without FailedOpens: %+v", e)
		}
		tr.Close()
	}
}

// TestEventLayout holds the decoder's offsets to the C struct as bpf2go
// saw it.
func TestEventLayout(t *testing.T) {
	var e tracerEvent
	for name, got := range map[string][2]uintptr{
		"ts":        {unsafe.Offsetof(e.Ts), offTs},
		"cgroup_id": {unsafe.Offsetof(e.CgroupId), offCgroup},
		"flags":     {unsafe.Offsetof(e.Flags), offFlags},
		"ret":       {unsafe.Offsetof(e.Ret), offRet},
		"pid":       {unsafe.Offsetof(e.Pid), offPid},
		"tid":       {unsafe.Offsetof(e.Tid), offTid},
		"kind":      {unsafe.Offsetof(e.Kind), offKind},
		"dirfd":     {unsafe.Offsetof(e.Dirfd), offDirfd},
		"path_len":  {unsafe.Offsetof(e.PathLen), offPathLen},
		"comm":      {unsafe.Offsetof(e.Comm), offComm},
		"path":      {unsafe.Offsetof(e.Path), headerSize},
	} {
		if got[0] != got[1] {
			t.Errorf("%s at %d in the C struct, decoded at %d", name, got[0], got[1])
		}
	}
	if len(e.Path) != maxPathSize {
		t.Errorf("path of %d bytes, decoded up to %d", len(e.Path), maxPathSize)
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		"/sys/fs/cgroup":        "/sys/fs/cgroup",
		`/mnt/a\040b`:           "/mnt/a b",
		`/mnt/back\134slash`:    `/mnt/back\slash`,
		`/mnt/trailing\04`:      `/mnt/trailing\04`,
		`/mnt/not\999an-escape`: `/mnt/not\999an-escape`,
	} {
		if got := mountinfo.Unescape(in); got != want {
			t.Errorf("mountinfo.Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenNamesAMissingTracefs(t *testing.T) {
	saved := tracefsRoots
	tracefsRoots = []string{filepath.Join(t.TempDir(), "no-tracefs")}
	defer func() { tracefsRoots = saved }()
	tr, err := Open(Options{})
	if err == nil {
		tr.Close()
		t.Fatal("Open without tracefs succeeded")
	}
	if !errors.Is(err, ErrNoTracefs) || !strings.Contains(err.Error(), "mount -t tracefs") {
		t.Errorf("Open without tracefs: %v, want ErrNoTracefs saying how to mount it", err)
	}
}
