package procscan

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// statID stats name (following a /proc magic link to the file it names)
// and returns its device and inode, and whether it is a regular file.
func statID(name string) (Dev, uint64, bool, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return Dev{}, 0, false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Dev{}, 0, fi.Mode().IsRegular(), nil
	}
	dev := uint64(st.Dev) //nolint:unconvert // uint32 on some arches
	return Dev{Major: unix.Major(dev), Minor: unix.Minor(dev)}, st.Ino, fi.Mode().IsRegular(), nil
}
