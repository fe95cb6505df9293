package agent

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestPodCgroupTrees(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{
		"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice", // systemd driver
		"kubepods/burstable/pod2/abc",                                      // cgroupfs driver
		"kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod3.slice", // nested (kind)
		"system.slice/containerd.service",
		"user.slice/user-0.slice",
		"a/b/c/kubepods", // below the depth looked at
		"notkubepods.slice",
	} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := PodCgroupTrees(root)
	want := []string{
		filepath.Join(root, "kubelet.slice/kubelet-kubepods.slice"),
		filepath.Join(root, "kubepods"),
		filepath.Join(root, "kubepods.slice"),
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("PodCgroupTrees = %q\nwant %q", got, want)
	}
	if got := PodCgroupTrees(filepath.Join(root, "missing")); got != nil {
		t.Errorf("PodCgroupTrees of a missing root = %q", got)
	}
}
