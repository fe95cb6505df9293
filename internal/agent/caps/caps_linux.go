//go:build linux

package caps

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Current reads the calling thread's capabilities.
func Current() (State, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return State{}, fmt.Errorf("capget: %w", err)
	}
	join := func(lo, hi uint32) Set { return Set(uint64(hi)<<32 | uint64(lo)) }
	return State{
		Effective:   join(data[0].Effective, data[1].Effective),
		Permitted:   join(data[0].Permitted, data[1].Permitted),
		Inheritable: join(data[0].Inheritable, data[1].Inheritable),
	}, nil
}

// Drop leaves every thread of the process with keep ∩ what it has in
// its effective and permitted sets and nothing inheritable or ambient;
// with CAP_SETPCAP it also removes the rest from the bounding set. It
// then sets no_new_privs, so no exec can gain any back. It returns what
// the process has after.
func Drop(keep Set) (State, error) {
	cur, err := Current()
	if err != nil {
		return cur, err
	}
	if cur.Effective.Has(CapSetPCap) {
		for c := Cap(0); c <= lastCap(); c++ {
			if keep.Has(c) {
				continue
			}
			if _, _, e := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); e != 0 && e != unix.EINVAL {
				return cur, dropErr("bounding set", e)
			}
		}
	}
	if _, _, e := allThreads(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); e != 0 && e != unix.EINVAL {
		return cur, dropErr("ambient set", e)
	}
	want := keep & cur.Permitted
	if err := capsetAll(State{Effective: want & cur.Effective, Permitted: want}); err != nil {
		return cur, err
	}
	if _, _, e := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); e != 0 {
		return cur, dropErr("no_new_privs", e)
	}
	return Current()
}

func dropErr(what string, e unix.Errno) error {
	if e == unix.ENOTSUP {
		return fmt.Errorf("dropping capabilities (%s): %w", what, ErrThreads)
	}
	return fmt.Errorf("dropping capabilities (%s): %w", what, e)
}

// lastCap is the highest capability this kernel knows: the last the
// bounding set can be asked about.
func lastCap() Cap {
	c := Cap(0)
	for c < 63 {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c+1), 0, 0, 0); err != nil {
			break
		}
		c++
	}
	return c
}

// allThreads runs a system call on every thread of the process (the
// kernel keeps capabilities per thread); ENOTSUP in a cgo build.
func allThreads(trap, a1, a2, a3 uintptr) (uintptr, uintptr, unix.Errno) {
	r1, r2, e := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	return r1, r2, unix.Errno(e)
}

// capsetAll sets s on every thread.
func capsetAll(s State) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(s.Effective), Permitted: uint32(s.Permitted), Inheritable: uint32(s.Inheritable)},
		{Effective: uint32(s.Effective >> 32), Permitted: uint32(s.Permitted >> 32), Inheritable: uint32(s.Inheritable >> 32)},
	}
	_, _, e := allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if e != 0 {
		return dropErr("capset", e)
	}
	return nil
}
