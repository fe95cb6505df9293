package extract

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/osv-scalibr/extractor/filesystem"
	scalibrinv "github.com/google/osv-scalibr/inventory"
	scalibrlog "github.com/google/osv-scalibr/log"

	"github.com/runlens/runlens/internal/inventory"
)

// scalibr's process-wide log lines reach the logger runlens gives it, at
// warn for errors and warnings and debug for the rest; nil discards them.
func TestScalibrLoggerRoutesToSlog(t *testing.T) {
	var buf bytes.Buffer
	SetScalibrLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { SetScalibrLogger(nil) })
	scalibrlog.Errorf("e %d", 1)
	scalibrlog.Error("e2")
	scalibrlog.Warnf("w %d", 1)
	scalibrlog.Warn("w2")
	scalibrlog.Infof("i %d", 1)
	scalibrlog.Info("i2")
	scalibrlog.Debugf("d %d", 1)
	scalibrlog.Debug("d2")
	out := buf.String()
	for _, want := range []string{"level=WARN msg=\"e 1\"", "level=WARN msg=e2", "level=WARN msg=\"w 1\"", "level=WARN msg=w2",
		"level=DEBUG msg=\"i 1\"", "level=DEBUG msg=i2", "level=DEBUG msg=\"d 1\"", "level=DEBUG msg=d2", "component=osv-scalibr"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	SetScalibrLogger(nil)
	scalibrlog.Warn("gone")
	if buf.Len() != 0 {
		t.Errorf("a nil logger still wrote: %s", buf.String())
	}
}

// A package database reached through a symlink whose target is a FIFO is
// refused without opening it, and the scan is told it was skipped.
func TestPackageDatabaseLinkedToAFIFO(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "etc/os-release", []byte("ID=debian\nVERSION_ID=12\n"), 0o644)
	if err := os.MkdirAll(filepath.Join(dir, "opt", "dpkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "opt", "dpkg", "status"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "var", "lib"), 0o755)
	if err := os.Symlink("../../opt/dpkg", filepath.Join(dir, "var", "lib", "dpkg")); err != nil {
		t.Fatal(err)
	}
	inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found *inventory.FileError
	for i, e := range inv.Errors {
		if strings.HasSuffix(e.Path, "dpkg/status") {
			found = &inv.Errors[i]
		}
	}
	if found == nil || !found.Skipped || !strings.Contains(found.Reason, "named pipe") {
		t.Fatalf("FIFO behind a symlink: error %+v in %+v; want a skipped named-pipe error", found, inv.Errors)
	}
	if why := Incomplete(inv); !strings.Contains(why, "dpkg/status") {
		t.Errorf("Incomplete = %q; want it to name the status file", why)
	}
}

// A panicking extractor becomes that file's error with a short stack; the
// scan goes on.
func TestGuardTurnsAPanicIntoAnError(t *testing.T) {
	g := &guard{Extractor: panicky{}, kind: kindText, opts: Options{}.withDefaults()}
	_, err := g.Extract(context.Background(), &filesystem.ScanInput{Path: "x", Reader: strings.NewReader("")})
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("err = %v; want the panic as an error", err)
	}
	if lines := strings.Count(err.Error(), "\n"); lines > 12 {
		t.Errorf("stack not cut short: %d lines", lines)
	}
}

type panicky struct{ filesystem.Extractor }

func (panicky) Name() string { return "test/panicky" }
func (panicky) Extract(context.Context, *filesystem.ScanInput) (scalibrinv.Inventory, error) {
	panic("boom")
}

// readerAt keeps random-access readers as they are and buffers others up
// to the cap, refusing more.
func TestReaderAt(t *testing.T) {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if ra, err := readerAt(f, 10); err != nil || ra != io.ReaderAt(f) {
		t.Errorf("a file was not used as it is: %v", err)
	}
	ra, err := readerAt(io.MultiReader(strings.NewReader("abc")), 10)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 3)
	if n, _ := ra.ReadAt(b, 0); n != 3 || string(b) != "abc" {
		t.Errorf("buffered reader reads %q", b[:n])
	}
	if _, err := readerAt(io.MultiReader(strings.NewReader(strings.Repeat("x", 11))), 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the cap: err = %v, want ErrTooLarge", err)
	}
}
