package procscan

import (
	"strings"
)

// Attribution is the pod and container a cgroup path names.
type Attribution struct {
	// PodUID is the pod's UID with dashes ("0b7e…-…"); a static pod's UID
	// is the 32 hex digits kubelet hashes from its manifest.
	PodUID string `json:"pod_uid,omitempty"`
	// ContainerID is the runtime's container id; empty for a process of
	// the pod that is in no container's cgroup (CRI-O's conmon).
	ContainerID string `json:"container_id,omitempty"`
	// Runtime is what the systemd scope's prefix says ("containerd",
	// "cri-o", "docker"; empty with the cgroupfs driver, whose paths do
	// not say).
	Runtime string `json:"runtime,omitempty"`
	// QoS is the pod's QoS class ("guaranteed", "burstable",
	// "besteffort").
	QoS string `json:"qos,omitempty"`
	// Cgroup is the path up to the container's cgroup (a process in a
	// sub-cgroup of its container has a longer path).
	Cgroup string `json:"cgroup,omitempty"`
}

// IsZero reports a host process (no pod).
func (a Attribution) IsZero() bool { return a.PodUID == "" }

// scopeRuntimes maps a systemd scope's prefix to the runtime.
var scopeRuntimes = []struct{ prefix, runtime string }{
	{"cri-containerd-", "containerd"},
	{"crio-conmon-", ""}, // conmon: of the pod, not of a container
	{"crio-", "cri-o"},
	{"docker-", "docker"},
	{"libpod-", "podman"},
}

// ParseCgroupPath returns the pod and container a cgroup path names, in
// the layouts kubelet makes with either cgroup driver, at any depth (a
// kubepods root nested below another cgroup, as in kind or a local test
// cluster, and paths a cgroup namespace prints with "/.." in front):
//
//	/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope
//	/kubepods.slice/kubepods-pod<uid>.slice/crio-<id>.scope
//	/kubepods/burstable/pod<uid>/<id>
//	/kubepods/pod<uid>/<id>
//	/runlens-NAME/kubepods/besteffort/pod<uid>/<id>
//
// ok is false for a path that names no pod.
func ParseCgroupPath(path string) (a Attribution, ok bool) {
	segs := strings.Split(path, "/")
	kube := false
	for i, s := range segs {
		if !kube {
			kube = strings.Contains(s, "kubepods")
			if !kube {
				continue
			}
		}
		uid, qos, isPod := podSegment(s)
		if !isPod {
			continue
		}
		a.PodUID, a.QoS = uid, qos
		a.Cgroup = strings.Join(segs[:i+1], "/")
		if a.QoS == "" {
			a.QoS = qosBefore(segs[:i])
		}
		if i+1 < len(segs) {
			if id, rt, ok := containerSegment(segs[i+1]); ok {
				a.ContainerID, a.Runtime = id, rt
				a.Cgroup = strings.Join(segs[:i+2], "/")
			}
		}
		return a, true
	}
	return Attribution{}, false
}

// podSegment recognises a pod's cgroup: "pod<uid>" (cgroupfs) or
// "…kubepods[-qos]-pod<uid_with_underscores>.slice" (systemd).
func podSegment(s string) (uid, qos string, ok bool) {
	if name, isSlice := strings.CutSuffix(s, ".slice"); isSlice {
		i := strings.LastIndex(name, "-pod")
		if i < 0 || !strings.Contains(name[:i], "kubepods") {
			return "", "", false
		}
		uid, ok = podUID(strings.ReplaceAll(name[i+len("-pod"):], "_", "-"))
		if !ok {
			return "", "", false
		}
		prefix := name[:i]
		for _, q := range []string{"burstable", "besteffort"} {
			if strings.HasSuffix(prefix, "-"+q) {
				qos = q
			}
		}
		if qos == "" {
			qos = "guaranteed"
		}
		return uid, qos, true
	}
	rest, isPod := strings.CutPrefix(s, "pod")
	if !isPod {
		return "", "", false
	}
	uid, ok = podUID(rest)
	return uid, "", ok
}

// qosBefore reads the QoS class from the cgroupfs segment before the pod's.
func qosBefore(segs []string) string {
	if len(segs) == 0 {
		return ""
	}
	switch segs[len(segs)-1] {
	case "burstable":
		return "burstable"
	case "besteffort":
		return "besteffort"
	case "kubepods":
		return "guaranteed"
	}
	return ""
}

// containerSegment recognises a container's cgroup below the pod's:
// "<id>" (containerd and docker with cgroupfs), "crio-<id>" (CRI-O with
// cgroupfs) or "<prefix>-<id>.scope" (systemd).
func containerSegment(s string) (id, runtime string, ok bool) {
	name := strings.TrimSuffix(s, ".scope")
	for _, p := range scopeRuntimes {
		if rest, found := strings.CutPrefix(name, p.prefix); found {
			if p.runtime == "" || !isContainerID(rest) {
				return "", "", false
			}
			return rest, p.runtime, true
		}
	}
	if name != s { // a scope of no runtime we know
		return "", "", false
	}
	return s, "", isContainerID(s)
}

// isContainerID accepts the hex ids runtimes use (64 digits; at least 12
// for ids some tools shorten).
func isContainerID(s string) bool {
	if len(s) < 12 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// podUID checks a pod UID: a dashed UUID, or the 32 hex digits of a static
// pod's hash; it returns it lower-cased.
func podUID(s string) (string, bool) {
	s = strings.ToLower(s)
	switch len(s) {
	case 36:
		for i := range len(s) {
			c := s[i]
			switch i {
			case 8, 13, 18, 23:
				if c != '-' {
					return "", false
				}
			default:
				if !isHex(c) {
					return "", false
				}
			}
		}
		return s, true
	case 32:
		for i := range len(s) {
			if !isHex(s[i]) {
				return "", false
			}
		}
		return s, true
	}
	return "", false
}

// isHex reports a lower-case hex digit.
func isHex(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') }

// cgroupLine is one line of /proc/<pid>/cgroup.
type cgroupLine struct {
	controllers string // "" for the v2 line, "memory", "name=systemd"
	path        string
	v2          bool
}

// parseCgroupFile splits /proc/<pid>/cgroup into lines
// "hierarchy-id:controllers:path"; malformed lines are skipped.
func parseCgroupFile(data string) []cgroupLine {
	var out []cgroupLine
	for line := range strings.SplitSeq(data, "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctl, path, ok := strings.Cut(rest, ":")
		if !ok || !strings.HasPrefix(path, "/") {
			continue
		}
		out = append(out, cgroupLine{controllers: ctl, path: path, v2: id == "0" && ctl == ""})
	}
	return out
}

// attributeCgroups picks the attribution from a process's cgroup lines:
// the v2 path when it names a pod, else the first v1 line that does. It
// returns the v2 path and, when used, the v1 line.
func attributeCgroups(lines []cgroupLine) (v2, v1 string, a Attribution) {
	for _, l := range lines {
		if l.v2 {
			v2 = l.path
			if at, ok := ParseCgroupPath(l.path); ok {
				return v2, "", at
			}
		}
	}
	for _, l := range lines {
		if l.v2 {
			continue
		}
		if at, ok := ParseCgroupPath(l.path); ok {
			return v2, l.controllers + ":" + l.path, at
		}
	}
	return v2, "", Attribution{}
}
