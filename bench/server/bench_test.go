package serverbench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/rematch"
	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

// figures are one backend's measurements.
type figures struct {
	seedTotal   time.Duration // seeding every cluster but the measured one
	seedIngests []time.Duration
	ingest      time.Duration // the measured cluster's IngestResult
	ingestRisks int
	apiTimes    []time.Duration
	uiTimes     map[string][]time.Duration
	rematch     time.Duration
	report      rematch.Report
	rssMB       float64
	sizeBytes   int64
}

// runBench seeds b's store at scale sc, starts the server child on it and
// measures. apiN and uiN are the requests of the API mix and of each UI
// page.
func runBench(t *testing.T, b storetest.Backend, sc scale, apiN, uiN int) figures {
	ctx := context.Background()
	root := t.TempDir()
	builtAt := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	v1Dir, err := buildDB(ctx, root, false, builtAt)
	if err != nil {
		t.Fatal(err)
	}
	v2Dir, err := buildDB(ctx, root, true, builtAt.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := vulndb.Open(ctx, v1Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer v1.Close()
	fx := &fixture{sc: sc, db: v1, findings: map[int][]match.Finding{}}
	var fg figures
	start := time.Now()
	last := sc.clusters - 1
	for c := range last {
		doc, err := fx.document(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if _, err := b.Store.IngestResult(ctx, store.Ingest{Cluster: clusterName(c), Source: "push:bench", Cause: store.CauseScan, Document: doc, At: ingestAt(c)}); err != nil {
			t.Fatalf("seed %s: %v", clusterName(c), err)
		}
		fg.seedIngests = append(fg.seedIngests, time.Since(t0))
		if c%10 == 9 {
			t.Logf("%s: seeded %d clusters in %v", b.Name, c+1, time.Since(start).Round(time.Second))
		}
	}
	m := v1.Metadata()
	if err := b.Store.SetDBVersion(ctx, store.DBVersion{BuiltAt: m.BuiltAt, Advisories: m.Advisories}); err != nil {
		t.Fatal(err)
	}
	fg.seedTotal = time.Since(start)
	t.Logf("%s: seeded %d clusters in %v (ingests: median %v, max %v)", b.Name, last, fg.seedTotal.Round(time.Second),
		median(fg.seedIngests), slices.Max(append(fg.seedIngests, 0)))

	// The measured cluster's result, written as a push would send it.
	doc, err := fx.document(ctx, last)
	if err != nil {
		t.Fatal(err)
	}
	docPath := filepath.Join(root, "push.json")
	bs, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(docPath, bs, 0o644); err != nil {
		t.Fatal(err)
	}
	wantRisks, jsonMB := len(doc.Risks), float64(len(bs))/(1<<20)
	doc, bs, fx.findings = nil, nil, nil

	_, secret, err := server.CreateToken(ctx, b.Store, "bench", store.ScopeRead, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := childConfig{DSN: b.DSN, V1: v1Dir, V2: v2Dir}
	if p := os.Getenv("RUNLENS_SERVER_BENCH_CPUPROFILE"); p != "" {
		cfg.CPUProfile = p + "." + b.Name
	}
	ch := startChild(t, cfg)
	r := ch.do(t, fmt.Sprintf("ingest %s %s %d", docPath, clusterName(last), ingestAt(last).Unix()))
	fg.ingest, fg.ingestRisks = seconds(r.Seconds), r.Risks
	if r.Risks != wantRisks {
		t.Fatalf("ingest stored %d risks, want %d", r.Risks, wantRisks)
	}
	t.Logf("%s: ingest of %s (%d risks, %.0f MB of JSON): %v; server peak RSS %.0f MB once decoded, %.0f MB after the ingest",
		b.Name, clusterName(last), r.Risks, jsonMB, fg.ingest.Round(time.Millisecond), r.DecodedRSSMB, r.MaxRSSMB)

	cl := &client{base: ch.URL, token: secret, http: &http.Client{Timeout: 10 * time.Minute}}
	var seen []store.RiskRow
	fg.apiTimes, seen = apiMix(t, cl, sc, apiN)
	t.Logf("%s: ranked list: %d requests, p95 %v", b.Name, len(fg.apiTimes), p95(fg.apiTimes).Round(time.Millisecond))
	fg.uiTimes = uiMix(t, cl, sc, seen, uiN)
	for _, p := range uiPages {
		t.Logf("%s: UI %s: %d requests, p95 %v", b.Name, p, len(fg.uiTimes[p]), p95(fg.uiTimes[p]).Round(time.Millisecond))
	}

	t.Logf("%s: server peak RSS after the reads %.0f MB", b.Name, ch.do(t, "rss").MaxRSSMB)
	r = ch.do(t, "rematch")
	fg.rematch, fg.report = seconds(r.Seconds), *r.Rematch
	rep := fg.report
	t.Logf("%s: re-match: %v (%d keys, %d inventories, %d changed, %d findings appeared; %d clusters ranked again, %d risks appeared, %d disappeared; diff %v, match %v, rank %v)",
		b.Name, fg.rematch.Round(time.Millisecond), rep.Keys, rep.Inventories, rep.Changed, rep.FindingsAppeared, len(rep.Clusters),
		rep.RisksAppeared, rep.RisksDisappeared, rep.Diff.Round(time.Millisecond), rep.Match.Round(time.Millisecond), rep.Rank.Round(time.Millisecond))
	if rep.Inventories != sc.digests || rep.Changed == 0 || rep.FindingsAppeared == 0 || len(rep.Clusters) == 0 {
		t.Fatalf("re-match: %+v, want every one of %d inventories matched again and new findings", rep, sc.digests)
	}
	fg.rssMB = ch.quit(t)
	if fg.sizeBytes, err = b.Store.Size(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: server peak RSS %.0f MB, store %.0f MB", b.Name, fg.rssMB, float64(fg.sizeBytes)/(1<<20))
	return fg
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestServerBench measures both backends at RUNLENS_SERVER_BENCH_SCALE
// (the full scale when unset) and prints the figures against the targets.
func TestServerBench(t *testing.T) {
	if os.Getenv("RUNLENS_BENCH") != "1" {
		t.Skip("set RUNLENS_BENCH=1 to run the server benchmark")
	}
	sc := envScale(t)
	t.Log(sc)
	var names []string
	var figs []figures
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var b storetest.Backend
			if name == "sqlite" {
				b = storetest.SQLite(t)
			} else {
				var ok bool
				if b, ok = storetest.Postgres(t); !ok {
					t.Skip("no PostgreSQL server")
				}
			}
			figs = append(figs, runBench(t, b, sc, 240, 20))
			names = append(names, name)
		})
	}
	if len(figs) == 0 {
		t.Fatal("no backend measured")
	}
	table := markdownTable(sc, names, figs)
	fmt.Println(table)
	if sc.factor == 1 && strings.Contains(table, "FAIL") {
		t.Error("a target was missed (table above)")
	}
}

// TestServerBenchSmall runs the whole harness at a tiny scale on SQLite:
// the server child serves every page asked for, ingests, re-matches and
// reports its RSS.
func TestServerBenchSmall(t *testing.T) {
	sc := scaleOf(0.004)
	b := storetest.SQLite(t)
	fg := runBench(t, b, sc, 16, 2)
	if len(fg.apiTimes) != 16 || fg.ingestRisks != sc.workloads*vulnPerImage {
		t.Errorf("API requests %d, ingested risks %d (want %d)", len(fg.apiTimes), fg.ingestRisks, sc.workloads*vulnPerImage)
	}
	for _, p := range uiPages {
		if len(fg.uiTimes[p]) != 2 {
			t.Errorf("UI %s: %d requests, want 2", p, len(fg.uiTimes[p]))
		}
	}
	if fg.rssMB <= 0 || fg.sizeBytes <= 0 {
		t.Errorf("RSS %.1f MB, size %d", fg.rssMB, fg.sizeBytes)
	}
	if len(fg.report.Clusters) != sc.clusters {
		t.Errorf("re-match ranked %v again, want all %d clusters", fg.report.Clusters, sc.clusters)
	}
	t.Log("\n" + markdownTable(sc, []string{"sqlite"}, []figures{fg}))
}
