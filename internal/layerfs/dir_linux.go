package layerfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openNonblock keeps a fifo swapped in after the type check from blocking.
const openNonblock = unix.O_NONBLOCK

// resolveFlags confine every lookup to the root (absolute symlinks and ".."
// are resolved against it) and refuse /proc magic links, which could point
// anywhere on the host when a container's /proc is visible.
const resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openat2Backend does each lookup in one openat2(RESOLVE_IN_ROOT) call.
type openat2Backend struct {
	root *os.File // O_PATH directory
	fd   int
}

// newNativeBackend returns the openat2 backend, or nil when the kernel
// lacks openat2 (before 5.6, or filtered by seccomp).
func newNativeBackend(root string) (backend, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	b := &openat2Backend{root: os.NewFile(uintptr(fd), root), fd: fd}
	probe, err := b.openat(".", unix.O_PATH)
	if err != nil {
		b.root.Close()
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			return nil, nil
		}
		return nil, &fs.PathError{Op: "openat2", Path: root, Err: err}
	}
	unix.Close(probe)
	return b, nil
}

func (b *openat2Backend) openat(name string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolveFlags}
	for range 64 {
		fd, err := unix.Openat2(b.fd, name, &how)
		// EAGAIN: a concurrent rename or mount; the kernel asks to retry.
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err == unix.ELOOP {
			err = fmt.Errorf("%w (%w)", ErrSymlinkLoop, err)
		}
		return fd, err
	}
	return -1, unix.EAGAIN
}

func fstat(fd int) (unix.Stat_t, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstat(fd, &st)
		if err != unix.EINTR {
			return st, err
		}
	}
}

func (b *openat2Backend) open(name string) (*os.File, fs.FileInfo, error) {
	pfd, err := b.openat(name, unix.O_PATH)
	if err != nil {
		return nil, nil, err
	}
	st, err := fstat(pfd)
	unix.Close(pfd)
	if err != nil {
		return nil, nil, err
	}
	t := st.Mode & unix.S_IFMT
	if t != unix.S_IFREG && t != unix.S_IFDIR {
		// Never open devices or fifos: opening can block or have effects.
		return nil, statInfo(name, &st), nil
	}
	flags := unix.O_RDONLY | unix.O_NOCTTY | unix.O_NONBLOCK
	if t == unix.S_IFDIR {
		flags |= unix.O_DIRECTORY
	}
	fd, err := b.openat(name, flags)
	if err != nil {
		return nil, nil, err
	}
	st2, err := fstat(fd)
	if err != nil || st2.Dev != st.Dev || st2.Ino != st.Ino {
		unix.Close(fd)
		return nil, nil, errChanged
	}
	// O_NONBLOCK only guarded the open; reads are ordinary blocking ones.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, nil, err
	}
	return os.NewFile(uintptr(fd), name), statInfo(name, &st2), nil
}

func (b *openat2Backend) stat(name string, follow bool) (fs.FileInfo, error) {
	flags := unix.O_PATH
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := b.openat(name, flags)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	st, err := fstat(fd)
	if err != nil {
		return nil, err
	}
	return statInfo(name, &st), nil
}

func (b *openat2Backend) readlink(name string) (string, error) {
	fd, err := b.openat(name, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	st, err := fstat(fd)
	if err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", fs.ErrInvalid
	}
	buf := make([]byte, st.Size+1)
	if len(buf) < 256 || len(buf) > unix.PathMax+1 {
		buf = make([]byte, unix.PathMax+1)
	}
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func (b *openat2Backend) close() error { return b.root.Close() }

// statInfo converts fstat results the way os does.
func statInfo(name string, st *unix.Stat_t) fs.FileInfo {
	m := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return &hostInfo{
		name:  name,
		size:  st.Size,
		mode:  m,
		mtime: time.Unix(st.Mtim.Unix()),
		sys:   syscall.Stat_t{Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Mode: st.Mode, Size: st.Size},
	}
}

// hostInfo is fstat metadata.
type hostInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	// sys holds the device, inode, link count, mode and size, as os
	// gives them through Sys.
	sys syscall.Stat_t
}

func (h *hostInfo) Name() string       { return h.name }
func (h *hostInfo) Size() int64        { return h.size }
func (h *hostInfo) Mode() fs.FileMode  { return h.mode }
func (h *hostInfo) ModTime() time.Time { return h.mtime }
func (h *hostInfo) IsDir() bool        { return h.mode.IsDir() }
func (h *hostInfo) Sys() any           { return &h.sys }
