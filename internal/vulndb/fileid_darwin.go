//go:build darwin

package vulndb

import (
	"os"
	"syscall"
)

// identify returns what changes whenever the file at fi is written through
// the filesystem: device, inode, size, mtime and ctime.
func identify(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{
		Dev: uint64(st.Dev), Ino: st.Ino, Size: st.Size,
		MtimeNS: st.Mtimespec.Nano(), CtimeNS: st.Ctimespec.Nano(),
	}, true
}
