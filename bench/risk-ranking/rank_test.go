// Package riskranking measures the ranking of a large cluster result and
// its rendering in every output format (README.md).
package riskranking

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/report"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
)

// Targets: ranking, funnel, remediation and every format of a 10,000
// workload × 200,000 occurrence result.
const (
	targetSeconds = 3.0
	targetRSSMB   = 500.0
	childEnv      = "RUNLENS_RANKING_BENCH_CHILD"
)

// figures are what one measured run reports.
type figures struct {
	Workloads, Occurrences, Findings, Actions int
	BuildSeconds                              float64
	RankSeconds                               float64
	FormatSeconds                             map[string]float64
	FormatMB                                  map[string]float64
	// RSSAfterMB is the peak RSS after ranking and after each format;
	// AllocMB what each step allocated.
	RSSAfterMB           map[string]float64
	AllocMB              map[string]float64
	TotalSeconds         float64
	BaseRSSMB, PeakRSSMB float64
}

// countingWriter counts and drops what a format writes.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// measure ranks a fixture of sz and writes it in each of formats.
func measure(t testing.TB, sz size, formats []string) figures {
	t0 := time.Now()
	doc := fixture(sz)
	fg := figures{Workloads: len(doc.Workloads), BuildSeconds: time.Since(t0).Seconds(), FormatSeconds: map[string]float64{}, FormatMB: map[string]float64{}, RSSAfterMB: map[string]float64{}, AllocMB: map[string]float64{}}
	fg.BaseRSSMB = peakRSSMB()
	alloc := allocatedMB()
	start := time.Now()
	if err := risk.Rank(doc, risk.Options{Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	fg.RankSeconds = time.Since(start).Seconds()
	fg.RSSAfterMB["rank"] = peakRSSMB()
	fg.AllocMB["rank"], alloc = allocatedMB()-alloc, allocatedMB()
	fg.Occurrences, fg.Findings, fg.Actions = len(doc.Risks), doc.Summary.Risk.Findings, len(doc.Remediation)
	for _, name := range formats {
		f, err := report.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		cw := &countingWriter{}
		bw := bufio.NewWriterSize(cw, 1<<16)
		s := time.Now()
		if err := f.Write(bw, doc, report.Options{Top: 25}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		fg.FormatSeconds[name] = time.Since(s).Seconds()
		fg.FormatMB[name] = float64(cw.n) / (1 << 20)
		fg.RSSAfterMB[name] = peakRSSMB()
		fg.AllocMB[name], alloc = allocatedMB()-alloc, allocatedMB()
	}
	fg.TotalSeconds = time.Since(start).Seconds()
	fg.PeakRSSMB = peakRSSMB()
	check(t, doc)
	return fg
}

// check: the funnel adds up and the order holds.
func check(t testing.TB, doc *result.Document) {
	f := doc.Summary.Risk
	if got := f.Immediate + f.OutOfCycle + f.Scheduled + f.Defer + f.Suppressed; got != f.Findings {
		t.Errorf("funnel tiers sum to %d, want %d findings", got, f.Findings)
	}
	if !(f.Findings >= *f.Running && *f.Running >= *f.Reachable) {
		t.Errorf("funnel does not narrow: %+v", f)
	}
	for i := 1; i < len(doc.Risks); i++ {
		a, b := &doc.Risks[i-1], &doc.Risks[i]
		if result.TierRank(a.Tier) > result.TierRank(b.Tier) || a.Tier == b.Tier && a.Score < b.Score {
			t.Fatalf("risks out of order at %d: %s %.1f before %s %.1f", i, a.Tier, a.Score, b.Tier, b.Score)
		}
	}
}

// allocatedMB is what the process allocated so far.
func allocatedMB() float64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.TotalAlloc) / (1 << 20)
}

// peakRSSMB is this process's peak resident set so far.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// TestRankingSmall runs the whole path on a small result in the ordinary
// suite, so the benchmark cannot rot.
func TestRankingSmall(t *testing.T) {
	fg := measure(t, smallSize, report.Names())
	if fg.Occurrences != smallSize.workloads*smallSize.perImage {
		t.Errorf("%d occurrences, want %d", fg.Occurrences, smallSize.workloads*smallSize.perImage)
	}
}

// TestRankingBench measures the full size: for each format a fresh child
// process builds the result, ranks it and writes that format (one run of
// `runlens report -f FORMAT`, its peak RSS its own), then one child writes
// every format in turn. It prints the figures. Run with RUNLENS_BENCH=1.
func TestRankingBench(t *testing.T) {
	if os.Getenv("RUNLENS_BENCH") == "" {
		t.Skip("set RUNLENS_BENCH=1 to measure 10,000 workloads × 200,000 occurrences")
	}
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	fmt.Printf("one run per format: build a result of %d workloads × %d occurrences, rank it (funnel and remediation included), write the format\n",
		fullSize.workloads, fullSize.workloads*fullSize.perImage)
	fmt.Printf("  %-10s %8s %8s %10s %12s\n", "format", "rank s", "write s", "total s", "peak RSS MB")
	allOK := true
	for _, name := range report.Names() {
		fg := child(t, name)
		total := fg.RankSeconds + fg.FormatSeconds[name]
		ok := total <= targetSeconds && fg.PeakRSSMB <= targetRSSMB
		allOK = allOK && ok
		fmt.Printf("  %-10s %8.2f %8.2f %10.2f %12.0f  %6.1f MB written  %s\n", name, fg.RankSeconds, fg.FormatSeconds[name], total, fg.PeakRSSMB, fg.FormatMB[name], verdict(ok))
	}
	fmt.Printf("  targets: ≤ %.1f s and ≤ %.0f MB peak RSS per run (the result itself included): %s\n", targetSeconds, targetRSSMB, verdict(allOK))
	fg := child(t, strings.Join(report.Names(), ","))
	fmt.Printf("every format in one process: rank %.2f s + writes %.2f s = %.2f s, peak RSS %.0f MB (%d unique findings, %d actions)\n",
		fg.RankSeconds, fg.TotalSeconds-fg.RankSeconds, fg.TotalSeconds, fg.PeakRSSMB, fg.Findings, fg.Actions)
}

// child runs TestRankingChild for formats (comma-separated) and returns
// its figures.
func child(t *testing.T, formats string) figures {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRankingChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+formats)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	_, js, ok := strings.Cut(string(out), "FIGURES ")
	if !ok {
		t.Fatalf("child printed no figures:\n%s", out)
	}
	js, _, _ = strings.Cut(js, "\n")
	var fg figures
	if err := json.Unmarshal([]byte(js), &fg); err != nil {
		t.Fatal(err)
	}
	return fg
}

// TestRankingChild is the measured process.
func TestRankingChild(t *testing.T) {
	formats := os.Getenv(childEnv)
	if formats == "" {
		t.Skip("run by TestRankingBench")
	}
	fg := measure(t, fullSize, strings.Split(formats, ","))
	js, err := json.Marshal(fg)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("FIGURES %s\n", js)
}
