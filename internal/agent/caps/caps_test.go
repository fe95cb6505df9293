package caps

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestCheckNamesWhatIsMissing(t *testing.T) {
	have := State{Effective: Of(CapDacReadSearch, CapBPF)}
	err := Check(have)
	var m *MissingError
	if !errors.As(err, &m) || len(m.Missing) != 1 || m.Missing[0].Cap != CapSysPtrace {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(err.Error(), "missing capability CAP_SYS_PTRACE: needed to follow other processes' /proc/<pid>/{exe,") {
		t.Errorf("%q", err)
	}
	if err := Check(State{Effective: Of(CapDacReadSearch, CapSysPtrace)}); err != nil {
		t.Errorf("the required ones, without the tracer's: %v", err)
	}
	if got := Keep().String(); got != "cap_bpf,cap_dac_read_search,cap_perfmon,cap_sys_ptrace" {
		t.Errorf("keep %s", got)
	}
	if Keep().Has(CapSysResource) {
		t.Error("CAP_SYS_RESOURCE kept")
	}
}

const envDrop = "RUNLENS_CAPS_TEST_DROP"

// TestDropLeavesEveryThreadWithTheKeptSet runs Drop in a child process
// with threads of its own (capabilities are per thread) and reads every
// thread's status: effective, permitted and bounding sets are the kept
// ones, inheritable and ambient are empty, no_new_privs is set.
func TestDropLeavesEveryThreadWithTheKeptSet(t *testing.T) {
	if os.Getenv(envDrop) == "1" {
		dropChild()
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("Linux capabilities")
	}
	cur, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	keep := Of(CapSysPtrace, CapDacReadSearch)
	if cur.Effective&keep != keep || !cur.Effective.Has(CapSetPCap) {
		t.Skipf("needs %s and cap_setpcap to drop to them; have %s", keep, cur.Effective)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDropLeavesEveryThreadWithTheKeptSet$")
	cmd.Env = append(os.Environ(), envDrop+"=1")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "SKIP cgo") {
		t.Skipf("%s", out)
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	threads := 0
	want := fmt.Sprintf("%016x", uint64(keep))
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "CapEff:", "CapPrm:", "CapBnd:":
			if f[1] != want {
				t.Errorf("%s %s, want %s", f[0], f[1], want)
			}
			if f[0] == "CapEff:" {
				threads++
			}
		case "CapInh:", "CapAmb:":
			if f[1] != "0000000000000000" {
				t.Errorf("%s %s", f[0], f[1])
			}
		case "NoNewPrivs:":
			if f[1] != "1" {
				t.Errorf("no_new_privs %s", f[1])
			}
		}
	}
	if threads < 3 {
		t.Fatalf("%d threads read, want several:\n%s", threads, out)
	}
}

// dropChild starts threads, drops, and prints every thread's status.
func dropChild() {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			runtime.LockOSThread() // keep a thread of its own alive
			wg.Done()
			<-stop
		}()
	}
	wg.Wait()
	if _, err := Drop(Of(CapSysPtrace, CapDacReadSearch)); err != nil {
		if errors.Is(err, ErrThreads) {
			fmt.Println("SKIP cgo:", err)
			os.Exit(0)
		}
		fmt.Println("drop:", err)
		os.Exit(1)
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, p := range tasks {
		b, _ := os.ReadFile(p)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Cap") || strings.HasPrefix(l, "NoNewPrivs") {
				fmt.Println(l)
			}
		}
	}
	close(stop)
	fmt.Println("threads", strconv.Itoa(len(tasks)))
	os.Exit(0)
}
