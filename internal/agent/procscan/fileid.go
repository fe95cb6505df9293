package procscan

import (
	"fmt"
	"strconv"
	"strings"
)

// Dev is a device number as the kernel prints it in maps ("fd:01" is
// major 253, minor 1).
type Dev struct {
	Major uint32
	Minor uint32
}

// String returns "major:minor" in decimal ("253:1"), as mountinfo and
// lsblk print it.
func (d Dev) String() string {
	return strconv.FormatUint(uint64(d.Major), 10) + ":" + strconv.FormatUint(uint64(d.Minor), 10)
}

// MarshalText encodes the device as String does.
func (d Dev) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes "major:minor" in decimal.
func (d *Dev) UnmarshalText(b []byte) error {
	maj, mnr, ok := strings.Cut(string(b), ":")
	if !ok {
		return fmt.Errorf("procscan: device %q: want major:minor", b)
	}
	a, err := strconv.ParseUint(maj, 10, 32)
	if err != nil {
		return fmt.Errorf("procscan: device %q: %w", b, err)
	}
	c, err := strconv.ParseUint(mnr, 10, 32)
	if err != nil {
		return fmt.Errorf("procscan: device %q: %w", b, err)
	}
	d.Major, d.Minor = uint32(a), uint32(c)
	return nil
}

// parseMapsDev decodes the hexadecimal "major:minor" of a maps line.
func parseMapsDev(s string) (Dev, bool) {
	maj, mnr, ok := strings.Cut(s, ":")
	if !ok {
		return Dev{}, false
	}
	a, err1 := strconv.ParseUint(maj, 16, 32)
	c, err2 := strconv.ParseUint(mnr, 16, 32)
	if err1 != nil || err2 != nil {
		return Dev{}, false
	}
	return Dev{Major: uint32(a), Minor: uint32(c)}, true
}

// FileID names a file as the kernel reports it: the path in the process's
// mount namespace and the device and inode of the file. Dev and Inode are
// zero when the file could not be stat'ed.
//
// On overlayfs (a container's root) the two sources differ: stat through
// /proc/<pid>/exe or fd/N gives the overlay's device, while maps prints the
// path as the container sees it with the device and inode of the layer's
// file underneath (the kernel maps the real file). Match maps entries on
// the layer's device and exe and fd entries on the overlay's.
type FileID struct {
	Path  string `json:"path"`
	Dev   Dev    `json:"dev,omitzero"`
	Inode uint64 `json:"inode,omitempty"`
	// Deleted says the kernel marked the path " (deleted)": the file was
	// unlinked or replaced after it was opened (Path has the mark cut).
	Deleted bool `json:"deleted,omitempty"`
}

// key identifies the file for deduplication.
func (f FileID) key() fileKey { return fileKey{f.Path, f.Dev, f.Inode} }

// fileKey is a FileID without the deleted mark.
type fileKey struct {
	path  string
	dev   Dev
	inode uint64
}

// Mapping is one distinct file mapped into a process.
type Mapping struct {
	FileID
	// Exec says at least one mapping of the file is executable (code
	// loaded from it, as opposed to data read from it).
	Exec bool `json:"exec,omitempty"`
	// BuildID is the GNU build ID of an executable mapping's ELF file, in
	// hex, when Options.BuildIDs asked for it and the file has one.
	BuildID string `json:"build_id,omitempty"`
}

// deletedSuffix is what the kernel appends to a path whose file is gone.
const deletedSuffix = " (deleted)"

// cutDeleted removes the kernel's " (deleted)" mark.
func cutDeleted(p string) (string, bool) {
	if s, ok := strings.CutSuffix(p, deletedSuffix); ok {
		return s, true
	}
	return p, false
}
