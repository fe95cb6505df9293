//go:build unix

package vulndb

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps f read-only. The mapping stays valid after the file is
// renamed over or unlinked, which is what lets a reader keep working while
// an update swaps in a new database.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	if int64(int(size)) != size {
		return nil, nil, fmt.Errorf("database of %d bytes is too large to map", size)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: %w", err)
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}

// lockFile takes an exclusive advisory lock, waiting for another updater.
// The kernel drops it when the process dies, so a killed import never
// leaves a stale lock behind.
func lockFile(f *os.File, nonBlocking bool) error {
	how := syscall.LOCK_EX
	if nonBlocking {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		if err == syscall.EWOULDBLOCK {
			return errLocked
		}
		return err
	}
	return nil
}
