package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
)

// SeedTime is when Seed's results arrive.
var SeedTime = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Seed stores one ranked result per cluster ("c0", "c1", …), each with
// workloadsPerCluster workloads; the clusters share their images (image
// i is the same digest everywhere).
func Seed(t testing.TB, st store.Store, clusters, workloadsPerCluster int) {
	t.Helper()
	for c := range clusters {
		name := fmt.Sprintf("c%d", c)
		doc := Document(name, workloadsPerCluster, DocOptions{})
		if _, err := st.IngestResult(context.Background(), store.Ingest{Cluster: name, Source: "push:test", Cause: store.CauseScan,
			Document: doc, At: SeedTime.Add(time.Duration(c) * time.Minute)}); err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
	}
}
