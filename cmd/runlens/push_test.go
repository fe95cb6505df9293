package main

import (
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store/storetest"
)

// A cluster scan is pushed a cluster at a time, each part with its own
// workloads and risks; an image scan needs --push-cluster.
func TestPushParts(t *testing.T) {
	a := storetest.Document("east", 3, storetest.DocOptions{})
	b := storetest.Document("west", 2, storetest.DocOptions{Variant: 1})
	both := result.New(a.Header, append(a.Images, b.Images...), append(a.Workloads, b.Workloads...), []result.Cluster{a.Summary.Clusters[0], b.Summary.Clusters[0]})
	both.Risks = append(append([]result.Risk(nil), a.Risks...), b.Risks...)

	parts, names, err := (&pushOptions{}).pushParts(both)
	if err != nil || strings.Join(names, ",") != "east,west" {
		t.Fatalf("parts of two clusters: %v %v", names, err)
	}
	for i, p := range parts {
		for _, e := range p.Risks {
			if e.Cluster != names[i] {
				t.Errorf("part %s holds a risk of %s", names[i], e.Cluster)
			}
		}
		for _, w := range p.Workloads {
			if w.Cluster != names[i] {
				t.Errorf("part %s holds workload %s", names[i], w.Ref())
			}
		}
	}
	if len(parts[0].Risks) != len(a.Risks) || len(parts[1].Risks) != len(b.Risks) {
		t.Errorf("parts' risks %d and %d, want %d and %d", len(parts[0].Risks), len(parts[1].Risks), len(a.Risks), len(b.Risks))
	}
	if _, _, err := (&pushOptions{cluster: "east"}).pushParts(both); err == nil {
		t.Error("--push-cluster east accepted for a result of east and west")
	}
	if parts, names, err := (&pushOptions{cluster: "east"}).pushParts(a); err != nil || len(parts) != 1 || names[0] != "east" {
		t.Errorf("--push-cluster naming the result's one cluster: %v %v", names, err)
	}
	img := result.New(result.NewHeader("scan image", "test", nil), a.Images[:1], nil, nil)
	if _, _, err := (&pushOptions{}).pushParts(img); err == nil || !strings.Contains(err.Error(), "--push-cluster") {
		t.Errorf("image scan without --push-cluster: %v", err)
	}
	if parts, names, err := (&pushOptions{cluster: "ci"}).pushParts(img); err != nil || len(parts) != 1 || names[0] != "ci" {
		t.Errorf("image scan with --push-cluster: %v %v", names, err)
	}
}
