// Package serverbench measures runlens server over a store of 50
// clusters (README.md), on SQLite and PostgreSQL: the ingest of one
// 10,000-pod cluster result, the ranked-list API and the web UI pages
// through the server's real handler, a re-match after a 1,000-advisory
// database update, the server's peak RSS and the store's size.
//
// The test binary plays two parts: the test (it builds the databases,
// seeds the store through store.IngestResult and sends the requests) and
// the server (a child: the same binary re-executed, serving
// server.New(...).Handler() with the web UI, ingesting and re-matching
// when told, so its ru_maxrss is the server's alone).
package serverbench

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/runlens/runlens/internal/store/storetest"
)

// Targets.
const (
	targetIngestS  = 10.0
	targetAPIMS    = 150.0
	targetUIMS     = 300.0
	targetRematchS = 15.0
	targetRSSMB    = 400.0
)

// roleEnv makes the test binary the server child; configEnv carries its
// configuration (JSON).
const (
	roleEnv   = "RUNLENS_SERVER_BENCH_ROLE"
	configEnv = "RUNLENS_SERVER_BENCH_CONFIG"
)

func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "server" {
		if err := runChild(); err != nil {
			fmt.Fprintf(os.Stderr, "server child: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(storetest.Main(m))
}

// scale is the size of one run. The full scale is 50 clusters × 2,500
// workloads of 4 pods over 1,000 of 5,000 shared digests each, 16
// findings per image: 40,000 risk occurrences per cluster.
type scale struct {
	factor           float64
	clusters         int
	workloads        int // per cluster
	digests          int // unique, over every cluster
	imagesPerCluster int
}

// scaleOf shrinks the full scale by f: the clusters and the digests
// shrink with it; below 0.1 the clusters' workloads too.
func scaleOf(f float64) scale {
	r := func(full float64, least int) int { return max(least, int(math.Round(full*f))) }
	s := scale{factor: f, clusters: r(50, 2), workloads: 2500, digests: r(5000, 20)}
	if f < 0.1 {
		s.workloads = r(25000, 40)
	}
	s.imagesPerCluster = min(1000, s.digests, s.workloads)
	return s
}

// envScale reads RUNLENS_SERVER_BENCH_SCALE (1 when unset).
func envScale(t testing.TB) scale {
	v := os.Getenv("RUNLENS_SERVER_BENCH_SCALE")
	if v == "" {
		return scaleOf(1)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1 {
		t.Fatalf("RUNLENS_SERVER_BENCH_SCALE: want a number in (0, 1], got %q", v)
	}
	return scaleOf(f)
}

// firstImage is the first image of cluster c's window: the windows slide
// evenly so that together they cover every digest once at least and
// neighbours share most of theirs.
func (s scale) firstImage(c int) int {
	if s.clusters == 1 {
		return 0
	}
	return c * (s.digests - s.imagesPerCluster) / (s.clusters - 1)
}

// risks is the number of risk occurrences the scale seeds.
func (s scale) risks() int { return s.clusters * s.workloads * vulnPerImage }

func (s scale) String() string {
	return fmt.Sprintf("scale %g: %d clusters × %d workloads (%d pods), %d digests (%d per cluster), %d risk occurrences",
		s.factor, s.clusters, s.workloads, 4*s.workloads, s.digests, s.imagesPerCluster, s.risks())
}
