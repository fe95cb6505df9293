package layerfs_test

import (
	"archive/tar"
	"io"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runlens/runlens/internal/layerfs"
)

// TestSpecialFilesNeverOpened: a fifo or device in a rootfs must not be
// opened for reading (a fifo blocks, a device can have side effects); Open
// returns an empty file and Stat reports the real type.
func TestSpecialFilesNeverOpened(t *testing.T) {
	root := t.TempDir()
	if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	flat := mustFlatten(t, layerfs.Options{}, memLayer("L", rawTar(t,
		&tar.Header{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o644},
		&tar.Header{Name: "null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
	)))
	for _, portable := range []bool{false, true} {
		restore := layerfs.SetForceRootBackend(portable)
		dir, err := layerfs.Dir(root)
		restore()
		if err != nil {
			t.Fatal(err)
		}
		defer dir.Close()
		for _, fsys := range []layerfs.RootFS{dir, flat} {
			done := make(chan error, 1)
			go func() {
				f, err := fsys.Open("fifo")
				if err == nil {
					var b []byte
					b, err = io.ReadAll(f)
					if len(b) != 0 {
						t.Errorf("read %q from a fifo", b)
					}
					f.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Open(fifo): %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Open(fifo) blocked")
			}
			if fi, err := fsys.Stat("fifo"); err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
				t.Errorf("Stat(fifo) = %v, %v", fi, err)
			}
		}
	}
	if fi, err := flat.Stat("null"); err != nil || fi.Mode().Type() != fs.ModeDevice|fs.ModeCharDevice {
		t.Errorf("Stat(null) = %v, %v", fi, err)
	}
}
