package agentbench

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// runLoad is the load child: `RATE MS FILE` opens and closes FILE RATE
// times a second for MS milliseconds, paced every 10 ms's worth of opens
// (a sleep per open would cost the load more than the opens), and prints
// how many it made, in how many nanoseconds, the CPU nanoseconds the
// loop took (its start-up left out: a Go binary's exec and init would
// weigh more than the opens in a short window) and the thread CPU time
// spent inside the open and close calls alone, where the tracer's BPF
// programs run: the pacing's sleeps cost the load far more than its
// opens, and their noise would hide the programs' cost.
func runLoad(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("want RATE MS FILE, got %q", args)
	}
	rate, err1 := strconv.Atoi(args[0])
	ms, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || rate <= 0 {
		return fmt.Errorf("bad RATE or MS in %q", args)
	}
	total := rate * ms / 1000
	step := max(rate/100, 1)
	runtime.GOMAXPROCS(1)
	runtime.LockOSThread()
	var inCalls int64
	cpu0 := selfCPU()
	start := time.Now()
	for i := range total {
		c0 := threadCPU()
		fd, err := unix.Open(args[2], unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		unix.Close(fd)
		inCalls += threadCPU() - c0
		if i%step == step-1 {
			due := start.Add(time.Duration(i+1) * time.Second / time.Duration(rate))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
	}
	fmt.Printf("%d %d %d %d\n", total, time.Since(start).Nanoseconds(), selfCPU()-cpu0, inCalls)
	return nil
}

// threadCPU is the calling thread's CPU time, in nanoseconds.
func threadCPU() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}

// selfCPU is this process's user and system time, in nanoseconds.
func selfCPU() int64 {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// loadResult is one run of the load across containers.
type loadResult struct {
	rate  int // asked, in all
	opens int64
	wall  time.Duration // the slowest child's
	cpu   time.Duration // the children's CPU in their loops, summed
	calls time.Duration // of which in the open and close calls
}

// achieved is the open rate the children reached together.
func (r loadResult) achieved() float64 { return float64(r.opens) / r.wall.Seconds() }

// percent is cpu as a percentage of one core over d.
func percent(cpu, d time.Duration) float64 { return 100 * cpu.Seconds() / d.Seconds() }

// load runs total opens/s for d, shared evenly by the containers: one
// child per container, born in its cgroup.
func load(t testing.TB, ctrs []*container, total int, d time.Duration) loadResult {
	t.Helper()
	per := total / len(ctrs)
	res := loadResult{rate: per * len(ctrs)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var cmds []*exec.Cmd
	for _, c := range ctrs {
		cmd := exec.Command(os.Args[0], strconv.Itoa(per), strconv.Itoa(int(d.Milliseconds())), c.file)
		cmd.Env = append(os.Environ(), roleEnv+"=load")
		cmd.Stderr = os.Stderr
		fd, err := syscall.Open(c.dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		cmds = append(cmds, cmd)
		defer syscall.Close(fd)
	}
	errs := make(chan error, len(cmds))
	for _, cmd := range cmds {
		wg.Go(func() {
			out, err := cmd.Output()
			if err != nil {
				errs <- fmt.Errorf("load child: %w", err)
				return
			}
			var n, ns, cpu, calls int64
			if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &n, &ns, &cpu, &calls); err != nil {
				errs <- fmt.Errorf("load output %q: %w", out, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			res.opens += n
			res.wall = max(res.wall, time.Duration(ns))
			res.cpu += time.Duration(cpu)
			res.calls += time.Duration(calls)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return res
}
