// Package trace is the node agent's continuous eBPF tracer: it reports
// every program execution (sched_process_exec) and file open (openat,
// openat2 and, where the architecture has it, open) made by the tasks of
// the cgroups it is asked to watch, each attributed to the task's cgroup
// v2 id. Opens are reported when they return, with their result (failed
// ones only when asked). Events the ring buffer had no room for are not
// lost silently: they are counted per cgroup and read with Drops.
//
// The BPF programs are CO-RE objects compiled from bpf/tracer.c and
// committed (hack/bpf/generate.sh regenerates them), so building and
// testing need no C compiler.
package trace

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// DefaultRingBufferSize is the ring buffer's size when Options leaves it
// zero: 4 MiB, about 35,000 events with paths of 30 bytes (an event
// takes 80 bytes and its path).
const DefaultRingBufferSize = 4 << 20

// DefaultPollInterval is how often the reader takes what the ring
// buffer holds when Options leaves it zero: at 100,000 events/s the
// default ring fills in about 0.3 s, three times the interval. Polling
// more often costs more than the events (each poll wakes the Go
// runtime's threads).
const DefaultPollInterval = 100 * time.Millisecond

// Bits of the config map: trace every cgroup; report failed opens.
const (
	configWatchAll    = 1
	configFailedOpens = 2
)

// Options configure Open.
type Options struct {
	// RingBufferSize is the ring buffer's size in bytes, rounded up to a
	// power of two of at least one page; 0 means DefaultRingBufferSize.
	RingBufferSize int
	// WatchAll traces every cgroup; otherwise only the Cgroups listed
	// here and those added with Watch are traced.
	WatchAll bool
	// Cgroups are cgroup v2 ids (see CgroupID) to trace from the start.
	Cgroups []uint64
	// FailedOpens reports opens that failed too (ENOENT of a search
	// path, EACCES); by default only opens that returned an fd are.
	FailedOpens bool
	// PollInterval is how often the reader takes what the ring holds
	// (how late an event may be delivered); 0 means DefaultPollInterval.
	PollInterval time.Duration
}

// Tracer is a loaded and attached set of tracing programs. Its methods
// may be called from several goroutines; Events may be read by one
// reader at a time.
type Tracer struct {
	objs     tracerObjects
	links    []link.Link
	reader   *ringbuf.Reader
	warnings []string
	// monoBase and wallBase convert the programs' CLOCK_MONOTONIC stamps.
	monoBase time.Duration
	wallBase time.Time
	ringSize int
	poll     time.Duration

	cfgMu      sync.Mutex
	cfg        uint32
	treeLevels uint32

	closeOnce sync.Once
	closeErr  error
	readMu    sync.Mutex
	readErr   atomic.Pointer[error]
	// names interns event paths and command names; guarded by readMu.
	names interner
}

// attachment is one tracepoint a program is attached to.
type attachment struct {
	group, name string
	prog        func(*tracerObjects) *ebpf.Program
	optional    bool
}

var attachments = []attachment{
	{"sched", "sched_process_exec", func(o *tracerObjects) *ebpf.Program { return o.TraceExec }, false},
	{"syscalls", "sys_enter_openat", func(o *tracerObjects) *ebpf.Program { return o.TraceOpenat }, false},
	{"syscalls", "sys_enter_openat2", func(o *tracerObjects) *ebpf.Program { return o.TraceOpenat2 }, false},
	// open(2) does not exist on arm64 and other newer architectures.
	{"syscalls", "sys_enter_open", func(o *tracerObjects) *ebpf.Program { return o.TraceOpenLegacy }, true},
	// One program reports the opens on their return.
	{"syscalls", "sys_exit_openat", func(o *tracerObjects) *ebpf.Program { return o.TraceOpenExit }, false},
	{"syscalls", "sys_exit_openat2", func(o *tracerObjects) *ebpf.Program { return o.TraceOpenExit }, false},
	{"syscalls", "sys_exit_open", func(o *tracerObjects) *ebpf.Program { return o.TraceOpenExit }, true},
}

// Open loads the programs, attaches them to their tracepoints and opens
// the ring buffer. The error names what failed and wraps ErrNoBTF,
// ErrNoTracefs or ErrBPFRefused where one of them is the cause.
func Open(opts Options) (*Tracer, error) {
	t := &Tracer{ringSize: ringSize(opts.RingBufferSize), poll: opts.PollInterval}
	if t.poll <= 0 {
		t.poll = DefaultPollInterval
	}
	// Kernels since 5.11 charge BPF memory to the memory cgroup and need
	// no rlimit; where raising it is not allowed, loading may still work.
	if err := rlimit.RemoveMemlock(); err != nil {
		t.warnings = append(t.warnings, fmt.Sprintf("memlock rlimit not raised: %v", err))
	}
	spec, err := loadTracer()
	if err != nil {
		return nil, fmt.Errorf("trace: read BPF object: %w", err)
	}
	spec.Maps[tracerMapEvents].MaxEntries = uint32(t.ringSize)
	if err := spec.LoadAndAssign(&t.objs, nil); err != nil {
		return nil, loadError(err)
	}
	// After the load: without privileges that fails first, and says so.
	if _, err := tracefsRoot(); err != nil {
		t.objs.Close()
		return nil, err
	}
	if err := t.setup(opts); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// setup fills the filter maps, attaches the programs and opens the reader.
func (t *Tracer) setup(opts Options) error {
	var cfg uint32
	if opts.WatchAll {
		cfg |= configWatchAll
	}
	if opts.FailedOpens {
		cfg |= configFailedOpens
	}
	if err := t.setConfig(^uint32(0), cfg); err != nil {
		return err
	}
	for _, id := range opts.Cgroups {
		if err := t.Watch(id); err != nil {
			return err
		}
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return fmt.Errorf("trace: read monotonic clock: %w", err)
	}
	t.wallBase, t.monoBase = time.Now(), time.Duration(ts.Nano())
	for _, a := range attachments {
		l, err := link.Tracepoint(a.group, a.name, a.prog(&t.objs), nil)
		if err != nil {
			if a.optional && errors.Is(err, os.ErrNotExist) {
				continue
			}
			if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
				err = fmt.Errorf("%w: %w", ErrBPFRefused, err)
			}
			return fmt.Errorf("trace: attach tracepoint %s/%s: %w", a.group, a.name, err)
		}
		t.links = append(t.links, l)
	}
	rd, err := ringbuf.NewReader(t.objs.Events)
	if err != nil {
		return fmt.Errorf("trace: open ring buffer reader: %w", err)
	}
	t.reader = rd
	return nil
}

// loadError names a failed load and says when the kernel refused it.
func loadError(err error) error {
	var verr *ebpf.VerifierError
	switch {
	case errors.As(err, &verr):
		return fmt.Errorf("trace: BPF verifier rejected the programs: %w", err)
	case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES):
		return fmt.Errorf("trace: load BPF programs: %w: %w", ErrBPFRefused, err)
	default:
		return fmt.Errorf("trace: load BPF programs: %w", err)
	}
}

// ringSize rounds n up to a power of two of at least one page.
func ringSize(n int) int {
	if n <= 0 {
		n = DefaultRingBufferSize
	}
	page := os.Getpagesize()
	if n < page {
		n = page
	}
	if n&(n-1) != 0 {
		n = 1 << bits.Len(uint(n))
	}
	return n
}

// RingBufferSize is the size in bytes of the loaded ring buffer.
func (t *Tracer) RingBufferSize() int { return t.ringSize }

// Warnings are what went wrong without stopping the tracer (a memlock
// rlimit that could not be raised).
func (t *Tracer) Warnings() []string { return append([]string(nil), t.warnings...) }

// Watch traces the tasks of the cgroup with this id (see CgroupID).
func (t *Tracer) Watch(cgroupID uint64) error {
	if err := t.objs.Watched.Put(cgroupID, uint8(1)); err != nil {
		return fmt.Errorf("trace: watch cgroup %d: %w", cgroupID, err)
	}
	return nil
}

// MaxTreeLevel bounds the level of a tree WatchTree accepts.
const MaxTreeLevel = 15

// WatchTree traces the tasks of every cgroup below (and in) the cgroup
// with this id, which sits at this level of the hierarchy (the root is
// level 0, /kubepods.slice level 1; see CgroupLevel). The check runs in
// the kernel on each event, so a container started later is traced from
// its first exec, and the node's other processes cost no event.
func (t *Tracer) WatchTree(cgroupID uint64, level int) error {
	if level < 0 || level > MaxTreeLevel {
		return fmt.Errorf("trace: watch cgroup tree %d: level %d not in 0..%d", cgroupID, level, MaxTreeLevel)
	}
	if err := t.objs.Trees.Put(cgroupID, uint8(1)); err != nil {
		return fmt.Errorf("trace: watch cgroup tree %d: %w", cgroupID, err)
	}
	t.cfgMu.Lock()
	defer t.cfgMu.Unlock()
	levels := t.treeLevels | 1<<level
	if err := t.objs.TreeLevels.Put(uint32(0), levels); err != nil {
		return fmt.Errorf("trace: watch cgroup tree %d: %w", cgroupID, err)
	}
	t.treeLevels = levels
	return nil
}

// Unwatch stops tracing the cgroup (unless WatchAll is on). Its drop
// count stays.
func (t *Tracer) Unwatch(cgroupID uint64) error {
	if err := t.objs.Watched.Delete(cgroupID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("trace: unwatch cgroup %d: %w", cgroupID, err)
	}
	return nil
}

// WatchAll traces every cgroup, watched or not.
func (t *Tracer) WatchAll() error { return t.setConfig(configWatchAll, configWatchAll) }

// WatchListed goes back to tracing only the watched cgroups.
func (t *Tracer) WatchListed() error { return t.setConfig(configWatchAll, 0) }

// setConfig sets the config bits of mask to those of v.
func (t *Tracer) setConfig(mask, v uint32) error {
	t.cfgMu.Lock()
	defer t.cfgMu.Unlock()
	cfg := t.cfg&^mask | v&mask
	if err := t.objs.Config.Put(uint32(0), cfg); err != nil {
		return fmt.Errorf("trace: set config: %w", err)
	}
	t.cfg = cfg
	return nil
}

// Drops returns, per cgroup id, how many events were lost because the
// ring buffer was full. The counts only grow while the tracer is open.
func (t *Tracer) Drops() (map[uint64]uint64, error) {
	out := map[uint64]uint64{}
	var k, v uint64
	it := t.objs.Drops.Iterate()
	for it.Next(&k, &v) {
		out[k] = v
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("trace: read drop counts: %w", err)
	}
	return out, nil
}

// DropsTotal returns how many events were lost in all, whatever their
// cgroup: it is counted even when the per-cgroup map is full (16,384
// cgroups not forgotten), so it is at least the sum of Drops.
func (t *Tracer) DropsTotal() (uint64, error) {
	var n uint64
	if err := t.objs.DropsTotal.Lookup(uint32(0), &n); err != nil {
		return 0, fmt.Errorf("trace: read total drops: %w", err)
	}
	return n, nil
}

// Missed returns how many times the kernel skipped one of the programs
// because another BPF program was running on the same CPU (recursion
// misses, Linux 5.12+): events lost before any cgroup could be charged,
// which Drops and DropsTotal cannot count. Any growth makes every window
// partial.
func (t *Tracer) Missed() (uint64, error) {
	var n uint64
	for _, p := range []*ebpf.Program{t.objs.TraceExec, t.objs.TraceOpenat, t.objs.TraceOpenat2,
		t.objs.TraceOpenLegacy, t.objs.TraceOpenExit} {
		st, err := p.Stats()
		if err != nil {
			return 0, fmt.Errorf("trace: read program stats: %w", err)
		}
		n += st.RecursionMisses
	}
	return n, nil
}

// Forget stops tracing the cgroup and removes its drop count, returning
// the count's last value; call it once a container is gone and its
// evidence is written, so that the per-cgroup map does not fill up.
func (t *Tracer) Forget(cgroupID uint64) (uint64, error) {
	if err := t.Unwatch(cgroupID); err != nil {
		return 0, err
	}
	var n uint64
	err := t.objs.Drops.LookupAndDelete(cgroupID, &n)
	if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		// Hash maps without LookupAndDelete (kernels before 5.14).
		if err = t.objs.Drops.Lookup(cgroupID, &n); err == nil {
			err = t.objs.Drops.Delete(cgroupID)
		}
	}
	if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return 0, fmt.Errorf("trace: forget cgroup %d: %w", cgroupID, err)
	}
	return n, nil
}

// Close detaches the programs and frees the maps; it may be called more
// than once, and ends any Run or Events reader.
func (t *Tracer) Close() error {
	t.closeOnce.Do(func() {
		var errs []error
		if t.reader != nil {
			errs = append(errs, t.reader.Close())
		}
		for _, l := range t.links {
			errs = append(errs, l.Close())
		}
		errs = append(errs, t.objs.Close())
		if err := errors.Join(errs...); err != nil {
			t.closeErr = fmt.Errorf("trace: close: %w", err)
		}
	})
	return t.closeErr
}
