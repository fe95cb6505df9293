package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/inventory"
)

func TestSnapshotKeepsContainersWhoseImageCouldNotBeRead(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	src := Sources{
		Node: "node-1",
		Containers: func(context.Context) ([]evidence.Container, error) {
			return []evidence.Container{
				{ID: "a", PodUID: "p1", Digest: "sha256:web", StartedAt: at.Add(-time.Hour)},
				{ID: "b", PodUID: "p2", Digest: "sha256:web"},
				{ID: "c", PodUID: "p3", Digest: "sha256:gone"},
			}, nil
		},
		Processes: func(context.Context) (map[string][]Process, error) {
			return map[string][]Process{"a": {{PID: 1, Exe: "/usr/bin/python3.11"}}, "c": {{PID: 3, Exe: "/app"}}}, nil
		},
		Inventory: func(_ context.Context, c *evidence.Container) (*inventory.Inventory, error) {
			if c.Digest == "sha256:gone" {
				return nil, errors.New("layer blob sha256:beef garbage-collected")
			}
			return &inventory.Inventory{Packages: []inventory.Package{{Name: "python3.11-minimal", Version: "3.11.2-6", Type: "deb", Files: []string{"/usr/bin/python3.11"}}}}, nil
		},
		Since:    at.Add(-2 * time.Hour),
		Complete: true,
		Now:      func() time.Time { return at },
	}
	calls := 0
	inv := src.Inventory
	src.Inventory = func(ctx context.Context, c *evidence.Container) (*inventory.Inventory, error) {
		calls++
		return inv(ctx, c)
	}
	doc, err := Snapshot(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("%d inventories read, want one per digest (2)", calls)
	}
	if len(doc.Containers) != 3 || len(doc.Records) != 1 || doc.Records[0].PodUID != "p1" {
		t.Fatalf("containers %d, records %+v", len(doc.Containers), doc.Records)
	}
	a, c := doc.Containers[0], doc.Containers[2]
	if !a.Window.Start.Equal(at.Add(-time.Hour)) || !a.Window.Complete {
		t.Errorf("container a window %+v: want from its start, complete", a.Window)
	}
	if c.Window.Complete || len(doc.Problems) != 1 || !strings.Contains(doc.Problems[0], "garbage-collected") {
		t.Errorf("unreadable image: window %+v, problems %q", c.Window, doc.Problems)
	}

	// With an IndexCache kept across snapshots, the readable image is
	// read once in all; the unreadable one is tried at every snapshot,
	// and a container without a digest (a live root may change) too.
	calls = 0
	src.Indexes = &IndexCache{}
	list := src.Containers
	src.Containers = func(ctx context.Context) ([]evidence.Container, error) {
		cs, err := list(ctx)
		return append(cs, evidence.Container{ID: "d", PodUID: "p4"}), err
	}
	for range 3 {
		doc, err = Snapshot(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.Records) != 1 || len(doc.Problems) != 1 {
			t.Fatalf("records %+v, problems %q", doc.Records, doc.Problems)
		}
	}
	if calls != 1+3+3 {
		t.Errorf("%d inventories read over 3 snapshots, want 7 (web once, gone and the digest-less container each time)", calls)
	}
}

func TestCacheInventoriesReadsEachDigestOnce(t *testing.T) {
	calls := 0
	inner := func(_ context.Context, c *evidence.Container) (*inventory.Inventory, error) {
		calls++
		if c.Digest == "sha256:bad" {
			return nil, errors.New("unreadable")
		}
		return &inventory.Inventory{}, nil
	}
	get := CacheInventories(inner)
	for range 3 {
		get(context.Background(), &evidence.Container{Digest: "sha256:a"})
		get(context.Background(), &evidence.Container{Digest: "sha256:bad"})
	}
	if calls != 4 { // a once, bad every time
		t.Errorf("%d reads, want 4", calls)
	}
}
