package store_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// crashWorkloads are the sizes of the results the crash child ingests in
// turn: each ingest's risks number 4 per workload, so the count says
// which result is visible.
var crashWorkloads = []int{1500, 2500}

// TestCrashChild is the child of TestCrashMidIngest: it ingests results
// into the store named by RUNLENS_CRASH_DB until killed, appending a
// line to RUNLENS_CRASH_LOG after each commit.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("RUNLENS_CRASH_DB")
	if path == "" {
		t.Skip("run by TestCrashMidIngest")
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	docs := []*storetestDoc{}
	for _, n := range crashWorkloads {
		docs = append(docs, &storetestDoc{n: n, doc: storetest.Document("crash", n, storetest.DocOptions{Images: 300})})
	}
	log, err := os.OpenFile(os.Getenv("RUNLENS_CRASH_LOG"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(log, "ready")
	for i := 0; ; i++ {
		d := docs[i%len(docs)]
		if _, err := st.IngestResult(ctx, store.Ingest{Cluster: "crash", Document: d.doc}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(log, d.n)
	}
}

type storetestDoc struct {
	n   int
	doc *result.Document
}

// TestCrashMidIngest SIGKILLs a process in the middle of an ingest: the
// store opens again and shows either the result before or the one being
// written, never part of one.
func TestCrashMidIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := t.TempDir()
	db, logPath := filepath.Join(dir, "crash.db"), filepath.Join(dir, "log")
	if err := os.WriteFile(logPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RUNLENS_CRASH_DB="+db, "RUNLENS_CRASH_LOG="+logPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := func() [][]byte {
		b, _ := os.ReadFile(logPath)
		return bytes.Fields(b)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for len(lines()) < 3 { // ready and two commits: the next ingest is under way
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the child never committed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond) // into the third ingest's transaction
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	committed := len(lines()) - 1
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatalf("the store does not open after the crash: %v", err)
	}
	defer st.Close()
	scans, err := st.Scans(ctx, "crash", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != committed && len(scans) != committed+1 {
		t.Fatalf("%d scans after %d commits", len(scans), committed)
	}
	want := crashWorkloads[(len(scans)-1)%len(crashWorkloads)]
	ws, err := st.Workloads(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	risks := allRisks(t, st, store.RiskQuery{Cluster: "crash", Suppressed: true, Limit: 1000})
	cs, err := st.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != want || len(risks) != 4*want || len(cs) != 1 || cs[0].Workloads != want || cs[0].LastScanID != scans[0].ID {
		t.Fatalf("after %d scans: %d workloads, %d risks, clusters %+v; want the result of %d workloads whole", len(scans), len(ws), len(risks), cs, want)
	}
	t.Logf("killed after %d commits; %d scans visible, %d risks", committed, len(scans), len(risks))
}
