//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/testing/testimage"
)

// fifoBound is how long a scan of an input holding a fifo may take: it
// must be refused at once, not block in open.
const fifoBound = 2 * time.Second

// mkfifo replaces path with a named pipe. If a reader does block on it
// (the bug under test), cleanup opens and closes the write end so the
// reader sees EOF and the test binary can finish.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unblockFIFO(path) })
}

func unblockFIFO(path string) {
	if fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		syscall.Close(fd)
	}
}

// runBounded runs the CLI and fails the test if it has not returned
// within fifoBound; it returns the exit code, stdout and the time taken.
func runBounded(t *testing.T, c *cli, fifos []string, args ...string) (int, string, time.Duration) {
	t.Helper()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		code, out, stderr := c.run("", args...)
		done <- result{code, out, stderr}
	}()
	select {
	case r := <-done:
		took := time.Since(start)
		t.Logf("runlens %s: exit %d after %v", strings.Join(args, " "), r.code, took.Round(time.Millisecond))
		return r.code, r.out, took
	case <-time.After(fifoBound):
		// Let the blocked open finish so the goroutine ends with the test.
		for _, f := range fifos {
			unblockFIFO(f)
		}
		<-done
		t.Fatalf("runlens %s still running after %v: blocked on a fifo", strings.Join(args, " "), fifoBound)
	}
	return 0, "", 0
}

// fifoLayout writes an OCI layout of a small Debian image and returns its
// directory, manifest digest and layer digest.
func fifoLayout(t *testing.T) (dir string, manifest, layer v1.Hash) {
	t.Helper()
	img := testimage.Image(t, "linux/amd64", map[string]string{
		"etc/os-release":      stretch.body,
		"var/lib/dpkg/status": opensslStatus,
	})
	dir = filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	manifest, _ = img.Digest()
	ls, _ := img.Layers()
	layer, _ = ls[0].Digest()
	return dir, manifest, layer
}

func blobFile(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

// TestFIFOInputsAreRefusedAtOnce: a named pipe wherever the scanner opens
// a path from its input (the archive itself, an OCI layout's directory,
// index.json, manifest or layer blob, a package database in a root
// filesystem) is
// refused with a failed or partial result naming it, within fifoBound,
// instead of blocking in open beyond --timeout and signals.
func TestFIFOInputsAreRefusedAtOnce(t *testing.T) {
	c := newCLI(t)
	tests := []struct {
		name  string
		setup func(t *testing.T) (args []string, fifo string)
		// status is the result's; "" means no report (an error exit).
		status string
		reason string
	}{
		{
			name: "--archive names a fifo",
			setup: func(t *testing.T) ([]string, string) {
				p := filepath.Join(t.TempDir(), "image.tar")
				mkfifo(t, p)
				return []string{"--archive", p}, p
			},
			status: result.StatusFailed, reason: "named pipe",
		},
		{
			name: "--oci-layout names a fifo",
			setup: func(t *testing.T) ([]string, string) {
				p := filepath.Join(t.TempDir(), "layout")
				mkfifo(t, p)
				return []string{"--oci-layout", p}, p
			},
			status: result.StatusFailed, reason: "not a directory",
		},
		{
			name: "index.json is a fifo",
			setup: func(t *testing.T) ([]string, string) {
				dir, _, _ := fifoLayout(t)
				p := filepath.Join(dir, "index.json")
				mkfifo(t, p)
				return []string{"--oci-layout", dir}, p
			},
			status: result.StatusFailed, reason: "index.json",
		},
		{
			name: "the manifest blob is a fifo",
			setup: func(t *testing.T) ([]string, string) {
				dir, m, _ := fifoLayout(t)
				p := blobFile(dir, m)
				mkfifo(t, p)
				return []string{"--oci-layout", dir}, p
			},
			status: result.StatusFailed, reason: "named pipe",
		},
		{
			name: "a layer blob is a fifo",
			setup: func(t *testing.T) ([]string, string) {
				dir, _, l := fifoLayout(t)
				p := blobFile(dir, l)
				mkfifo(t, p)
				return []string{"--oci-layout", dir}, p
			},
			status: result.StatusPartial, reason: "named pipe",
		},
		{
			name: "--rootfs with a fifo as its dpkg status",
			setup: func(t *testing.T) ([]string, string) {
				dir := t.TempDir()
				os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
				os.WriteFile(filepath.Join(dir, "etc/os-release"), []byte(stretch.body), 0o644)
				os.MkdirAll(filepath.Join(dir, "var/lib/dpkg"), 0o755)
				p := filepath.Join(dir, "var/lib/dpkg/status")
				mkfifo(t, p)
				return []string{"--rootfs", dir}, p
			},
			status: result.StatusPartial, reason: "var/lib/dpkg/status",
		},
		{
			name: "an image layer whose dpkg status is a fifo entry",
			setup: func(t *testing.T) ([]string, string) {
				return []string{"--archive", archiveOf(t, gzTar(t, files(stretch, fifoEntry("var/lib/dpkg/status"))))}, ""
			},
			status: result.StatusPartial, reason: "var/lib/dpkg/status",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args, fifo := tc.setup(t)
			args = append([]string{"scan", "image", "--no-cache", "--format", "json"}, args...)
			code, out, _ := runBounded(t, c, []string{fifo}, args...)
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			r := jsonResult(t, out)
			if r.Status != tc.status || !strings.Contains(r.Error, tc.reason) {
				t.Errorf("status %q error %q; want %q naming %q", r.Status, r.Error, tc.status, tc.reason)
			}
		})
	}
}
