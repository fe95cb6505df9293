package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childArgsEnv carries the command line of runlens run as a child process.
const childArgsEnv = "RUNLENS_TEST_CHILD_ARGS"

// TestRunlensChildProcess is runlens itself when this test binary is
// started by startChild; otherwise it does nothing.
func TestRunlensChildProcess(t *testing.T) {
	raw := os.Getenv(childArgsEnv)
	if raw == "" {
		t.Skip("runs only as a child process of the hostile-registry tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(99)
	}
	os.Exit(runProcess(args, os.Stdin, os.Stdout, os.Stderr))
}

// childProc is runlens running in a child process.
type childProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string // stderr, line by line
	stdout *strings.Builder
	done   chan struct{}
	peak   int64 // highest VmRSS seen while polling, in KiB
}

// startChild starts runlens with c's database and cache and args.
func startChild(t *testing.T, c *cli, args ...string) *childProc {
	t.Helper()
	full, _ := json.Marshal(append([]string{"--db-dir", c.dbDir, "--cache-dir", c.cacheDir}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunlensChildProcess$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(full), "DOCKER_CONFIG="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &childProc{t: t, cmd: cmd, lines: make(chan string, 1024), stdout: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stdout = p.stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody listening: drop
			}
		}
		io.Copy(io.Discard, stderr)
		close(p.lines)
	}()
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitFor reads stderr until n lines containing s have gone by.
func (p *childProc) waitFor(s string, n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for n > 0 {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return false
			}
			if strings.Contains(l, s) {
				n--
			}
		case <-deadline:
			return false
		}
	}
	return true
}

// wait waits for the child to exit, killing it after timeout or as soon as
// its resident memory goes over maxRSS KiB (0: no bound), and returns its
// exit code and peak resident memory (KiB, from the kernel's rusage).
func (p *childProc) wait(timeout time.Duration, maxRSS int64) (code int, peakKiB int64) {
	p.t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
loop:
	for {
		select {
		case <-p.done:
			break loop
		case <-deadline:
			p.t.Errorf("child still running after %v; killed", timeout)
			_ = p.cmd.Process.Kill()
		case <-tick.C:
			if rss := vmRSS(p.cmd.Process.Pid); rss > p.peak {
				p.peak = rss
				if maxRSS > 0 && rss > maxRSS {
					p.t.Errorf("child's resident memory reached %d MiB, over the %d MiB bound; killed", rss>>10, maxRSS>>10)
					_ = p.cmd.Process.Kill()
				}
			}
		}
	}
	<-p.done
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peakKiB = ru.Maxrss // KiB on Linux
	}
	return p.cmd.ProcessState.ExitCode(), max(peakKiB, p.peak)
}

// vmRSS reads a process's current resident memory in KiB (0 if unknown).
func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
