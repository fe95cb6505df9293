package cri

import (
	"path"
	"strings"
)

// CgroupPath turns a runtime spec's linux.cgroupsPath into the cgroup's
// path below the cgroup v2 mount, the form /proc/<pid>/cgroup shows.
//
// With the cgroupfs driver the spec holds that path already
// ("/kubepods/besteffort/pod<uid>/<id>", under the kubelet's cgroup root
// when it has one). With the systemd driver it holds runc's
// "slice:prefix:name" ("kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>",
// CRI-O's prefix being "crio"), which systemd places at
// /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope.
// On a cgroup v1 host the cgroupfs form is also the path in each
// hierarchy (/proc/<pid>/cgroup shows it on every line). An empty input
// gives "".
func CgroupPath(spec string) string {
	if spec == "" {
		return ""
	}
	if !strings.HasPrefix(spec, "/") {
		if parts := strings.Split(spec, ":"); len(parts) == 3 {
			unit := parts[2]
			if parts[1] != "" {
				unit = parts[1] + "-" + unit
			}
			if !strings.HasSuffix(unit, ".slice") && !strings.HasSuffix(unit, ".scope") {
				unit += ".scope"
			}
			return path.Join(expandSlice(parts[0]), unit)
		}
	}
	return path.Clean("/" + spec)
}

// expandSlice gives the path systemd nests a slice at: each dash-separated
// prefix is a parent slice ("a-b-c.slice" is /a.slice/a-b.slice/a-b-c.slice;
// "-.slice" and "" are the root).
func expandSlice(slice string) string {
	name := strings.TrimSuffix(slice, ".slice")
	if name == "" || name == "-" {
		return "/"
	}
	var b strings.Builder
	prefix := ""
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue // systemd refuses such names; keep what is there
		}
		if prefix != "" {
			prefix += "-"
		}
		prefix += part
		b.WriteString("/" + prefix + ".slice")
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}
