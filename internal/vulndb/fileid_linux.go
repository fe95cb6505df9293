//go:build linux

package vulndb

import (
	"os"
	"syscall"
)

// identify returns what changes whenever the file at fi is written through
// the filesystem: device, inode, size, mtime and ctime (ctime cannot be set
// from user space, so restoring mtime with touch still changes it).
func identify(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{
		Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size, // widths vary by arch
		MtimeNS: st.Mtim.Nano(), CtimeNS: st.Ctim.Nano(),
	}, true
}
