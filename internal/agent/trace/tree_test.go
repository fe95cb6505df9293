package trace

import (
	"os"
	"path/filepath"
	"testing"
)

// A watched tree traces the cgroups made below it after the watch, at
// any depth, and nothing beside it.
func TestWatchTreeTracesCgroupsMadeLater(t *testing.T) {
	tr := openTracer(t, Options{})
	root, err := CgroupRoot()
	if err != nil {
		t.Fatal(err)
	}
	tree := newCgroup(t)
	level, err := CgroupLevel(root, tree.path)
	if err != nil || level != 1 {
		t.Fatalf("CgroupLevel(%s) = %d, %v; want 1", tree.path, level, err)
	}
	if err := tr.WatchTree(tree.id, level); err != nil {
		t.Fatal(err)
	}
	c := collect(t, tr)

	// Made after the watch, two levels down (pod/container), as kubelet
	// makes a new pod's cgroups.
	pod := subCgroup(t, tree, "pod-0")
	ctr := subCgroup(t, pod, "ctr-0")
	marker := filepath.Join(t.TempDir(), "in-tree")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cat := ctr.command(t, "/bin/cat", marker)
	if err := cat.Run(); err != nil {
		t.Fatal(err)
	}
	ex := c.wait(t, "exec in the tree", func(e *Event) bool { return e.Kind == KindExec && int(e.PID) == cat.Process.Pid })
	if ex.CgroupID != ctr.id {
		t.Errorf("exec attributed to cgroup %d, want the container's %d", ex.CgroupID, ctr.id)
	}
	c.wait(t, "open in the tree", func(e *Event) bool { return e.Kind == KindOpen && e.Path == marker })

	// A sibling tree and this process are not traced.
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := newCgroup(t).command(t, "/bin/cat", outside).Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(outside); err != nil {
		t.Fatal(err)
	}
	if err := ctr.command(t, "/bin/cat", "/etc/hosts").Run(); err != nil {
		t.Fatal(err)
	}
	c.wait(t, "a later open in the tree", func(e *Event) bool { return e.Path == "/etc/hosts" })
	if e, ok := c.find(func(e *Event) bool { return e.Path == outside }); ok {
		t.Errorf("event outside the watched tree reported: %+v", e)
	}
	if err := tr.WatchTree(tree.id, MaxTreeLevel+1); err == nil {
		t.Error("WatchTree accepted a level beyond MaxTreeLevel")
	}
}

func TestCgroupLevel(t *testing.T) {
	for _, tc := range []struct {
		path string
		want int
		ok   bool
	}{
		{"/sys/fs/cgroup", 0, true},
		{"/sys/fs/cgroup/kubepods.slice", 1, true},
		{"/sys/fs/cgroup/kubelet.slice/kubelet-kubepods.slice", 2, true},
		{"/sys/fs/other", 0, false},
	} {
		got, err := CgroupLevel("/sys/fs/cgroup", tc.path)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("CgroupLevel(%s) = %d, %v; want %d (ok %v)", tc.path, got, err, tc.want, tc.ok)
		}
	}
}

// subCgroup makes a cgroup below parent, removed at the end.
func subCgroup(t *testing.T, parent testCgroup, name string) testCgroup {
	t.Helper()
	dir := filepath.Join(parent.path, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the child goes before its parent.
	t.Cleanup(func() { removeCgroup(t, dir) })
	id, err := CgroupID(dir)
	if err != nil {
		t.Fatal(err)
	}
	return testCgroup{path: dir, id: id}
}
