package store_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
// line (workloads, commit time) to RUNLENS_CRASH_LOG after each commit.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("RUNLENS_CRASH_DB")
	if path == "" {
		t.Skip("run by TestCrashMidIngest")
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []*result.Document
	for _, n := range crashWorkloads {
		docs = append(docs, storetest.Document("crash", n, storetest.DocOptions{Images: 300}))
	}
	log, err := os.OpenFile(os.Getenv("RUNLENS_CRASH_LOG"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	scans, err := st.Scans(ctx, "crash", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(scans); ; i++ {
		n := crashWorkloads[i%len(crashWorkloads)]
		if _, err := st.IngestResult(ctx, store.Ingest{Cluster: "crash", Document: docs[i%len(docs)]}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(log, n, time.Now().UnixNano())
	}
}

// TestCrashMidIngest SIGKILLs a process ingesting into a SQLite store,
// three times at different moments of an ingest: each time the store
// opens again and shows either the result before or the one being
// written, never part of one.
func TestCrashMidIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "crash.db")
	committed := 0
	for run, frac := range []float64{0.3, 0.6, 0.9} {
		logPath := filepath.Join(dir, fmt.Sprint("log", run))
		if err := os.WriteFile(logPath, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "RUNLENS_CRASH_DB="+db, "RUNLENS_CRASH_LOG="+logPath)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		commits := func() []int64 {
			b, _ := os.ReadFile(logPath)
			var out []int64
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var n int
				var at int64
				if _, err := fmt.Sscan(line, &n, &at); err == nil {
					out = append(out, at)
				}
			}
			return out
		}
		deadline := time.Now().Add(3 * time.Minute)
		for len(commits()) < 2 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the child never committed twice")
			}
			time.Sleep(5 * time.Millisecond)
		}
		c := commits()
		// An ingest lasts about the time between two commits: kill the
		// next one that far into it.
		interval := time.Duration(c[1] - c[0])
		time.Sleep(time.Until(time.Unix(0, c[len(c)-1]).Add(time.Duration(frac * float64(interval)))))
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		committed += len(commits())
		scans := checkWhole(t, db, committed)
		committed = scans
		t.Logf("run %d: killed %.0f%% into an ingest of ~%v; %d scans visible", run, 100*frac, interval, scans)
	}
}

// checkWhole opens the store after a crash and checks it holds exactly
// the result of its latest scan, which is one of the committed ones or
// the one being written; it returns the number of scans.
func checkWhole(t *testing.T, db string, committed int) int {
	t.Helper()
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
	return len(scans)
}
