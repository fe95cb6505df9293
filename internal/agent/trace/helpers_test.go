package trace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a load generator child (see
// runHelper) instead of running the tests.
const helperEnv = "RUNLENS_TRACE_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode, os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Geteuid() == 0 {
		if _, err := tracefsRoot(); err != nil {
			// Tracepoints need tracefs; as root the test mounts it.
			if err := unix.Mount("nodev", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
				fmt.Fprintln(os.Stderr, "mount tracefs:", err)
			}
		}
	}
	os.Exit(m.Run())
}

// runHelper is the child's side:
//
//	opens LONG OPENAT2   open LONG with openat, OPENAT2 with openat2
//	loop N FILE          open and close FILE N times
//	rate R MS FILE       open and close FILE R times a second for MS ms
func runHelper(mode string, args []string) error {
	openClose := func(p string) error {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	}
	switch mode {
	case "opens":
		if err := openClose(args[0]); err != nil {
			return err
		}
		how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS}
		fd, err := unix.Openat2(unix.AT_FDCWD, args[1], &how)
		if err != nil {
			return fmt.Errorf("openat2: %w", err)
		}
		return unix.Close(fd)
	case "loop":
		n, _ := strconv.Atoi(args[0])
		for range n {
			if err := openClose(args[1]); err != nil {
				return err
			}
		}
		return nil
	case "rate":
		rate, _ := strconv.Atoi(args[0])
		ms, _ := strconv.Atoi(args[1])
		total := rate * ms / 1000
		start := time.Now()
		for i := range total {
			if err := openClose(args[2]); err != nil {
				return err
			}
			// Pace in steps of a millisecond's worth of opens.
			if step := max(rate/1000, 1); i%step == step-1 {
				due := start.Add(time.Duration(i+1) * time.Second / time.Duration(rate))
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
			}
		}
		fmt.Printf("%d %d\n", total, time.Since(start).Nanoseconds())
		return nil
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// requireBPF skips the test when the kernel refuses BPF (saying why),
// except in CI as root, where that is a failure.
func requireBPF(t testing.TB) {
	t.Helper()
	err := Supported()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
		t.Fatalf("CI as root, and the tracer cannot run: %v", err)
	}
	if errors.Is(err, ErrBPFRefused) || errors.Is(err, ErrNoBTF) {
		t.Skipf("skipping: the kernel refuses the tracer's BPF programs here (uid %d): %v", os.Geteuid(), err)
	}
	t.Fatalf("tracer not supported: %v", err)
}

// openTracer opens a tracer closed at the end of the test.
func openTracer(t testing.TB, opts Options) *Tracer {
	t.Helper()
	requireBPF(t)
	tr, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, w := range tr.Warnings() {
		t.Logf("warning: %s", w)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// testCgroup is a cgroup v2 directory made for one test.
type testCgroup struct {
	path string
	id   uint64
}

var cgroupSeq struct {
	sync.Mutex
	n int
}

// newCgroup makes a cgroup under the cgroup2 mount, removed at the end.
func newCgroup(t testing.TB) testCgroup {
	t.Helper()
	root, err := CgroupRoot()
	if err != nil {
		t.Fatal(err)
	}
	cgroupSeq.Lock()
	cgroupSeq.n++
	dir := filepath.Join(root, fmt.Sprintf("runlens-trace-test-%d-%d", os.Getpid(), cgroupSeq.n))
	cgroupSeq.Unlock()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("make cgroup: %v", err)
	}
	t.Cleanup(func() { removeCgroup(t, dir) })
	id, err := CgroupID(dir)
	if err != nil {
		t.Fatal(err)
	}
	return testCgroup{path: dir, id: id}
}

// command returns cmd set to start inside the cgroup (clone3 with
// CLONE_INTO_CGROUP), so that even its exec is the cgroup's.
func (cg testCgroup) command(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	fd, err := unix.Open(cg.path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &unix.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	cmd.Stderr = os.Stderr
	return cmd
}

// helper returns the test binary as a helper child in the cgroup.
func (cg testCgroup) helper(t testing.TB, mode string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := cg.command(t, os.Args[0], args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	return cmd
}

// removeCgroup removes a test's cgroup directory once its processes
// have gone (the kernel may take a moment to let go of them).
func removeCgroup(t testing.TB, dir string) {
	for i := 0; i < 50; i++ {
		if err := os.Remove(dir); err == nil || os.IsNotExist(err) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("cgroup %s not removed", dir)
}
