//go:build unix

package layerfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runlens/runlens/internal/layerfs"
)

// TestOpenRefusesWhatIsNotARegularFile: fifos, devices and directories are
// refused at once (a fifo would block in open), symlinks to regular files
// are followed, and what is returned is in blocking mode.
func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "reg")
	os.WriteFile(reg, []byte("data"), 0o644)
	os.Symlink("reg", filepath.Join(dir, "link"))
	os.Symlink("fifo", filepath.Join(dir, "link-fifo"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()

	start := time.Now()
	for _, name := range []string{"fifo", "link-fifo", "."} {
		if f, err := layerfs.OpenFile(filepath.Join(dir, name)); !errors.Is(err, layerfs.ErrNotRegular) {
			t.Errorf("OpenFile(%s) = %v, %v; want ErrNotRegular", name, f, err)
		}
		if f, err := layerfs.OpenFileIn(root, name); !errors.Is(err, layerfs.ErrNotRegular) {
			t.Errorf("OpenFileIn(%s) = %v, %v; want ErrNotRegular", name, f, err)
		}
	}
	if f, err := layerfs.OpenFile("/dev/null"); !errors.Is(err, layerfs.ErrNotRegular) {
		t.Errorf("OpenFile(/dev/null) = %v, %v; want ErrNotRegular", f, err)
	}
	if r, err := layerfs.OpenRoot(fifo); !errors.Is(err, layerfs.ErrNotDir) {
		t.Errorf("OpenRoot(fifo) = %v, %v; want ErrNotDir", r, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("refusing took %v", took)
	}

	for _, open := range []func() (*os.File, error){
		func() (*os.File, error) { return layerfs.OpenFile(filepath.Join(dir, "link")) },
		func() (*os.File, error) { return layerfs.OpenFileIn(root, "link") },
	} {
		f, err := open()
		if err != nil {
			t.Fatal(err)
		}
		// Not f.Fd(): it would clear O_NONBLOCK itself.
		var fl int
		rc, _ := f.SyscallConn()
		rc.Control(func(fd uintptr) { fl, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		if err != nil || fl&unix.O_NONBLOCK != 0 {
			t.Errorf("flags %#x, %v: O_NONBLOCK still set", fl, err)
		}
		b := make([]byte, 8)
		if n, _ := f.Read(b); string(b[:n]) != "data" {
			t.Errorf("read %q", b[:n])
		}
		f.Close()
	}
	if r, err := layerfs.OpenRoot(dir); err != nil {
		t.Errorf("OpenRoot(dir): %v", err)
	} else {
		r.Close()
	}
}
