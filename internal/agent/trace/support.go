package trace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"

	"github.com/runlens/runlens/internal/agent/mountinfo"
)

// ErrNoBTF means the kernel publishes no BTF (/sys/kernel/btf/vmlinux),
// which the CO-RE programs need to be relocated to this kernel.
var ErrNoBTF = errors.New("kernel BTF not available")

// ErrNoTracefs means tracefs is not mounted, so tracepoints cannot be
// found; mount it with `mount -t tracefs nodev /sys/kernel/tracing`.
var ErrNoTracefs = errors.New("tracefs not mounted")

// ErrBPFRefused means the kernel refused to create BPF maps or programs:
// missing privileges (CAP_BPF and CAP_PERFMON, or root), BPF disabled, or
// a kernel without ring buffers or tracepoint programs.
var ErrBPFRefused = errors.New("kernel refused BPF")

// tracefsRoots are where tracefs is looked for, in order.
var tracefsRoots = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// Supported says why the tracer cannot run here, or nil when it can. The
// error wraps ErrNoBTF, ErrNoTracefs or ErrBPFRefused.
func Supported() error {
	if _, err := btf.LoadKernelSpec(); err != nil {
		return fmt.Errorf("%w: %w", ErrNoBTF, err)
	}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		return fmt.Errorf("%w: ring buffer map: %w", ErrBPFRefused, err)
	}
	if err := features.HaveProgramType(ebpf.TracePoint); err != nil {
		return fmt.Errorf("%w: tracepoint program: %w", ErrBPFRefused, err)
	}
	// Last: without privileges tracefs is unreadable too, and the refusal
	// is the cause worth naming.
	if _, err := tracefsRoot(); err != nil {
		return err
	}
	return nil
}

// tracefsRoot returns the mounted tracefs that has the sched_process_exec
// tracepoint.
func tracefsRoot() (string, error) {
	for _, root := range tracefsRoots {
		if _, err := os.Stat(root + "/events/sched/sched_process_exec/id"); err == nil {
			return root, nil
		}
	}
	return "", fmt.Errorf("%w: no events/sched/sched_process_exec under %s (mount -t tracefs nodev /sys/kernel/tracing)",
		ErrNoTracefs, strings.Join(tracefsRoots, " or "))
}

// CgroupID returns the id of the cgroup v2 directory at path, as
// bpf_get_current_cgroup_id reports it for the tasks in it: the
// directory's inode number.
func CgroupID(path string) (uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("cgroup id: %w", err)
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("cgroup id: %s is not a directory", path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("cgroup id: no inode for %s", path)
	}
	return st.Ino, nil
}

// CgroupRoot returns the mount point of the cgroup v2 hierarchy
// (/sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid
// one), read from /proc/self/mountinfo.
func CgroupRoot() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("cgroup2 mount: %w", err)
	}
	defer f.Close()
	mounts, err := mountinfo.Read(f)
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			return m.Point, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("cgroup2 mount: %w", err)
	}
	return "", errors.New("cgroup2 mount: no cgroup2 file system mounted")
}

// CgroupLevel returns the level of the cgroup directory path under the
// cgroup v2 mount root (the root is 0, root/kubepods.slice is 1), for
// WatchTree.
func CgroupLevel(root, path string) (int, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return 0, fmt.Errorf("cgroup level: %s is not under %s", path, root)
	}
	if rel == "." {
		return 0, nil
	}
	return strings.Count(rel, "/") + 1, nil
}
