// Package evidence is the model of what the node agent saw of running
// containers: which packages of which image were executed, loaded or
// listening, over which observation window, in which pods. The agent
// writes a Document (`runlens agent --once -o evidence.json`, or
// `GET /v1/evidence`); `runlens scan cluster --evidence` reads it back and
// the ranking takes each package's runtime state from it.
//
// A container may carry Drift: what its live root filesystem has that
// its image does not — packages installed and files written or dropped
// after it started (Container.Drift; absent when not checked, empty
// lists when checked and nothing found). Drift is evidence of its own:
// its packages are not in the image's inventory, so the scan of the
// image never lists them.
//
// The package holds the model and the joining of records to workloads
// only; it imports nothing that reads /proc, BPF or the CRI.
package evidence

import (
	"time"

	"github.com/runlens/runlens/internal/result"
)

// SchemaVersion is the version of the evidence document.
// 1.1 added Container.Drift and Package.Type.
const SchemaVersion = "1.1"

// Document is one agent's evidence from one node.
type Document struct {
	SchemaVersion string    `json:"schema_version"`
	Node          string    `json:"node"`
	CreatedAt     time.Time `json:"created_at"`
	// Window is the agent's own observation: when it started watching,
	// up to when, and whether it saw everything (no dropped events, no
	// gaps). A record's window is never more complete than this one.
	Window result.Window `json:"window"`
	// Containers are the containers the agent watched.
	Containers []Container `json:"containers"`
	// Records are the packages seen (or watched and not seen) per image.
	Records []Record `json:"records"`
	// Problems are what the agent could not do (a container whose root
	// could not be read, a BPF program that did not attach).
	Problems []string `json:"problems,omitempty"`
}

// Container is one running container as the runtime reports it.
type Container struct {
	// ID is the runtime's container id.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Pod identifies the pod (from the runtime's labels, or the cgroup
	// path's pod<uid> for the UID).
	PodName      string `json:"pod_name,omitempty"`
	PodNamespace string `json:"pod_namespace,omitempty"`
	PodUID       string `json:"pod_uid,omitempty"`
	// Image is the reference the runtime names; Digest the manifest
	// digest it runs ("sha256:…").
	Image  string `json:"image,omitempty"`
	Digest string `json:"digest,omitempty"`
	// CgroupPath is the container's cgroup (v2, below the mount); PIDs its
	// processes when last looked.
	CgroupPath string    `json:"cgroup_path,omitempty"`
	PIDs       []int     `json:"pids,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	// Window is how long the agent watched this container.
	Window result.Window `json:"window"`
	// Drift is what the live root has that the image does not; nil when
	// it was not checked (drift off, or the image was read from the live
	// root itself, so there is nothing to compare with).
	Drift *Drift `json:"drift,omitempty"`
}

// Package identifies a package of an image as the inventory names it;
// it matches a finding's package by name, version and location.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem,omitempty"`
	PURL      string `json:"purl,omitempty"`
	Location  string `json:"location,omitempty"`
	// Type is the inventory's package type (deb, apk, rpm, npm, python,
	// go-binary, …); set on drift packages.
	Type string `json:"type,omitempty"`
}

// Record is what was seen of one package of one image in one pod.
type Record struct {
	// Digest is the image's manifest digest; Package the package.
	Digest  string  `json:"digest"`
	Package Package `json:"package"`
	// PodUID, PodNamespace and PodName say where; Containers the
	// container ids.
	PodUID       string   `json:"pod_uid,omitempty"`
	PodNamespace string   `json:"pod_namespace,omitempty"`
	PodName      string   `json:"pod_name,omitempty"`
	Containers   []string `json:"containers,omitempty"`
	// State is result.RuntimeExecuted, RuntimeLoaded, RuntimeListening or
	// RuntimeNotObserved.
	State string `json:"state"`
	// FirstSeen and LastSeen bound the uses seen (absent for not-observed).
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Window is the observation the state rests on.
	Window result.Window `json:"window"`
	// PIDs that used it; Files, Symbols and Ports that prove it
	// ("/usr/lib/x86_64-linux-gnu/libssl.so.3", "net/http.(*Server).Serve",
	// "tcp/8080").
	PIDs  []int    `json:"pids,omitempty"`
	Files []string `json:"files,omitempty"`
	// BuildIDs are the GNU build IDs (hex) of the ELF files among Files
	// that carry one, by file: the exact build that was loaded.
	BuildIDs map[string]string `json:"build_ids,omitempty"`
	Symbols  []string          `json:"symbols,omitempty"`
	Ports    []string          `json:"ports,omitempty"`
}
