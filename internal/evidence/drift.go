package evidence

// Drift is what one running container's live root filesystem
// (/proc/<pid>/root) holds that its image, read from the runtime's
// content store, does not.
type Drift struct {
	// Packages are in the live root's inventory and not in the image's
	// (compared by type, name and version): installed or upgraded at
	// runtime. Sorted by type, name, version.
	Packages []Package `json:"packages"`
	// Files are regular files and symlinks of the live root that the
	// image's layers do not have (added) or have otherwise (modified:
	// another size, mode, modification time or link target), and every
	// file a process executes or maps that the image does not have.
	// Files in use come first, then executables, then by path; at most
	// the agent's cap are listed, FilesChanged counts them all.
	Files        []DriftFile `json:"files"`
	FilesChanged int         `json:"files_changed"`
	// Compared is how many entries of the live root were compared with
	// the image. Mounts (volumes, secrets, /proc, /etc/hosts) are not
	// part of the root filesystem and are not walked.
	Compared int `json:"compared"`
	// Complete is false when the check was cut (its time or file cap)
	// or part of the live root or image could not be read; Reason says
	// what. A drift that is not complete may miss changes, never
	// invent them.
	Complete bool   `json:"complete"`
	Reason   string `json:"reason,omitempty"`
	// DurationMS is how long the check took.
	DurationMS int64 `json:"duration_ms"`
}

// Drift file changes.
const (
	// DriftAdded is a file the image does not have.
	DriftAdded = "added"
	// DriftModified is a file the image has with another size, mode,
	// modification time or symlink target.
	DriftModified = "modified"
)

// DriftFile is one file of a container's live root that its image does
// not have as it is.
type DriftFile struct {
	// Path is the path inside the container.
	Path string `json:"path"`
	// Change is DriftAdded or DriftModified.
	Change string `json:"change"`
	// Size and Mode ("-rwxr-xr-x", "Lrwxrwxrwx") as the live root has it;
	// Target a symlink's target.
	Size   int64  `json:"size"`
	Mode   string `json:"mode"`
	Target string `json:"target,omitempty"`
	// Executable says the file is an ELF object, a "#!" script, or has
	// an execute bit.
	Executable bool `json:"executable,omitempty"`
	// State is result.RuntimeExecuted when a process runs it,
	// RuntimeLoaded when one maps it; empty when no process uses it.
	State string `json:"state,omitempty"`
	PIDs  []int  `json:"pids,omitempty"`
	// Gone says the live root no longer has the file a process runs or
	// maps: deleted after it started, or an in-memory file (memfd).
	Gone bool `json:"gone,omitempty"`
	// Owner names the live package whose file list holds it (a package
	// installed at runtime); empty when no package owns it.
	Owner string `json:"owner,omitempty"`
}
