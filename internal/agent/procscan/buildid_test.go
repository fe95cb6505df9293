//go:build linux

package procscan

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/runlens/runlens/internal/agent/elfnote"
)

// A running program's executable mappings carry the build IDs of the
// files they map (read through its root), each file read once.
func TestScanReadsBuildIDsOfMappedFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read other processes' maps")
	}
	cmd := exec.Command("/bin/sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	cache := &BuildIDCache{}
	var p Process
	for i := 0; i < 50 && len(p.Maps) < 2; i++ { // until the loader has mapped libc
		snap, err := Scan(context.Background(), Options{BuildIDs: cache})
		if err != nil {
			t.Fatal(err)
		}
		p = *findProc(t, snap, cmd.Process.Pid)
	}
	checked := 0
	for _, m := range p.Maps {
		if !m.Exec {
			continue
		}
		f, err := os.Open(m.Path)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := elfnote.BuildID(f)
		f.Close()
		if werr != nil {
			want = ""
		}
		if m.BuildID != want {
			t.Errorf("%s: build ID %q, want %q", m.Path, m.BuildID, want)
		}
		if want != "" {
			checked++
		}
	}
	if checked < 2 {
		t.Errorf("%d mapped files with a build ID in %+v, want at least sleep and libc", checked, p.Maps)
	}
	if n := len(cache.ids); n < checked {
		t.Errorf("cache holds %d files, want at least %d", n, checked)
	}
}
