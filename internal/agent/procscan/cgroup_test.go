package procscan

import "testing"

const (
	cid  = "4f1c0e0d8c5b9a2e7f6d3c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"
	puid = "0b7e6a52-3c1d-4e8f-9a2b-5c6d7e8f9a0b"
	// puidU is puid as systemd slice names spell it.
	puidU = "0b7e6a52_3c1d_4e8f_9a2b_5c6d7e8f9a0b"
	// static is a static pod's UID: the hash of its manifest.
	static = "6c4ad8f2a6c0d1f03b9e2c7a5d4e1f08"
)

func TestParseCgroupPath(t *testing.T) {
	tests := []struct {
		name, path string
		want       Attribution
		ok         bool
	}{
		{"systemd containerd burstable",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + puidU + ".slice/cri-containerd-" + cid + ".scope",
			Attribution{PodUID: puid, ContainerID: cid, Runtime: "containerd", QoS: "burstable",
				Cgroup: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + puidU + ".slice/cri-containerd-" + cid + ".scope"}, true},
		{"systemd crio besteffort",
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + puidU + ".slice/crio-" + cid + ".scope",
			Attribution{PodUID: puid, ContainerID: cid, Runtime: "cri-o", QoS: "besteffort",
				Cgroup: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + puidU + ".slice/crio-" + cid + ".scope"}, true},
		{"systemd docker guaranteed",
			"/kubepods.slice/kubepods-pod" + puidU + ".slice/docker-" + cid + ".scope",
			Attribution{PodUID: puid, ContainerID: cid, Runtime: "docker", QoS: "guaranteed",
				Cgroup: "/kubepods.slice/kubepods-pod" + puidU + ".slice/docker-" + cid + ".scope"}, true},
		{"systemd crio conmon is of the pod only",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + puidU + ".slice/crio-conmon-" + cid + ".scope",
			Attribution{PodUID: puid, QoS: "burstable",
				Cgroup: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + puidU + ".slice"}, true},
		{"systemd sub-cgroup inside the container",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + puidU + ".slice/cri-containerd-" + cid + ".scope/init.scope",
			Attribution{PodUID: puid, ContainerID: cid, Runtime: "containerd", QoS: "burstable",
				Cgroup: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + puidU + ".slice/cri-containerd-" + cid + ".scope"}, true},
		{"kind systemd under kubelet.slice",
			"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + puidU + ".slice/cri-containerd-" + cid + ".scope",
			Attribution{PodUID: puid, ContainerID: cid, Runtime: "containerd", QoS: "besteffort",
				Cgroup: "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + puidU + ".slice/cri-containerd-" + cid + ".scope"}, true},
		{"cgroupfs burstable",
			"/kubepods/burstable/pod" + puid + "/" + cid,
			Attribution{PodUID: puid, ContainerID: cid, QoS: "burstable", Cgroup: "/kubepods/burstable/pod" + puid + "/" + cid}, true},
		{"cgroupfs guaranteed",
			"/kubepods/pod" + puid + "/" + cid,
			Attribution{PodUID: puid, ContainerID: cid, QoS: "guaranteed", Cgroup: "/kubepods/pod" + puid + "/" + cid}, true},
		{"cgroupfs crio",
			"/kubepods/besteffort/pod" + puid + "/crio-" + cid,
			Attribution{PodUID: puid, ContainerID: cid, Runtime: "cri-o", QoS: "besteffort", Cgroup: "/kubepods/besteffort/pod" + puid + "/crio-" + cid}, true},
		{"cgroupfs nested root of a local cluster",
			"/runlens-full/kubepods/besteffort/pod" + puid + "/" + cid,
			Attribution{PodUID: puid, ContainerID: cid, QoS: "besteffort", Cgroup: "/runlens-full/kubepods/besteffort/pod" + puid + "/" + cid}, true},
		{"cgroupfs below docker (kind on cgroupfs)",
			"/docker/" + cid + "/kubepods/burstable/pod" + puid + "/" + cid[:63] + "0",
			Attribution{PodUID: puid, ContainerID: cid[:63] + "0", QoS: "burstable", Cgroup: "/docker/" + cid + "/kubepods/burstable/pod" + puid + "/" + cid[:63] + "0"}, true},
		{"seen from another cgroup namespace",
			"/../../kubepods/besteffort/pod" + puid + "/" + cid,
			Attribution{PodUID: puid, ContainerID: cid, QoS: "besteffort", Cgroup: "/../../kubepods/besteffort/pod" + puid + "/" + cid}, true},
		{"static pod uid",
			"/kubepods/burstable/pod" + static + "/" + cid,
			Attribution{PodUID: static, ContainerID: cid, QoS: "burstable", Cgroup: "/kubepods/burstable/pod" + static + "/" + cid}, true},
		{"pod cgroup itself",
			"/kubepods/besteffort/pod" + puid,
			Attribution{PodUID: puid, QoS: "besteffort", Cgroup: "/kubepods/besteffort/pod" + puid}, true},
		{"upper-case hex uid is normalised",
			"/kubepods/pod0B7E6A52-3C1D-4E8F-9A2B-5C6D7E8F9A0B/" + cid,
			Attribution{PodUID: puid, ContainerID: cid, QoS: "guaranteed", Cgroup: "/kubepods/pod0B7E6A52-3C1D-4E8F-9A2B-5C6D7E8F9A0B/" + cid}, true},
		{"host: root", "/", Attribution{}, false},
		{"host: systemd service", "/system.slice/containerd.service", Attribution{}, false},
		{"host: kubepods qos cgroup without a pod", "/kubepods.slice/kubepods-burstable.slice", Attribution{}, false},
		{"host: pod-like name outside kubepods", "/system.slice/pod" + puid + "/" + cid, Attribution{}, false},
		{"host: docker container", "/system.slice/docker-" + cid + ".scope", Attribution{}, false},
		{"not a uid", "/kubepods/besteffort/podnot-a-uid/" + cid, Attribution{}, false},
		{"not a container id below the pod",
			"/kubepods/besteffort/pod" + puid + "/not-hex",
			Attribution{PodUID: puid, QoS: "besteffort", Cgroup: "/kubepods/besteffort/pod" + puid}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseCgroupPath(tt.path)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseCgroupPath(%q)\n = %+v, %v\nwant %+v, %v", tt.path, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAttributeCgroups(t *testing.T) {
	kube := "/kubepods/besteffort/pod" + puid + "/" + cid
	tests := []struct {
		name, file     string
		wantV2, wantV1 string
		wantID         string
	}{
		{"v2 only", "0::" + kube + "\n", kube, "", cid},
		{"hybrid: v2 names the pod", "12:memory:/\n1:name=systemd:/\n0::" + kube + "\n", kube, "", cid},
		{"hybrid: only a v1 line names the pod",
			"12:pids:/\n4:memory:" + kube + "\n1:name=systemd:/system.slice\n0::/\n", "/", "memory:" + kube, cid},
		{"host", "9:name=systemd:/\n4:memory:/process_api/9de270b6\n0::/\n", "/", "", ""},
		{"malformed lines skipped", "garbage\n0:x\n0::" + kube + "\n", kube, "", cid},
		{"v1 host only", "4:cpu,cpuacct:/user.slice\n", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v2, v1, a := attributeCgroups(parseCgroupFile(tt.file))
			if v2 != tt.wantV2 || v1 != tt.wantV1 || a.ContainerID != tt.wantID {
				t.Errorf("got v2=%q v1=%q id=%q; want %q %q %q", v2, v1, a.ContainerID, tt.wantV2, tt.wantV1, tt.wantID)
			}
		})
	}
}
