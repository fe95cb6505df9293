package procscan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// unprivEnv makes the test binary scan /proc and print the snapshot as
// JSON, for TestScanUnprivileged to run it as nobody.
const unprivEnv = "RUNLENS_PROCSCAN_UNPRIV"

// runUnprivileged is the unprivileged child's body.
func runUnprivileged() int {
	snap, err := Scan(context.Background(), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(snap); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestScanUnprivileged runs a scan as nobody: root's processes cannot be
// read beyond stat and cgroup, which is recorded per field as a problem,
// and the scan still succeeds (the snapshot also survives JSON).
func TestScanUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as nobody")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The go test binary's directory is private: copy it where nobody
	// can run it.
	dir, err := os.MkdirTemp("", "procscan-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "procscan.test")
	copyFile(t, self, bin)
	must(t, os.Chmod(dir, 0o755))
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), unprivEnv+"=1")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scan as nobody: %v", err)
	}
	var snap Snapshot
	if err := json.Unmarshal(out, &snap); err != nil {
		t.Fatalf("snapshot JSON: %v", err)
	}
	me := findProc(t, &snap, os.Getpid())
	if me.Exe.Path != "" || len(me.Maps) != 0 || me.Comm == "" {
		t.Errorf("nobody read root's test process: comm %q exe %q maps %d", me.Comm, me.Exe.Path, len(me.Maps))
	}
	prefix := fmt.Sprintf("pid %d (%s): ", os.Getpid(), me.Comm)
	for _, field := range []string{"exe", "maps"} {
		want := prefix + field + ": permission denied"
		found := false
		for _, p := range snap.Problems {
			found = found || p == want
		}
		if !found {
			t.Errorf("no problem %q among %d", want, len(snap.Problems))
		}
	}
	// The child itself runs as nobody and reads itself whole.
	for _, p := range snap.Processes {
		if strings.HasSuffix(p.Exe.Path, "/procscan.test") && p.Exe.Path == bin {
			if len(p.Maps) == 0 {
				t.Errorf("the unprivileged scanner has no maps of itself")
			}
			return
		}
	}
	t.Errorf("the unprivileged scanner (%s) is not in its own snapshot", bin)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	must(t, out.Close())
}
