package procscan

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// statID stats name (following a /proc magic link to the file it names)
// and returns its device and inode, and whether it is a regular file.
//
// It asks statx not to sync (AT_STATX_DONT_SYNC): FUSE and NFS then answer
// from their cached attributes instead of asking a server, so a hung
// mount in some container does not hang the scan.
func statID(name string) (Dev, uint64, bool, error) {
	var st unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, name, unix.AT_STATX_DONT_SYNC, unix.STATX_TYPE|unix.STATX_INO, &st)
	if errors.Is(err, unix.ENOSYS) {
		return statPlain(name)
	}
	if err != nil {
		return Dev{}, 0, false, &os.PathError{Op: "statx", Path: name, Err: err}
	}
	regular := st.Mode&unix.S_IFMT == unix.S_IFREG
	return Dev{Major: st.Dev_major, Minor: st.Dev_minor}, st.Ino, regular, nil
}

// statPlain is statID for kernels without statx (before 4.11).
func statPlain(name string) (Dev, uint64, bool, error) {
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
