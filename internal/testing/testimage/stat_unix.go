//go:build unix

package testimage

import (
	"io/fs"
	"syscall"
)

// statOf returns the inode identity and link count of fi.
func statOf(fi fs.FileInfo) fileStat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{nlink: 1}
	}
	return fileStat{id: fileID{dev: uint64(st.Dev), ino: st.Ino}, nlink: uint64(st.Nlink)}
}
