package agentbench

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pool is a cgroup v2 tree imitating kubelet's cgroupfs layout below a
// directory of its own, <mount>/<name>/kubepods/besteffort/pod<uid>/<id>,
// one pod per container, so procscan attributes every process started
// in it. Everything is removed when the test ends.
type pool struct {
	name  string // runlens-agent-bench-<hex>: the agent keeps only these
	top   string
	files string // where the containers' load files are
	ctrs  []*container
}

// container is one imitated container.
type container struct {
	id, podUID, dir string
	// file is what its load opens.
	file string
}

// newPool makes the tree's top directory and a directory for the load
// files.
func newPool(t testing.TB, mount string) *pool {
	t.Helper()
	p := &pool{name: "runlens-agent-bench-" + randHex(t, 4), files: t.TempDir()}
	p.top = filepath.Join(mount, p.name)
	if err := os.MkdirAll(filepath.Join(p.top, "kubepods", "besteffort"), 0o755); err != nil {
		t.Skipf("skipping: cannot make a cgroup under %s: %v", mount, err)
	}
	t.Cleanup(func() {
		// Registered first, so it runs after every child is gone.
		for i := len(p.ctrs) - 1; i >= 0; i-- {
			c := p.ctrs[i]
			rmdir(t, c.dir)
			rmdir(t, filepath.Dir(c.dir))
		}
		rmdir(t, filepath.Join(p.top, "kubepods", "besteffort"))
		rmdir(t, filepath.Join(p.top, "kubepods"))
		rmdir(t, p.top)
	})
	return p
}

// add makes n more containers.
func (p *pool) add(t testing.TB, n int) []*container {
	t.Helper()
	var out []*container
	for range n {
		b := randHex(t, 16)
		c := &container{id: randHex(t, 32), podUID: b[0:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:32]}
		c.dir = filepath.Join(p.top, "kubepods", "besteffort", "pod"+c.podUID, c.id)
		if err := os.MkdirAll(c.dir, 0o755); err != nil {
			t.Fatalf("make container cgroup: %v", err)
		}
		c.file = filepath.Join(p.files, c.id[:12])
		if err := os.WriteFile(c.file, []byte("load\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p.ctrs = append(p.ctrs, c)
		out = append(out, c)
	}
	return out
}

// rmdir removes a cgroup, waiting for exited tasks to leave it.
func rmdir(t testing.TB, dir string) {
	for range 100 {
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("cgroup %s not removed", dir)
}

// child is a long-running process started in a container.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startIn starts cmd born in dir's cgroup (clone3 CLONE_INTO_CGROUP; in
// this process's own with dir "") and stops it when the test ends (stdin
// closed, SIGTERM, SIGKILL after 5 s).
func startIn(t testing.TB, cmd *exec.Cmd, dir string) *child {
	t.Helper()
	c := &child{cmd: cmd}
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.out = bufio.NewReader(out)
	cmd.Stderr = os.Stderr
	if dir != "" {
		fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s in %s: %v", cmd.Path, dir, err)
	}
	t.Cleanup(func() { c.stop() })
	return c
}

// stop ends the child and waits for it.
func (c *child) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.stdin.Close()
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// line reads the child's next line of output, failing after a minute.
func (c *child) line(t testing.TB) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		s, _ := c.out.ReadString('\n')
		got <- s
	}()
	select {
	case s := <-got:
		return strings.TrimSpace(s)
	case <-time.After(time.Minute):
		t.Fatalf("%s: no output in a minute", c.cmd.Path)
		return ""
	}
}

// python is the interpreter the containers run (its real file, not a
// shim, so that what it maps is what a container's python maps).
func python() string {
	for _, p := range []string{"/usr/bin/python3", "/usr/local/bin/python3"} {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
	}
	return ""
}

// startServers starts python3 -m http.server in each container, in a
// network namespace of its own as a pod has, and waits until each
// listens.
func startServers(t testing.TB, ctrs []*container) {
	t.Helper()
	py := python()
	if py == "" {
		t.Skip("skipping: python3 not installed")
	}
	var kids []*child
	for _, c := range ctrs {
		cmd := exec.Command(py, "-u", "-m", "http.server", "0", "--bind", "0.0.0.0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
		cmd.Dir = os.TempDir()
		kids = append(kids, startIn(t, cmd, c.dir))
	}
	for _, k := range kids {
		if l := k.line(t); !strings.Contains(l, "port") {
			t.Fatalf("http.server: %q", l)
		}
	}
}

func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// mb formats kilobytes as megabytes.
func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
