//go:build unix

package layerfs

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openFlags make an open return at once whatever the file turned out to be.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY

// clearNonblock puts f back in blocking mode once it is known to be a
// regular file, so reads behave as on any file opened normally.
func clearNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("clear O_NONBLOCK: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetNonblock(int(fd), false) }); err != nil {
		return fmt.Errorf("clear O_NONBLOCK: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("clear O_NONBLOCK: %w", serr)
	}
	return nil
}
