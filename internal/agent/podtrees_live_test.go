package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runlens/runlens/internal/agent/trace"
)

// PodFilter on the real cgroup mount: a pod tree made for the test is
// watched once a look shows the containers inside it, a container cgroup
// below it is traced, the rest of the node (this test process) is not;
// a container outside the trees widens the tracer again and is a gap.
func TestPodFilterTracesOnlyPods(t *testing.T) {
	if err := trace.Supported(); err != nil {
		if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
			t.Fatalf("CI as root, and the tracer cannot run: %v", err)
		}
		t.Skipf("skipping: the tracer cannot run here: %v", err)
	}
	root, err := trace.CgroupRoot()
	if err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(root, fmt.Sprintf("runlens-agent-test-%d-kubepods", os.Getpid()))
	ctr := filepath.Join(tree, "pod-0", "ctr-0")
	tr, err := trace.Open(trace.Options{WatchAll: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range []string{ctr, filepath.Dir(ctr), tree} {
			for i := 0; i < 50 && !errors.Is(os.Remove(d), os.ErrNotExist); i++ {
				time.Sleep(20 * time.Millisecond)
			}
		}
	})
	if err := os.MkdirAll(ctr, 0o755); err != nil {
		t.Fatal(err)
	}
	f := &PodFilter{Tracer: tr, Root: root}
	// Before any look, every process stays traced.
	if watched, err := f.Update(nil); err != nil || watched != nil {
		t.Fatalf("Update before a look = %q, %v; want every process traced", watched, err)
	}
	rel := strings.TrimPrefix(ctr, root)
	watched, err := f.Update([]string{rel})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(watched, tree) {
		t.Fatalf("Update = %q, want it to hold %s", watched, tree)
	}
	var inTree, self atomic.Int64
	marker := filepath.Join(t.TempDir(), "marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.Run(ctx, func(e *trace.Event) {
			if e.Path != marker {
				return
			}
			if int(e.PID) == os.Getpid() {
				self.Add(1)
			} else {
				inTree.Add(1)
			}
		})
	}()
	defer func() { cancel(); <-done }()

	fd, err := unix.Open(ctr, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cat := exec.Command("/bin/cat", marker)
	cat.SysProcAttr = &unix.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	if err := cat.Run(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); inTree.Load() == 0 && time.Now().Before(deadline); {
		if _, err := os.ReadFile(marker); err != nil { // this process: not a pod
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if inTree.Load() == 0 {
		t.Fatal("the container's open below the pod tree was not traced")
	}
	if n := self.Load(); n != 0 {
		t.Errorf("%d opens of this (non-pod) process traced: the tracer still watches everything", n)
	}
	if f.Gap() {
		t.Error("Gap before any container was outside the trees")
	}

	// A container whose cgroup lies outside the trees: every process is
	// traced again, and the hidden time is a gap.
	if watched, err := f.Update([]string{rel, "/system.slice/odd-runtime.scope"}); err != nil || watched != nil {
		t.Fatalf("Update with a container outside = %q, %v; want every process traced", watched, err)
	}
	if !f.Gap() {
		t.Error("no Gap after a container outside the narrowed trees")
	}
	for deadline := time.Now().Add(5 * time.Second); self.Load() == 0 && time.Now().Before(deadline); {
		if _, err := os.ReadFile(marker); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if self.Load() == 0 {
		t.Error("this process's opens are not traced after widening")
	}
}
