//go:build !linux

package procscan

import "os"

// statID stats name; outside Linux there is no device and inode to give.
func statID(name string) (Dev, uint64, bool, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return Dev{}, 0, false, err
	}
	return Dev{}, 0, fi.Mode().IsRegular(), nil
}
