//go:build linux

package procscan

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestScanCaps: a process with more maps lines and descriptors than the
// caps is read up to them and says so; problems past their cap are
// counted.
func TestScanCaps(t *testing.T) {
	root := t.TempDir()
	proc := filepath.Join(root, "proc")
	lib := realFile(t, root, "files/lib.so")
	var maps strings.Builder
	for i := range 200_000 {
		maps.WriteString("7f0000000000-7f0000001000 r-xp 00000000 fd:01 ")
		maps.WriteString(itoa(i + 1))
		maps.WriteString(" /usr/lib/jvm/lib")
		maps.WriteString(itoa(i))
		maps.WriteString(".so\n")
	}
	fds := map[int]string{}
	for i := range 30 {
		fds[i] = lib
	}
	writeFake(t, proc, fakeProc{pid: 7, comm: "java", cgroup: "0::/\n", exe: lib, maps: maps.String(), fds: fds})
	writeFake(t, proc, fakeProc{pid: 8, stat: "8 broken\n"})
	writeFake(t, proc, fakeProc{pid: 9, stat: "9 broken\n"})

	snap, err := Scan(context.Background(), Options{ProcRoot: proc, MaxFDs: 10, MaxProblems: 3})
	if err != nil {
		t.Fatal(err)
	}
	p := findProc(t, snap, 7)
	if len(p.Maps) != DefaultMaxMaps {
		t.Errorf("%d mappings, want the default cap %d", len(p.Maps), DefaultMaxMaps)
	}
	if len(p.Files) != 1 {
		t.Errorf("files = %d, want 1 (the same file on every fd)", len(p.Files))
	}
	want := []string{"maps: cut at 100000 lines", "fd: cut at 10 descriptors"}
	if !slices.Equal(p.Truncated, want) {
		t.Errorf("truncated = %q, want %q", p.Truncated, want)
	}
	// Two cuts and two broken stats: three kept, one counted.
	if len(snap.Problems) != 3 || snap.ProblemsDropped != 1 {
		t.Errorf("problems %q dropped %d, want 3 kept and 1 dropped", snap.Problems, snap.ProblemsDropped)
	}
}

// TestReadNamespaceFallsBack: when the first process of a namespace has
// exited, its tables are read through the next one.
func TestReadNamespaceFallsBack(t *testing.T) {
	if !littleEndian() {
		t.Skip("tables are in little-endian word order")
	}
	proc := filepath.Join(t.TempDir(), "proc")
	writeFake(t, proc, fakeProc{pid: 31, comm: "b", net: map[string]string{
		"tcp": tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41242 1\n"}})
	rec := &recorder{max: 10}
	ls, _ := readNamespace(Options{ProcRoot: proc, MaxNetLines: 100}, nsGroup{ns: 77, pids: []int{30, 31}}, rec)
	if len(ls) != 1 || ls[0].Port != 8080 || ls[0].NetNS != 77 {
		t.Errorf("listeners = %+v, want 127.0.0.1:8080 in netns 77", ls)
	}
	if len(rec.problems) != 0 {
		t.Errorf("problems = %q, want none (an exited pid and absent tables are quiet)", rec.problems)
	}
}

// TestScanErrors: a proc root that cannot be listed fails; a cancelled
// context fails.
func TestScanErrors(t *testing.T) {
	if _, err := Scan(context.Background(), Options{ProcRoot: filepath.Join(t.TempDir(), "absent")}); err == nil {
		t.Error("Scan of an absent root succeeded")
	}
	proc := filepath.Join(t.TempDir(), "proc")
	for pid := 1; pid <= 50; pid++ {
		writeFake(t, proc, fakeProc{pid: pid, comm: "p"})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, Options{ProcRoot: proc}); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestUnknownNamespacesBounded: processes whose network namespace cannot
// be read are read one by one, up to a bound, and the rest is said.
func TestUnknownNamespacesBounded(t *testing.T) {
	proc := filepath.Join(t.TempDir(), "proc")
	for pid := 1; pid <= maxUnknownNS+6; pid++ {
		writeFake(t, proc, fakeProc{pid: pid, comm: "p", cgroup: "0::/\n"})
	}
	snap, err := Scan(context.Background(), Options{ProcRoot: proc})
	if err != nil {
		t.Fatal(err)
	}
	want := "net: 70 processes in unreadable network namespaces; the tables of 64 read"
	if !slices.Contains(snap.Problems, want) {
		t.Errorf("problems %q lack %q", snap.Problems, want)
	}
}
