package procscan

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The helper is this test binary started again with helperEnv set: it
// maps one file executable, keeps another open, listens on a loopback TCP
// port and a loopback IPv6 UDP port, says so on stdout, and exits when
// stdin closes.
const helperEnv = "RUNLENS_PROCSCAN_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(unprivEnv) == "1" {
		os.Exit(runUnprivileged())
	}
	if os.Getenv(helperEnv) == "1" {
		if err := runHelper(); err != nil {
			fmt.Fprintln(os.Stdout, "error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper is the helper's body.
func runHelper() error {
	mf, err := os.Open(os.Getenv("HELPER_MAP"))
	if err != nil {
		return err
	}
	mem, err := syscall.Mmap(int(mf.Fd()), 0, 4096, syscall.PROT_READ|syscall.PROT_EXEC, syscall.MAP_PRIVATE)
	if err != nil {
		return fmt.Errorf("mmap exec: %w", err)
	}
	mf.Close() // the mapping stays; only maps shows it now
	of, err := os.Open(os.Getenv("HELPER_OPEN"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	uc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		return err
	}
	fmt.Printf("ready tcp=%d udp=%d\n", ln.Addr().(*net.TCPAddr).Port, uc.LocalAddr().(*net.UDPAddr).Port)
	io.Copy(io.Discard, os.Stdin)
	_ = mem[0]
	ln.Close()
	uc.Close()
	of.Close()
	return nil
}

// fakePod is a cgroup v2 tree that imitates kubelet's cgroupfs layout,
// below a directory of its own.
type fakePod struct {
	top    string // <mount>/runlens-test-<rand>
	uid    string
	dirs   []string // container cgroups, to remove
	suffix string   // /runlens-test-<rand>/kubepods/besteffort/pod<uid>
}

// newFakePod creates the pod's cgroup, or skips the test where this host
// cannot (not root, no cgroup2 mount, not writable).
func newFakePod(t testing.TB) *fakePod {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	mnt := cgroup2Mount(t)
	if mnt == "" {
		t.Skip("no cgroup2 mount in /proc/self/mountinfo")
	}
	b := randHex(t, 16)
	uid := b[0:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:32]
	name := "runlens-test-" + randHex(t, 4)
	p := &fakePod{top: filepath.Join(mnt, name), uid: uid, suffix: "/" + name + "/kubepods/besteffort/pod" + uid}
	if err := os.MkdirAll(filepath.Join(p.top, "kubepods", "besteffort", "pod"+uid), 0o755); err != nil {
		t.Skipf("cannot create a cgroup under %s: %v", mnt, err)
	}
	t.Cleanup(p.remove)
	return p
}

// container creates a container cgroup in the pod and returns its id and
// directory.
func (p *fakePod) container(t testing.TB) (id, dir string) {
	id = randHex(t, 32)
	dir = filepath.Join(p.top, "kubepods", "besteffort", "pod"+p.uid, id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p.dirs = append(p.dirs, dir)
	return id, dir
}

// remove deletes the cgroups, leaves first (their processes are gone).
func (p *fakePod) remove() {
	for _, d := range p.dirs {
		rmdirRetry(d)
	}
	pod := filepath.Join(p.top, "kubepods", "besteffort", "pod"+p.uid)
	for _, d := range []string{pod, filepath.Dir(pod), filepath.Dir(filepath.Dir(pod)), p.top} {
		rmdirRetry(d)
	}
}

// rmdirRetry removes a cgroup, waiting briefly for exited processes to
// leave it.
func rmdirRetry(d string) {
	for range 50 {
		if err := syscall.Rmdir(d); err == nil || errors.Is(err, syscall.ENOENT) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cgroup2Mount finds where the cgroup v2 hierarchy is mounted (on hybrid
// hosts /sys/fs/cgroup/unified).
func cgroup2Mount(t testing.TB) string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("mountinfo: %v", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(g) >= 1 && g[0] == "cgroup2" && f[3] == "/" {
			return f[4]
		}
	}
	return ""
}

// randHex returns n random bytes in hex.
func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// child is a process started in a container cgroup.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startIn starts cmd born into the cgroup dir (clone3 CLONE_INTO_CGROUP),
// or moved there right after start where the kernel lacks that. Other
// attributes already set on cmd (a new network namespace) are kept.
func startIn(t testing.TB, cmd *exec.Cmd, dir string) *child {
	t.Helper()
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
	if err := cmd.Start(); err != nil {
		cmd.SysProcAttr.UseCgroupFD = false
		if err := cmd.Start(); err != nil {
			if cmd.SysProcAttr.Cloneflags != 0 {
				t.Skipf("cannot start %s in a namespace of its own: %v", cmd.Path, err)
			}
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(fmt.Sprint(cmd.Process.Pid)), 0); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("move into cgroup: %v", err)
		}
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
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
	})
	return c
}

// podNetwork starts cmd in a network namespace of its own, as a pod's
// sandbox has (only its loopback, down: bind to 0.0.0.0).
func podNetwork(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	return cmd
}

// line reads the child's next line of output, with a timeout.
func (c *child) line(t testing.TB) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		s, _ := c.out.ReadString('\n')
		got <- s
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(20 * time.Second):
		t.Fatal("child said nothing within 20s")
		return ""
	}
}
